/**
 * The dashboard query set of the side-by-side run, timed over HTTP against
 * any server with the Prometheus query API, and the cross-check of results
 * between systems (series count, labels, and every point of a spread of
 * series within 1e-6 relative, as Prometheus' promqltest compares).
 * @module
 */
import { promFloat } from "./peers.ts";

/** The queries compared, in table order (the dashboard set of ANCHORS.md). */
export const QUERIES = [
  "sum by (instance) (rate(node_cpu_seconds_total[5m]))",
  "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  'count({__name__=~"node_network_.+"})',
  "topk(5, node_memory_MemFree_bytes)",
  "avg_over_time(node_load1[10m])",
  "sum(rate(node_network_receive_bytes_total[5m])) / sum(rate(node_network_transmit_bytes_total[5m]))",
  "increase(http_request_duration_seconds_count[1h])",
];

/** Range query step, ms. */
export const STEP_MS = 60_000;

/** Relative tolerance of the value check (as Prometheus' promqltest). */
const TOLERANCE = 1e-6;
/** Series of each result whose points are compared (first ones + spread). */
const CHECKED_SERIES = 5;

/** One result series in a form every system maps to. */
export interface ResultSeries {
  key: string;
  ts: number[];
  vs: number[];
}

/** One query's figures on one system. */
export interface QueryTiming {
  query: string;
  kind: "instant" | "range";
  /** Median wall time of the timed runs, ms (request sent → body read). */
  medianMs: number;
  minMs: number;
  maxMs: number;
  series: number;
  result: ResultSeries[];
}

/** Where the queries run: instant at `end`, range over [start, end]. */
export interface QueryWindow {
  /** Instant query time, ms. */
  at: number;
  start: number;
  end: number;
}

function keyOf(pairs: [string, string][]): string {
  pairs.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",");
}

interface PromData {
  resultType: string;
  result: unknown;
}

/** A Prometheus API `data` object as result series. */
export function parseResult(d: PromData): ResultSeries[] {
  const ms = (t: number) => Math.round(t * 1000);
  if (d.resultType === "scalar") {
    const [t, v] = d.result as [number, string];
    return [{ key: "", ts: [ms(t)], vs: [promFloat(v)] }];
  }
  const rows = d.result as {
    metric: Record<string, string>;
    value?: [number, string];
    values?: [number, string][];
  }[];
  return rows.map((r) => {
    const pts = r.values ?? [r.value!];
    return {
      key: keyOf(Object.entries(r.metric)),
      ts: pts.map((p) => ms(p[0])),
      vs: pts.map((p) => promFloat(p[1])),
    };
  });
}

async function httpQuery(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<string> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${text}`);
  return text;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs every query as an instant and a range query, one at a time, each
 * `warmups` untimed times then `runs` timed times; returns medians and the
 * last result of each.
 */
export async function runQuerySet(
  base: string,
  window: QueryWindow,
  warmups: number,
  runs: number,
  onRow?: (t: QueryTiming) => void,
  queries: readonly string[] = QUERIES,
): Promise<QueryTiming[]> {
  const out: QueryTiming[] = [];
  for (const query of queries) {
    for (const kind of ["instant", "range"] as const) {
      const call = () =>
        kind === "instant"
          ? httpQuery(base, "/api/v1/query", {
            query,
            time: String(window.at / 1000),
          })
          : httpQuery(base, "/api/v1/query_range", {
            query,
            start: String(window.start / 1000),
            end: String(window.end / 1000),
            step: String(STEP_MS / 1000),
          });
      let text = "";
      for (let i = 0; i < warmups; i++) text = await call();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        text = await call();
        times.push(performance.now() - t0);
      }
      const j = JSON.parse(text);
      if (j.status !== "success") {
        throw new Error(`${query} failed: ${text.slice(0, 300)}`);
      }
      const result = parseResult(j.data);
      const row: QueryTiming = {
        query,
        kind,
        medianMs: median(times),
        minMs: Math.min(...times),
        maxMs: Math.max(...times),
        series: result.length,
        result,
      };
      out.push(row);
      onRow?.(row);
    }
  }
  return out;
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (a === b) return true;
  return Math.abs(a - b) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** Compares a result with the reference's; "" when they agree, else what differs. */
export function compareResults(
  ours: ResultSeries[],
  theirs: ResultSeries[],
): string {
  if (ours.length !== theirs.length) {
    return `series count ${ours.length} vs ${theirs.length}`;
  }
  const byKey = (a: ResultSeries, b: ResultSeries) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  const o = [...ours].sort(byKey);
  const p = [...theirs].sort(byKey);
  const picks = new Set<number>();
  for (let i = 0; i < Math.min(CHECKED_SERIES, o.length); i++) picks.add(i);
  for (let i = 1; i <= CHECKED_SERIES && o.length > 0; i++) {
    picks.add(Math.floor((o.length - 1) * i / CHECKED_SERIES));
  }
  const problems: string[] = [];
  for (const i of [...picks].sort((a, b) => a - b)) {
    const a = o[i], b = p[i];
    if (a.key !== b.key) {
      problems.push(`labels {${a.key}} vs {${b.key}}`);
      continue;
    }
    const theirAt = new Map(b.ts.map((t, j) => [t, b.vs[j]]));
    let missing = 0, differing = 0;
    let first = "";
    for (let j = 0; j < a.ts.length; j++) {
      const v = theirAt.get(a.ts[j]);
      if (v === undefined) {
        missing++;
        continue;
      }
      if (!close(a.vs[j], v)) {
        differing++;
        first ||= `${new Date(a.ts[j]).toISOString().slice(11, 19)} ${
          a.vs[j]
        } vs ${v}`;
      }
    }
    if (a.ts.length !== b.ts.length || missing > 0 || differing > 0) {
      problems.push(
        `{${a.key}}: ${a.ts.length} vs ${b.ts.length} points, ${differing} differ${
          first ? ` (first ${first})` : ""
        }`,
      );
    }
  }
  return problems.slice(0, 2).join("; ") +
    (problems.length > 2 ? `; +${problems.length - 2} more` : "");
}
