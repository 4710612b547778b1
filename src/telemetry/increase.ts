/**
 * A counter's increase, attributed to buckets sample pair by sample pair.
 *
 * Within one run of a series (consecutive samples not separated by a
 * stale marker), each pair (previous sample p, sample s) contributes
 * `s.v - p.v`, or `s.v` when the value dropped (the counter restarted from
 * 0, as PromQL's `increase` assumes), to the bucket holding `s.t`. So the
 * buckets of a window add up to the whole increase over it, and adjacent
 * windows add up to their union. A stale marker ends a run: the first
 * sample after it starts a new run with no pair, as a brand-new series
 * would, because the change across the gap is unknown (a restart or an
 * outage). Nothing is extrapolated: only observed differences count.
 * @module
 */
import type { SampleIterator } from "../storage/interface.ts";

/**
 * How far before the window's start the previous sample of the first pair
 * may lie (ms): Prometheus' default lookback delta. A pair whose earlier
 * sample is older is not counted.
 */
export const LOOKBACK_MS = 300_000;

/** The bucket grid: buckets `[start + k·step, start + (k+1)·step)`, cut at `end` (exclusive). */
export interface BucketGrid {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/**
 * Walks one series and calls `onIncrease(bucketIndex, delta)` for every
 * pair whose later sample lies in `[grid.start, grid.end)` and whose
 * earlier sample is at or after `grid.start - lookbackMs`. Non-finite
 * values other than stale markers are skipped (not a sample at all).
 * Returns the iterator's error, if it ended with one.
 */
export function forEachIncrease(
  it: SampleIterator,
  grid: BucketGrid,
  onIncrease: (bucket: number, delta: number) => void,
  lookbackMs: number = LOOKBACK_MS,
): Error | null {
  const { start, end, step } = grid;
  const from = start - lookbackMs;
  let hasPrev = false;
  let prevV = 0;
  for (let ok = it.seek(from); ok; ok = it.next()) {
    const t = it.t;
    if (t >= end) break;
    if (it.isStale()) {
      hasPrev = false;
      continue;
    }
    const v = it.v;
    if (!Number.isFinite(v)) continue;
    if (hasPrev && t >= start) {
      onIncrease(Math.floor((t - start) / step), v >= prevV ? v - prevV : v);
    }
    hasPrev = true;
    prevV = v;
  }
  return it.err();
}
