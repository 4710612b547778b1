/**
 * histogram_quantile and histogram_fraction over classic histograms:
 * series grouped by their labels without `le` (and the metric name), one
 * cumulative bucket per `le` value.
 * @module
 */
import { getLabel, type Labels, labelsKey } from "../model/labels.ts";
import { dropLabels } from "./eval_labels.ts";
import type { EvalValue, Sample } from "./eval_types.ts";
import type { Evaluator } from "./evaluator.ts";
import { QueryError } from "./value.ts";

interface Bucket {
  upper: number;
  count: number;
}

interface BucketGroup {
  metric: Labels;
  /** The metric name of the group's first series, for annotations. */
  name: string;
  buckets: Bucket[];
}

/** A bucket series' part in its histogram. */
interface SeriesBucket {
  le: string;
  upper: number;
  /** The histogram it belongs to (labels without le). */
  key: string;
  /** Output labels (without le and the name), and their key. */
  metric: Labels;
  metricKey: string;
  name: string;
}

const LE = new Set(["le"]);
const LE_AND_NAME = new Set(["le", "__name__"]);

function parseLe(s: string): number {
  const t = s.trim();
  if (t === "+Inf" || t === "Inf" || t === "+inf" || t === "inf") {
    return Infinity;
  }
  if (t === "-Inf" || t === "-inf") return -Infinity;
  if (
    t === "" ||
    !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?0[xX][0-9a-fA-F]+$|^NaN$/
      .test(t)
  ) return NaN;
  return Number(t);
}

/** Groups each step's samples into bucket lists. */
function groupBuckets(
  ev: Evaluator,
  steps: Sample[][],
  pos: string,
): BucketGroup[][] {
  // What a series contributes, worked out once per label set (a series'
  // samples share theirs across steps).
  const bySeries = new Map<Labels, SeriesBucket>();
  const info = (metric: Labels): SeriesBucket => {
    let got = bySeries.get(metric);
    if (!got) {
      const le = getLabel(metric, "le");
      const out = dropLabels(metric, LE_AND_NAME);
      got = {
        le,
        upper: parseLe(le),
        // Grouped with the name (as upstream), which the output then drops.
        key: labelsKey(dropLabels(metric, LE)),
        metric: out,
        metricKey: labelsKey(out),
        name: getLabel(metric, "__name__"),
      };
      bySeries.set(metric, got);
    }
    return got;
  };
  return steps.map((s) => {
    const groups = new Map<string, BucketGroup & { metricKey: string }>();
    for (const x of s) {
      const si = info(x.metric);
      if (Number.isNaN(si.upper)) {
        ev.warnings.add(
          `PromQL warning: bucket label "le" is missing or has a malformed value of "${si.le}" for metric name "${si.name}"${pos}`,
        );
        continue;
      }
      let g = groups.get(si.key);
      if (!g) {
        g = {
          metric: si.metric,
          metricKey: si.metricKey,
          name: si.name,
          buckets: [],
        };
        groups.set(si.key, g);
      }
      g.buckets.push({ upper: si.upper, count: x.v });
    }
    const out = [...groups.values()];
    if (out.length > 1) {
      const seen = new Set<string>();
      for (const g of out) {
        if (seen.has(g.metricKey)) {
          throw new QueryError(
            "execution",
            "vector cannot contain metrics with the same labelset",
          );
        }
        seen.add(g.metricKey);
      }
    }
    return out;
  });
}

/** Sorts and merges buckets with equal bounds; null when there is no +Inf bucket. */
function prepare(buckets: Bucket[]): Bucket[] | null {
  buckets.sort((a, b) => a.upper - b.upper);
  if (buckets[buckets.length - 1].upper !== Infinity) return null;
  const out: Bucket[] = [];
  for (const b of buckets) {
    const last = out[out.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else out.push({ ...b });
  }
  return out;
}

function almostEqual(a: number, b: number, eps: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

/** Makes counts non-decreasing; true when a real decrease was fixed. */
function ensureMonotonic(buckets: Bucket[]): boolean {
  let forced = false;
  let prev = buckets[0].count;
  for (let i = 1; i < buckets.length; i++) {
    const cur = buckets[i].count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      buckets[i].count = prev;
      continue;
    }
    if (cur < prev) {
      buckets[i].count = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

/** Prometheus' bucketQuantile. */
export function bucketQuantile(
  q: number,
  raw: Bucket[],
): { v: number; forced: boolean } {
  if (Number.isNaN(q)) return { v: NaN, forced: false };
  if (q < 0) return { v: -Infinity, forced: false };
  if (q > 1) return { v: Infinity, forced: false };
  const buckets = prepare(raw);
  if (!buckets) return { v: NaN, forced: false };
  const forced = ensureMonotonic(buckets);
  if (buckets.length < 2) return { v: NaN, forced };
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0 || Number.isNaN(observations)) {
    return { v: NaN, forced };
  }
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b].count >= rank)) b++;
  if (b === buckets.length - 1) {
    return { v: buckets[buckets.length - 2].upper, forced };
  }
  if (b === 0 && buckets[0].upper <= 0) return { v: buckets[0].upper, forced };
  let start = 0;
  const end = buckets[b].upper;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return { v: start + (end - start) * (rank / count), forced };
}

/** histogram_quantile(q, buckets) per step. */
export function evalHistogramQuantile(
  ev: Evaluator,
  q: Float64Array,
  steps: Sample[][],
  qPos: string,
  bucketsPos: string,
): EvalValue {
  const groups = groupBuckets(ev, steps, bucketsPos);
  return {
    type: "vector",
    steps: groups.map((gs, i) => {
      if (!(q[i] >= 0 && q[i] <= 1)) {
        ev.warnings.add(
          `PromQL warning: quantile value should be between 0 and 1, got ${
            q[i]
          }${qPos}`,
        );
      }
      return gs.map((g) => {
        const { v, forced } = bucketQuantile(q[i], g.buckets);
        if (forced) {
          ev.infos.add(
            `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "${g.name}"${bucketsPos}`,
          );
        }
        return { metric: g.metric, v, dropName: false };
      });
    }),
  };
}

/** Fraction of observations between lower and upper (linear within buckets). */
export function bucketFraction(
  lower: number,
  upper: number,
  raw: Bucket[],
): number {
  const buckets = prepare(raw);
  if (!buckets) return NaN;
  ensureMonotonic(buckets);
  const count = buckets[buckets.length - 1].count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    let lowerBound = i > 0 ? buckets[i - 1].upper : -Infinity;
    if (i === 0 && b.upper > 0) lowerBound = 0;
    const upperBound = b.upper;
    // An infinitely wide bucket is not interpolated: its observations sit
    // at its infinite end.
    const interpolate = (v: number) =>
      upperBound === Infinity
        ? rank
        : lowerBound === -Infinity
        ? b.count
        : rank +
          (b.count - rank) * (v - lowerBound) / (upperBound - lowerBound);
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/** histogram_fraction(lower, upper, buckets) per step. */
export function evalHistogramFraction(
  ev: Evaluator,
  lower: Float64Array,
  upper: Float64Array,
  steps: Sample[][],
  bucketsPos: string,
): EvalValue {
  const groups = groupBuckets(ev, steps, bucketsPos);
  return {
    type: "vector",
    steps: groups.map((gs, i) =>
      gs.map((g) => ({
        metric: g.metric,
        v: bucketFraction(lower[i], upper[i], g.buckets),
        dropName: false,
      }))
    ),
  };
}
