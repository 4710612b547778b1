/**
 * The page's client for the Metrics API (typed metrics): the definitions
 * list, an interval query of one aggregation, and the query's answer as
 * chart series. Errors carry the API's `{"error":{"code","message"}}`.
 * @module
 */
import { ALLOWED } from "../../metricsapi/aggregation.ts";
import type { ApiClient } from "./api.ts";

/** The metric types of the Metrics API (events count into a series too). */
export type MetricType = "gauge" | "counter" | "distribution" | "set" | "event";

/** One definition of `GET /api/v1/metrics`. */
export interface Definition {
  name: string;
  type: MetricType;
  /** Tag keys seen on the metric, sorted. */
  tags: string[];
  /** ISO 8601. */
  first_seen: string;
  last_seen: string;
}

/**
 * The aggregations the page offers per type, the API's default first: the
 * server's own table (src/metricsapi/aggregation.ts), bundled with the page.
 */
export const AGGREGATIONS: Readonly<Record<MetricType, readonly string[]>> =
  ALLOWED;

/** A Metrics API refusal: HTTP status, the API's code and its message. */
export class MetricsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "MetricsApiError";
  }
}

/** One point of an interval query (one aggregation). */
export interface ApiPoint {
  /** Interval start, ISO 8601. */
  timestamp: string;
  /** Null for an empty interval (except count/sum/rate, which are 0). */
  value: number | null;
}

/** An interval query as the page asks it. */
export interface IntervalRequest {
  name: string;
  aggregation: string;
  /** Epoch ms, [from, to). */
  from: number;
  to: number;
  /** A duration such as 5m; empty: the API's default. */
  interval: string;
  /** A tag key, or empty for no grouping. */
  groupBy: string;
}

/** The answer: one series ("" when not grouped) per group value. */
export interface IntervalAnswer {
  groups: { key: string; points: ApiPoint[] }[];
  grouped: boolean;
  bytes: number;
}

async function getJson(api: ApiClient, path: string): Promise<{
  data: unknown;
  bytes: number;
}> {
  const res = await api.send(path);
  const raw = new Uint8Array(await res.arrayBuffer());
  let body: { data?: unknown; error?: { code?: string; message?: string } };
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new MetricsApiError(res.status, "bad_response", `HTTP ${res.status}`);
  }
  if (!res.ok) {
    throw new MetricsApiError(
      res.status,
      body.error?.code ?? "error",
      body.error?.message ?? `HTTP ${res.status}`,
    );
  }
  return { data: body.data, bytes: raw.length };
}

/** Lists the tenant's definitions; null when the server has no Metrics API (404). */
export async function listDefinitions(
  api: ApiClient,
): Promise<Definition[] | null> {
  try {
    const { data } = await getJson(api, "/api/v1/metrics");
    return Array.isArray(data) ? data as Definition[] : [];
  } catch (e) {
    if (e instanceof MetricsApiError && e.status === 404) return null;
    throw e;
  }
}

/** The query string of an interval request (epoch ms times). */
export function intervalQueryPath(r: IntervalRequest): string {
  const q = new URLSearchParams({
    from: String(r.from),
    to: String(r.to),
    aggregation: r.aggregation,
  });
  if (r.interval !== "") q.set("interval", r.interval);
  if (r.groupBy !== "") q.set("group_by", `tags.${r.groupBy}`);
  return `/api/v1/metrics/${encodeURIComponent(r.name)}/query?${q}`;
}

/** Runs an interval query; a 4xx throws MetricsApiError with the API's message. */
export async function queryInterval(
  api: ApiClient,
  r: IntervalRequest,
): Promise<IntervalAnswer> {
  const { data, bytes } = await getJson(api, intervalQueryPath(r));
  if (Array.isArray(data)) {
    return { groups: [{ key: "", points: data }], grouped: false, bytes };
  }
  const groups = (data as { groups?: Record<string, ApiPoint[]> })?.groups;
  if (!groups) {
    throw new MetricsApiError(200, "bad_response", "unexpected query answer");
  }
  return {
    groups: Object.keys(groups).sort().map((key) => ({
      key,
      points: groups[key],
    })),
    grouped: true,
    bytes,
  };
}

/** Points as typed arrays for the chart (null → NaN, drawn as a gap). */
export function toSeries(points: ApiPoint[]): {
  timestamps: Float64Array;
  values: Float64Array;
} {
  return {
    timestamps: Float64Array.from(points, (p) => Date.parse(p.timestamp)),
    values: Float64Array.from(points, (p) => p.value ?? NaN),
  };
}
