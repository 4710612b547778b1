/**
 * Reference implementation of the bucket-aggregation kernel (the agg area of
 * the engine), written straight from docs/format/agg.md with no attention to
 * speed: each sample's bucket is computed on its own with Math.floor. It is
 * the oracle of the property tests and the baseline of benchmarks.
 * @module
 */
import { EngineError, ERR_ARG, ERR_CAPACITY } from "../bindings/errors.ts";
import type { BucketAggregates } from "../bindings/agg.ts";

/** True when values[i] is Prometheus' stale marker (NaN, bits 0x7ff0000000000002). */
export function isStaleMarker(values: Float64Array, i: number): boolean {
  // Read the bits through an integer view: NaN payloads may not survive a
  // round trip through a JS number.
  const words = new Uint32Array(
    values.buffer,
    values.byteOffset + i * 8,
    2,
  );
  return words[0] === 0x00000002 && words[1] === 0x7ff00000;
}

/** Number of buckets of the grid; throws EngineError(ERR_ARG) for a bad grid. */
export function referenceBucketCount(
  start: number,
  end: number,
  step: number,
): number {
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) &&
    Number.isSafeInteger(step) && step >= 1 && end >= start &&
    end - start <= Number.MAX_SAFE_INTEGER;
  if (!ok) {
    throw new EngineError(ERR_ARG, `grid (${start}, ${end}, ${step})`);
  }
  const span = BigInt(end - start);
  return Number((span + BigInt(step) - 1n) / BigInt(step));
}

/** The bucket holding t, for start <= t < end (exact, even for fractional t). */
function bucketOf(t: number, start: number, step: number, n: number): number {
  let b = Math.floor((t - start) / step);
  b = Math.min(Math.max(b, 0), n - 1);
  // The division may round across a boundary: settle on exact comparisons.
  while (b > 0 && t < start + b * step) b--;
  while (b < n - 1 && t >= start + (b + 1) * step) b++;
  return b;
}

/**
 * Aggregates one series (timestamps sorted ascending) into the buckets of the
 * grid. Throws EngineError with ERR_ARG (bad grid, NaN or unsorted
 * timestamps, length mismatch) or ERR_CAPACITY (more buckets than `cap`).
 */
export function referenceAggregate(
  ts: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
  step: number,
  cap: number = Infinity,
): BucketAggregates {
  const n = referenceBucketCount(start, end, step);
  if (n > cap) throw new EngineError(ERR_CAPACITY, `${n} buckets > ${cap}`);
  if (ts.length !== values.length) {
    throw new EngineError(ERR_ARG, "timestamps and values differ in length");
  }
  for (let i = 0; i < ts.length; i++) {
    if (Number.isNaN(ts[i]) || (i > 0 && ts[i] < ts[i - 1])) {
      throw new EngineError(ERR_ARG, `timestamp ${i} is NaN or unsorted`);
    }
  }

  const count = new Float64Array(n);
  const sum = new Float64Array(n);
  const min = new Float64Array(n).fill(NaN);
  const max = new Float64Array(n).fill(NaN);
  const first = new Float64Array(n).fill(NaN);
  const last = new Float64Array(n).fill(NaN);
  const increase = new Float64Array(n);

  let prev: number | undefined = undefined; // the counter chain
  for (let i = 0; i < ts.length; i++) {
    if (isStaleMarker(values, i)) {
      prev = undefined;
      continue;
    }
    const t = ts[i];
    const v = values[i];
    if (t < start || t >= end) {
      prev = v; // before start: the baseline of bucket 0's increase
      continue;
    }
    const b = bucketOf(t, start, step, n);
    if (prev !== undefined) increase[b] += counterDelta(prev, v);
    if (count[b] === 0) {
      sum[b] = v;
      min[b] = v;
      max[b] = v;
      first[b] = v;
    } else {
      sum[b] += v;
      if (v < min[b] || Number.isNaN(min[b])) min[b] = v;
      if (v > max[b] || Number.isNaN(max[b])) max[b] = v;
    }
    last[b] = v;
    count[b]++;
    prev = v;
  }
  return {
    start,
    end,
    step,
    length: n,
    count,
    sum,
    min,
    max,
    first,
    last,
    increase,
  };
}

/** Increase of a counter from prev to cur: a drop is a restart from 0. */
export function counterDelta(prev: number, cur: number): number {
  if (Number.isNaN(prev) || Number.isNaN(cur)) return NaN;
  return cur >= prev ? cur - prev : cur;
}
