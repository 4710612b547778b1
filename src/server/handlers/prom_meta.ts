/**
 * The metadata routes of the Prometheus HTTP API: series, label names,
 * label values, metric metadata, build info, TSDB status and exemplars.
 * Every read goes through the tenant's querier, so isolation holds.
 * @module
 */
import { z } from "zod";
import { type Labels, labelsKey } from "../../model/labels.ts";
import type { Matcher } from "../../model/matcher.ts";
import { ParseError } from "../../promql/errors.ts";
import { parseMetricSelector } from "../../promql/parser.ts";
import { compareLabels } from "../../promql/eval_labels.ts";
import type { Handler } from "../context.ts";
import { promSuccess, promSuccessRaw } from "../http/envelope.ts";
import { HttpError } from "../http/errors.ts";
import {
  type FormValues,
  limitParam,
  MAX_TIME_MS,
  MIN_TIME_MS,
  parseParams,
  readForm,
  timeParam,
} from "../http/params.ts";
import { labelsJson } from "../http/prom_json.ts";

const rangeSchema = z.object({
  start: timeParam("start").optional(),
  end: timeParam("end").optional(),
  limit: limitParam().optional(),
});

const TRUNCATED = "results truncated due to limit";

/** The matcher sets of every `match[]` value (400 on a bad selector). */
function matcherSets(form: FormValues): Matcher[][] {
  const out: Matcher[][] = [];
  for (const text of form.get("match[]") ?? []) {
    try {
      out.push(parseMetricSelector(text));
    } catch (e) {
      if (e instanceof ParseError) {
        throw new HttpError(
          400,
          "bad_data",
          `invalid parameter "match[]": ${e.message}`,
        );
      }
      throw e;
    }
  }
  return out;
}

function range(form: FormValues) {
  const p = parseParams(form, rangeSchema);
  const start = p.start ?? MIN_TIME_MS;
  const end = p.end ?? MAX_TIME_MS;
  if (end < start) {
    throw new HttpError(
      400,
      "bad_data",
      'invalid parameter "end": end timestamp must not be before start time',
    );
  }
  return { start, end, limit: p.limit ?? 0 };
}

/** GET|POST /api/v1/series */
export const handleSeries: Handler = async (req, ctx) => {
  const form = await readForm(req);
  const sets = matcherSets(form);
  if (sets.length === 0) {
    throw new HttpError(400, "bad_data", "no match[] parameter provided");
  }
  const { start, end, limit } = range(form);
  const q = ctx.db.querier(ctx.tenant, start, end);
  try {
    const byKey = new Map<string, Labels>();
    for (const matchers of sets) {
      for (const s of q.select(matchers)) {
        byKey.set(labelsKey(s.labels), s.labels);
      }
    }
    let all = [...byKey.values()];
    if (sets.length > 1) all.sort(compareLabels);
    const warnings: string[] = [];
    if (limit > 0 && all.length > limit) {
      all = all.slice(0, limit);
      warnings.push(TRUNCATED);
    }
    return promSuccessRaw(`[${all.map(labelsJson).join(",")}]`, warnings);
  } finally {
    q.close();
  }
};

function truncate(values: string[], limit: number) {
  if (limit > 0 && values.length > limit) {
    return { values: values.slice(0, limit), warnings: [TRUNCATED] };
  }
  return { values, warnings: [] };
}

/** Union of per-matcher-set answers, sorted (Prometheus sorts by Go string order). */
function union(lists: string[][]): string[] {
  if (lists.length === 1) return lists[0];
  const set = new Set<string>();
  for (const l of lists) for (const v of l) set.add(v);
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** GET|POST /api/v1/labels */
export const handleLabels: Handler = async (req, ctx) => {
  const form = await readForm(req);
  const sets = matcherSets(form);
  const { start, end, limit } = range(form);
  const q = ctx.db.querier(ctx.tenant, start, end);
  try {
    const names = union(
      sets.length ? sets.map((m) => q.labelNames(m)) : [q.labelNames()],
    );
    const r = truncate(names, limit);
    return promSuccess(r.values, r.warnings);
  } finally {
    q.close();
  }
};

/** GET /api/v1/label/<name>/values */
export const handleLabelValues: Handler = async (req, ctx) => {
  const name = ctx.params.name ?? "";
  if (name === "" || !isWellFormedUtf16(name)) {
    throw new HttpError(400, "bad_data", `invalid label name: "${name}"`);
  }
  const form = await readForm(req);
  const sets = matcherSets(form);
  const { start, end, limit } = range(form);
  const q = ctx.db.querier(ctx.tenant, start, end);
  try {
    const values = union(
      sets.length
        ? sets.map((m) => q.labelValues(name, m))
        : [q.labelValues(name)],
    );
    const r = truncate(values, limit);
    return promSuccess(r.values, r.warnings);
  } finally {
    q.close();
  }
};

function isWellFormedUtf16(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
    .test(s);
}

/** One metric family's metadata as /api/v1/metadata lists it. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/** Where metadata comes from (remote write, pushes, typed metrics). */
export interface MetadataSource {
  /** Metadata per metric name for a tenant, optionally one metric only. */
  metadata(tenant: string, metric?: string): Map<string, MetricMetadata[]>;
}

const metadataSchema = z.object({
  metric: z.string().optional(),
  limit: limitParam().optional(),
  limit_per_metric: limitParam().optional(),
});

/** GET /api/v1/metadata, over a metadata source. */
export function metadataHandler(source: MetadataSource): Handler {
  return async (req, ctx) => {
    const form = await readForm(req);
    const p = parseParams(form, metadataSchema);
    const all = source.metadata(ctx.tenant, p.metric || undefined);
    const out: Record<string, MetricMetadata[]> = {};
    let n = 0;
    for (const name of [...all.keys()].sort()) {
      if (p.limit && n >= p.limit) break;
      const list = all.get(name)!;
      out[name] = p.limit_per_metric ? list.slice(0, p.limit_per_metric) : list;
      n++;
    }
    return promSuccess(out);
  };
}

/** GET /api/v1/status/buildinfo, with the Prometheus API version it serves. */
export function buildInfoHandler(info: Record<string, string>): Handler {
  return () => Promise.resolve(promSuccess(info));
}

/** GET /api/v1/status/tsdb */
export const handleTsdbStatus: Handler = async (req, ctx) => {
  const form = await readForm(req);
  const p = parseParams(form, z.object({ limit: limitParam().optional() }));
  const limit = p.limit || 10;
  const s = ctx.db.stats(ctx.tenant, limit);
  return promSuccess({
    headStats: {
      numSeries: s.numSeries,
      numLabelPairs: s.numLabelPairs,
      minTime: s.minTime,
      maxTime: s.maxTime,
    },
    seriesCountByMetricName: s.seriesCountByMetricName,
    labelValueCountByLabelName: s.labelValueCountByLabelName,
    memoryInBytesByLabelName: s.memoryInBytesByLabelName,
    seriesCountByLabelValuePair: s.seriesCountByLabelValuePair,
  });
};

/** GET|POST /api/v1/query_exemplars: exemplars are not stored yet. */
export const handleQueryExemplars: Handler = async (req) => {
  const form = await readForm(req);
  if (!form.has("query")) {
    throw new HttpError(
      400,
      "bad_data",
      'invalid parameter "query": 1:1: parse error: no expression found in input',
    );
  }
  return promSuccess([]);
};

/**
 * GET /api/v1/rules and /api/v1/alerts: no recording or alerting rules are
 * evaluated here; Grafana lists these and expects the empty shapes.
 */
export const handleRules: Handler = () =>
  Promise.resolve(promSuccess({ groups: [] }));

/** GET /api/v1/alerts (see handleRules). */
export const handleAlerts: Handler = () =>
  Promise.resolve(promSuccess({ alerts: [] }));
