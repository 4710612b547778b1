/**
 * The Metrics API handlers: typed writes (single, batch, flux with events),
 * definitions, interval queries and the events read path, over one
 * MetricsStore. Errors are HttpError(status, code, message); the router
 * renders them as `{"error":{"code","message"}}`.
 * @module
 */
import type { Handler, RequestContext } from "../context.ts";
import { apiData } from "../http/envelope.ts";
import { HttpError } from "../http/errors.ts";
import { readText } from "../http/body.ts";
import type { MetricsStore, WriteOutcome } from "../../metricsapi/store.ts";
import {
  batchBody,
  checkEvent,
  checkMetric,
  fluxBody,
} from "../../metricsapi/schema.ts";
import type { Definition } from "../../metricsapi/series.ts";
import { formatTimestamp } from "../../metricsapi/time.ts";
import type {
  EventRecord,
  ItemError,
  Observation,
} from "../../metricsapi/types.ts";
import { parseEventsRequest, parseQueryRequest } from "./metrics_api_params.ts";
import { ResolutionError } from "../../metricsapi/query.ts";

/** The handlers the router wires (paths in the comments). */
export interface MetricsApiHandlers {
  /** POST /api/v1/metrics */
  postMetric: Handler;
  /** POST /api/v1/metrics/batch */
  postBatch: Handler;
  /** POST /api/v1/flux/batch */
  postFlux: Handler;
  /** GET /api/v1/metrics */
  listMetrics: Handler;
  /** GET /api/v1/metrics/:name */
  getMetric: Handler;
  /** GET /api/v1/metrics/:name/query */
  queryMetric: Handler;
  /** GET /api/v1/events */
  listEvents: Handler;
}

async function readJson(req: Request, ctx: RequestContext): Promise<unknown> {
  let text: string;
  try {
    text = await readText(req, ctx.limits.maxBodyBytes);
  } catch (e) {
    if (e instanceof HttpError && e.code === "bad_data") {
      throw new HttpError(400, "invalid_json", e.message);
    }
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}

function tooLarge(n: number, max: number): HttpError {
  return new HttpError(
    400,
    "batch_too_large",
    `${n} items in one batch; at most ${max}`,
  );
}

/** Validates items one by one: the good ones with their indices, and the refusals. */
function checkAll<T>(
  items: readonly unknown[],
  check: (
    item: unknown,
    now: number,
  ) => { ok: true; value: T } | {
    ok: false;
    error: { code: ItemError["code"]; message: string };
  },
  now: number,
) {
  const good: { index: number; item: T }[] = [];
  const errors: ItemError[] = [];
  items.forEach((raw, index) => {
    const r = check(raw, now);
    if (r.ok) good.push({ index, item: r.value });
    else errors.push({ index, ...r.error });
  });
  return { good, errors };
}

function summary(total: number, errors: ItemError[]) {
  errors.sort((a, b) => a.index - b.index);
  return { accepted: total - errors.length, rejected: errors.length, errors };
}

function definitionJson(d: Definition) {
  return {
    name: d.name,
    type: d.type,
    tags: [...d.tagKeys].sort(),
    first_seen: formatTimestamp(d.firstSeen),
    last_seen: formatTimestamp(d.lastSeen),
  };
}

/** Builds the handlers over a store (whose open/close the server owns). */
export function createMetricsApi(store: MetricsStore): MetricsApiHandlers {
  const write = (
    ctx: RequestContext,
    metrics: { index: number; item: Observation }[],
    events: { index: number; item: EventRecord }[],
  ): Promise<WriteOutcome> =>
    metrics.length + events.length === 0
      ? Promise.resolve({ metricErrors: [], eventErrors: [] })
      : store.write(ctx.tenant, { metrics, events });

  return {
    async postMetric(req, ctx) {
      const body = await readJson(req, ctx);
      const r = checkMetric(body, ctx.now());
      if (!r.ok) throw new HttpError(400, r.error.code, r.error.message);
      const out = await write(ctx, [{ index: 0, item: r.value }], []);
      const err = out.metricErrors[0];
      if (err) throw new HttpError(400, err.code, err.message);
      const o = r.value;
      return apiData({
        name: o.name,
        type: o.type,
        value: o.value,
        timestamp: formatTimestamp(o.t),
      });
    },

    async postBatch(req, ctx) {
      const parsed = batchBody.safeParse(await readJson(req, ctx));
      if (!parsed.success) {
        throw new HttpError(400, "invalid_body", 'expected {"metrics":[...]}');
      }
      const items = parsed.data.metrics;
      const max = ctx.limits.batchMaxItems;
      if (items.length > max) throw tooLarge(items.length, max);
      const { good, errors } = checkAll(items, checkMetric, ctx.now());
      const out = await write(ctx, good, []);
      return apiData(summary(items.length, [...errors, ...out.metricErrors]));
    },

    async postFlux(req, ctx) {
      const parsed = fluxBody.safeParse(await readJson(req, ctx));
      if (!parsed.success) {
        throw new HttpError(
          400,
          "invalid_body",
          'expected {"events":[...], "metrics":[...]}',
        );
      }
      const events = parsed.data.events ?? [];
      const metrics = parsed.data.metrics ?? [];
      const max = ctx.limits.batchMaxItems;
      const n = events.length + metrics.length;
      if (n > max) throw tooLarge(n, max);
      const now = ctx.now();
      const m = checkAll(metrics, checkMetric, now);
      const e = checkAll(events, checkEvent, now);
      const out = await write(ctx, m.good, e.good);
      return apiData({
        events: summary(events.length, [...e.errors, ...out.eventErrors]),
        metrics: summary(metrics.length, [...m.errors, ...out.metricErrors]),
      });
    },

    listMetrics(_req, ctx) {
      return Promise.resolve(
        apiData(store.definitions(ctx.tenant).map(definitionJson)),
      );
    },

    getMetric(_req, ctx) {
      const d = found(store.definition(ctx.tenant, ctx.params.name ?? ""));
      return Promise.resolve(
        apiData({ ...definitionJson(d), data_points: d.dataPoints }),
      );
    },

    queryMetric(req, ctx) {
      const name = ctx.params.name ?? "";
      const d = found(store.definition(ctx.tenant, name));
      const q = parseQueryRequest(new URL(req.url), d, ctx.now());
      try {
        return Promise.resolve(apiData(store.query(ctx.tenant, q)));
      } catch (e) {
        if (e instanceof ResolutionError) {
          throw new HttpError(400, "invalid_interval", e.message);
        }
        throw e;
      }
    },

    listEvents(req, ctx) {
      const q = parseEventsRequest(new URL(req.url));
      const page = store.events(ctx.tenant, q);
      return Promise.resolve(apiData({
        events: page.events.map((e) => ({
          name: e.name,
          value: e.value,
          timestamp: formatTimestamp(e.t),
          properties: e.properties,
        })),
        next_cursor: page.nextCursor,
      }));
    },
  };
}

function found(d: Definition | undefined): Definition {
  if (!d) throw new HttpError(404, "not_found", "no metric of that name");
  return d;
}
