/**
 * Query strings of the Metrics API read routes, validated with zod and
 * turned into store queries (400s with the API's codes otherwise).
 * @module
 */
import { HttpError } from "../http/errors.ts";
import {
  allowedText,
  DEFAULT_AGGREGATION,
  parseAggregations,
} from "../../metricsapi/aggregation.ts";
import { decodeCursor, type EventQuery } from "../../metricsapi/events.ts";
import type { IntervalQuery } from "../../metricsapi/query.ts";
import {
  defaultInterval,
  MIN_INTERVAL_MS,
} from "../../metricsapi/resolution.ts";
import { eventParams, queryParams } from "../../metricsapi/schema.ts";
import type { Definition } from "../../metricsapi/series.ts";
import { parseDuration, parseTimestamp } from "../../metricsapi/time.ts";

/** Most points one query may return per group. */
export const MAX_POINTS = 11_000;
/** Events per page: default and most. */
export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;
const DAY = 86_400_000;

function firstValues(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!(k in out)) out[k] = v;
  return out;
}

function time(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  const t = parseTimestamp(text);
  if (t === null) {
    throw new HttpError(
      400,
      "invalid_time",
      `${name}: ${JSON.stringify(text)} is not ISO 8601 (or epoch ms)`,
    );
  }
  return t;
}

/** The query of `GET /api/v1/metrics/<name>/query`. */
export function parseQueryRequest(
  url: URL,
  def: Definition,
  now: number,
): IntervalQuery {
  const parsed = queryParams.safeParse(firstValues(url));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0]);
    const code = field === "aggregation"
      ? "invalid_aggregation"
      : field === "interval"
      ? "invalid_interval"
      : "invalid_value";
    throw new HttpError(400, code, `${field}: ${issue.message}`);
  }
  const p = parsed.data;
  const to = time(p.to, "to") ?? now;
  const from = time(p.from, "from") ?? to - DAY;
  if (!(from < to)) {
    throw new HttpError(400, "invalid_time", "from must be before to");
  }
  const aggs = parseAggregations(
    p.aggregation ?? DEFAULT_AGGREGATION[def.type],
    def.type,
  );
  if (!aggs.ok) {
    throw new HttpError(
      400,
      "invalid_aggregation",
      `${JSON.stringify(aggs.bad)} does not apply to a ${def.type}; ` +
        `allowed: ${allowedText(def.type)}`,
    );
  }
  let intervalMs = defaultInterval(from, to);
  if (p.interval !== undefined) {
    const d = parseDuration(p.interval);
    if (d === null || d < MIN_INTERVAL_MS) {
      throw new HttpError(
        400,
        "invalid_interval",
        `interval ${
          JSON.stringify(p.interval)
        }: a duration like 1m, 5m, 1h, 1d, at least 1m`,
      );
    }
    intervalMs = d;
  }
  if (
    Math.ceil((to - Math.floor(from / intervalMs) * intervalMs) / intervalMs) >
      MAX_POINTS
  ) {
    throw new HttpError(
      400,
      "invalid_interval",
      `more than ${MAX_POINTS} points: use a larger interval`,
    );
  }
  const tagFilter = new Map<string, string[]>();
  for (const [k, v] of url.searchParams) {
    const m = /^tags\[(.+)\]$/.exec(k);
    if (!m) continue;
    const list = tagFilter.get(m[1]) ?? [];
    list.push(v);
    tagFilter.set(m[1], list);
  }
  return {
    name: def.name,
    type: def.type,
    from,
    to,
    intervalMs,
    aggregations: aggs.list,
    tagFilter,
    groupBy: p.group_by?.slice("tags.".length),
  };
}

/** The query of `GET /api/v1/events` (default: all time, newest first). */
export function parseEventsRequest(url: URL): EventQuery {
  const parsed = eventParams.safeParse(firstValues(url));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(
      400,
      "invalid_value",
      `${String(issue.path[0])}: ${issue.message}`,
    );
  }
  const p = parsed.data;
  const limit = p.limit === undefined ? EVENTS_DEFAULT_LIMIT : Number(p.limit);
  if (limit < 1 || limit > EVENTS_MAX_LIMIT) {
    throw new HttpError(
      400,
      "invalid_value",
      `limit must be between 1 and ${EVENTS_MAX_LIMIT}`,
    );
  }
  let cursor: EventQuery["cursor"];
  if (p.cursor !== undefined) {
    const c = decodeCursor(p.cursor);
    if (!c) {
      throw new HttpError(400, "invalid_value", "cursor is not one we gave");
    }
    cursor = c;
  }
  return {
    name: p.name,
    from: time(p.from, "from") ?? -Number.MAX_SAFE_INTEGER,
    to: time(p.to, "to") ?? Number.MAX_SAFE_INTEGER,
    limit,
    cursor,
  };
}
