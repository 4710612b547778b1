// The bucket grid [start, end) cut into steps: argument checks and the
// bucket count. All three numbers are integral milliseconds held in f64.

import { ERR_ARG } from "../common/errors";

/** Largest integer below which every integer is exact in f64 (2^53 - 1). */
export const MAX_SAFE: f64 = 9007199254740991.0;

/** True for integers within ±MAX_SAFE (false for NaN, ±Inf, fractions). */
// @ts-ignore: decorator
@inline
export function isSafeInteger(x: f64): bool {
  return abs<f64>(x) <= MAX_SAFE && floor<f64>(x) == x;
}

/**
 * ceil((end - start) / step), or ERR_ARG when start/end/step are not safe
 * integers, step < 1, end < start, or end - start exceeds MAX_SAFE (so every
 * bucket boundary inside the range is exact in f64).
 */
export function gridBucketCount(start: f64, end: f64, step: f64): i64 {
  if (!isSafeInteger(start) || !isSafeInteger(end) || !isSafeInteger(step)) {
    return ERR_ARG;
  }
  if (step < 1.0 || end < start) return ERR_ARG;
  const span = end - start; // exact when <= MAX_SAFE, else rounds above it
  if (span > MAX_SAFE) return ERR_ARG;
  const s = <i64>span;
  const st = <i64>step;
  return (s + st - 1) / st;
}

/**
 * Exclusive end of bucket b, clamped to the range end. The product may round
 * only when it exceeds 2^53, which happens only past `end`, and rounding is
 * monotone, so the clamp still yields exactly `end` there.
 */
// @ts-ignore: decorator
@inline
export function bucketEnd(start: f64, end: f64, step: f64, b: i32): f64 {
  return min<f64>(start + <f64>(b + 1) * step, end);
}
