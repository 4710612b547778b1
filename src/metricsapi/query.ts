/**
 * Interval queries over rollups: pick the resolution, select series by
 * tags, merge their buckets into the query's intervals (per group), and
 * compute the asked aggregations. Touches only rollup buckets.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { aggregate } from "./aggregation.ts";
import { Rollup } from "./rollup.ts";
import { chooseResolution, RESOLUTIONS } from "./resolution.ts";
import type { TenantSeries, TypedSeries } from "./series.ts";
import { formatTimestamp } from "./time.ts";
import type { MetricType } from "./types.ts";

/** A validated query. */
export interface IntervalQuery {
  readonly name: string;
  readonly type: MetricType;
  /** [from, to) in ms. */
  readonly from: number;
  readonly to: number;
  readonly intervalMs: number;
  readonly aggregations: readonly string[];
  /** Tag key → accepted values (OR within a key, AND across keys). */
  readonly tagFilter: ReadonlyMap<string, readonly string[]>;
  /** Group by this tag key. */
  readonly groupBy?: string;
}

/** One output point: the interval start and a value per aggregation. */
export type Point = Record<string, string | number | null>;

/** Points, or points per group value. */
export type QueryResult = Point[] | { groups: Record<string, Point[]> };

/** Why a query cannot be answered from the rollups kept. */
export class ResolutionError extends Error {}

function matches(s: TypedSeries, filter: IntervalQuery["tagFilter"]): boolean {
  for (const [k, values] of filter) {
    const v = s.tags[k];
    if (v === undefined || !values.includes(v)) return false;
  }
  return true;
}

/** Evaluates `q` over the tenant's rollups at wall-clock time `now`. */
export function runQuery(
  engine: Engine,
  series: TenantSeries,
  q: IntervalQuery,
  now: number,
): QueryResult {
  const I = q.intervalMs;
  const first = Math.floor(q.from / I) * I;
  const n = Math.max(0, Math.ceil((q.to - first) / I));
  const res = chooseResolution(I, first, now);
  if (!res) {
    throw new ResolutionError(
      `no rollup holds ${formatTimestamp(first)} at an interval of ${I} ms ` +
        `(1m rollups are kept ${RESOLUTIONS[0].horizonMs / 86_400_000} days, ` +
        `1h rollups ${RESOLUTIONS[1].horizonMs / 86_400_000} days): use a ` +
        `coarser interval`,
    );
  }
  const level = RESOLUTIONS.indexOf(res);
  const groups = new Map<string, (Rollup | undefined)[]>();
  const end = first + n * I;
  for (const s of series.series.get(q.name)?.values() ?? []) {
    if (!matches(s, q.tagFilter)) continue;
    const key = q.groupBy === undefined ? "" : s.tags[q.groupBy] ?? "";
    let accs = groups.get(key);
    if (!accs) groups.set(key, accs = new Array(n));
    const buckets = s.levels[level];
    const fold = (start: number, b: Rollup) => {
      if (start < first || start >= end) return;
      const i = Math.floor((start - first) / I);
      (accs[i] ??= new Rollup(engine, q.type)).merge(b);
    };
    // Probe the slots of the range, or walk the map when it is smaller.
    const slots = (end - Math.floor(first / res.ms) * res.ms) / res.ms;
    if (slots <= buckets.size) {
      for (let t = Math.floor(first / res.ms) * res.ms; t < end; t += res.ms) {
        const b = buckets.get(t);
        if (b) fold(t, b);
      }
    } else {
      for (const [start, b] of buckets) fold(start, b);
    }
  }
  const empty = new Rollup(engine, q.type);
  const render = (accs: (Rollup | undefined)[]): Point[] => {
    const points: Point[] = [];
    for (let i = 0; i < n; i++) {
      const b = accs[i] ?? empty;
      const p: Point = { timestamp: formatTimestamp(first + i * I) };
      if (q.aggregations.length === 1) {
        p.value = aggregate(q.aggregations[0], q.type, b, I);
      } else {
        for (const a of q.aggregations) p[a] = aggregate(a, q.type, b, I);
      }
      points.push(p);
      accs[i]?.free();
    }
    return points;
  };
  try {
    if (q.groupBy === undefined) return render(groups.get("") ?? []);
    const out: Record<string, Point[]> = {};
    for (const key of [...groups.keys()].sort()) {
      out[key] = render(groups.get(key)!);
    }
    return { groups: out };
  } finally {
    for (const accs of groups.values()) for (const b of accs) b?.free();
    empty.free();
  }
}
