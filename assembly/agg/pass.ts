// The forward pass: init fills the output with empty buckets and the state;
// feed runs over one run of samples, resuming from and saving to the state.
// Semantics: docs/format/agg.md.

import { ERR_ARG, ERR_BOUNDS, ERR_CAPACITY } from "../common/errors";
import { bucketEnd, gridBucketCount } from "./grid";
import {
  checkState,
  FLAG_HAS_PREV,
  FLAG_POISONED,
  outBytes,
  overlaps,
  rangeInMemory,
  S_BUCKET,
  S_BUCKET_END,
  S_CAP,
  S_COUNT,
  S_END,
  S_FIRST,
  S_FLAGS,
  S_INCREASE,
  S_LAST,
  S_LAST_TS,
  S_MAGIC,
  S_MAX,
  S_MIN,
  S_NBUCKETS,
  S_OUT,
  S_PREV,
  S_START,
  S_STEP,
  S_SUM,
  STATE_MAGIC,
  STATE_SIZE,
} from "./state";

/** Prometheus' stale marker: a NaN with this exact bit pattern. */
export const STALE_BITS: u64 = 0x7ff0000000000002;
/** The NaN written for min/max/first/last of empty buckets. */
const EMPTY: f64 = reinterpret<f64>(0x7ff8000000000000);

// @ts-ignore: decorator
@inline
function isStale(v: f64): bool {
  return v != v && reinterpret<u64>(v) == STALE_BITS;
}

// Counter increase from prev to cur: a drop is a restart from 0. A NaN on
// either side gives NaN (d < 0 is false for NaN).
// @ts-ignore: decorator
@inline
function counterDelta(prev: f64, cur: f64): f64 {
  const d = cur - prev;
  return select<f64>(cur, d, d < 0);
}

/**
 * Validates the grid and buffers, writes n empty buckets to the output and an
 * initial state. Returns n (the bucket count) or a negative error.
 */
export function initState(
  state: usize,
  start: f64,
  end: f64,
  step: f64,
  out: usize,
  cap: i32,
): i32 {
  const n = gridBucketCount(start, end, step);
  if (n < 0 || cap < 0) return ERR_ARG;
  if (n > <i64>cap) return ERR_CAPACITY;
  const capU = <u32>cap;
  if (!rangeInMemory(state, STATE_SIZE)) return ERR_BOUNDS;
  if (!rangeInMemory(out, outBytes(capU))) return ERR_BOUNDS;
  if (overlaps(out, outBytes(capU), state, STATE_SIZE)) return ERR_ARG;

  const stride = <usize>capU << 3;
  const bytes = <usize>n << 3;
  memory.fill(out, 0, bytes); // count
  memory.fill(out + stride, 0, bytes); // sum
  for (let k: usize = 2; k < 6; k++) { // min, max, first, last
    const base = out + k * stride;
    for (let i: usize = 0; i < bytes; i += 8) store<f64>(base + i, EMPTY);
  }
  memory.fill(out + 6 * stride, 0, bytes); // increase

  store<u32>(state, STATE_MAGIC, S_MAGIC);
  store<u32>(state, 0, S_FLAGS);
  store<u32>(state, <u32>out, S_OUT);
  store<u32>(state, capU, S_CAP);
  store<i32>(state, <i32>n, S_NBUCKETS);
  store<i32>(state, -1, S_BUCKET); // "bucket -1" ends at start

  store<f64>(state, start, S_START);
  store<f64>(state, end, S_END);
  store<f64>(state, step, S_STEP);
  store<f64>(state, bucketEnd(start, end, step, -1), S_BUCKET_END);
  store<f64>(state, -Infinity, S_LAST_TS);
  store<f64>(state, 0.0, S_PREV);
  store<f64>(state, 0.0, S_COUNT);
  store<f64>(state, 0.0, S_SUM);
  store<f64>(state, Infinity, S_MIN);
  store<f64>(state, -Infinity, S_MAX);
  store<f64>(state, EMPTY, S_FIRST);
  store<f64>(state, EMPTY, S_LAST);
  store<f64>(state, 0.0, S_INCREASE);
  return <i32>n;
}

// @ts-ignore: decorator
@inline
function writeBucket(
  out: usize,
  stride: usize,
  b: i32,
  count: f64,
  sum: f64,
  mn: f64,
  mx: f64,
  first: f64,
  last: f64,
  increase: f64,
): void {
  const p = out + (<usize>b << 3);
  // min/max run from +Inf/-Inf and skip NaN; min > max means only NaNs came.
  const onlyNaN = mn > mx;
  store<f64>(p, count);
  store<f64>(p + stride, sum);
  store<f64>(p + 2 * stride, select<f64>(EMPTY, mn, onlyNaN));
  store<f64>(p + 3 * stride, select<f64>(EMPTY, mx, onlyNaN));
  store<f64>(p + 4 * stride, first);
  store<f64>(p + 5 * stride, last);
  store<f64>(p + 6 * stride, increase);
}

// @ts-ignore: decorator
@inline
function poison(state: usize): i32 {
  store<u32>(state, load<u32>(state, S_FLAGS) | FLAG_POISONED, S_FLAGS);
  return ERR_ARG;
}

/**
 * Feeds n samples (timestamps at tsPtr, values at valPtr, f64 each) into the
 * aggregation held by `state`. Returns the bucket count or a negative error;
 * ERR_ARG for unsorted/NaN timestamps also poisons the state.
 */
export function feedState(
  state: usize,
  tsPtr: usize,
  valPtr: usize,
  n: i32,
): i32 {
  const bad = checkState(state);
  if (bad < 0) return bad;
  if (n < 0) return ERR_ARG;
  const inBytes = <u64>n << 3;
  if (!rangeInMemory(tsPtr, inBytes) || !rangeInMemory(valPtr, inBytes)) {
    return ERR_BOUNDS;
  }
  const out = <usize>load<u32>(state, S_OUT);
  const cap = load<u32>(state, S_CAP);
  const outLen = outBytes(cap);
  // Outputs written during the pass must not alias inputs still to be read.
  if (
    overlaps(tsPtr, inBytes, out, outLen) ||
    overlaps(valPtr, inBytes, out, outLen) ||
    overlaps(tsPtr, inBytes, state, STATE_SIZE) ||
    overlaps(valPtr, inBytes, state, STATE_SIZE)
  ) return ERR_ARG;

  const stride = <usize>cap << 3;
  const start = load<f64>(state, S_START);
  const end = load<f64>(state, S_END);
  const step = load<f64>(state, S_STEP);
  let lastTs = load<f64>(state, S_LAST_TS);
  let hasPrev = (load<u32>(state, S_FLAGS) & FLAG_HAS_PREV) != 0;
  let prev = load<f64>(state, S_PREV);
  let i: i32 = 0;

  // Phase 1: samples before start only move the counter baseline.
  for (; i < n; i++) {
    const off = <usize>i << 3;
    const t = load<f64>(tsPtr + off);
    if (!(t >= lastTs)) return poison(state); // unsorted or NaN
    if (t >= start) break;
    lastTs = t;
    const v = load<f64>(valPtr + off);
    if (isStale(v)) {
      hasPrev = false;
    } else {
      prev = v;
      hasPrev = true;
    }
  }

  // Phase 2: samples in [start, end). The bucket index only moves forward,
  // by comparison with the current bucket's end: no division per sample.
  // Anything unusual (a new bucket, the range end, no counter baseline) is
  // caught by one comparison, t >= bEnd, and handled off the hot path; to
  // route the next sample there, bEnd is set to -Inf.
  let b = load<i32>(state, S_BUCKET);
  let bEnd = hasPrev ? load<f64>(state, S_BUCKET_END) : -Infinity;
  let count = load<f64>(state, S_COUNT);
  let sum = load<f64>(state, S_SUM);
  let mn = load<f64>(state, S_MIN); // from +Inf, NaNs skipped
  let mx = load<f64>(state, S_MAX); // from -Inf, NaNs skipped
  let first = load<f64>(state, S_FIRST);
  let last = load<f64>(state, S_LAST);
  let increase = load<f64>(state, S_INCREASE);
  for (; i < n; i++) {
    const off = <usize>i << 3;
    const t = load<f64>(tsPtr + off);
    if (!(t >= lastTs)) return poison(state); // unsorted or NaN
    lastTs = t;
    const v = load<f64>(valPtr + off);
    if (v != v && reinterpret<u64>(v) == STALE_BITS) {
      // "No value": skipped, and the counter chain breaks.
      hasPrev = false;
      bEnd = -Infinity;
      continue;
    }
    if (t >= bEnd) {
      bEnd = bucketEnd(start, end, step, b);
      const delta = hasPrev ? counterDelta(prev, v) : 0.0;
      prev = v;
      hasPrev = true;
      if (t < bEnd) { // same bucket, first sample after a stale marker
        increase += delta;
        sum += v;
        mn = select<f64>(v, mn, v < mn);
        mx = select<f64>(v, mx, v > mx);
        last = v;
        count += 1;
        continue;
      }
      if (t >= end) break;
      if (b >= 0) {
        writeBucket(out, stride, b, count, sum, mn, mx, first, last, increase);
      }
      // t < end, and the last bucket's end is >= end, so b stays < nBuckets.
      do {
        b++;
        bEnd = start + <f64>(b + 1) * step;
      } while (t >= bEnd);
      bEnd = min<f64>(bEnd, end);
      const isNum = v == v;
      count = 1;
      sum = v;
      mn = select<f64>(v, Infinity, isNum);
      mx = select<f64>(v, -Infinity, isNum);
      first = v;
      last = v;
      increase = 0.0 + delta; // +0, never -0, like an untouched bucket
      continue;
    }
    increase += counterDelta(prev, v);
    sum += v;
    mn = select<f64>(v, mn, v < mn);
    mx = select<f64>(v, mx, v > mx);
    last = v;
    count += 1;
    prev = v;
  }

  // Phase 3: past end; only the order is still checked.
  for (; i < n; i++) {
    const t = load<f64>(tsPtr + (<usize>i << 3));
    if (!(t >= lastTs)) return poison(state);
    lastTs = t;
  }

  if (b >= 0) {
    writeBucket(out, stride, b, count, sum, mn, mx, first, last, increase);
  }
  store<f64>(state, lastTs, S_LAST_TS);
  store<u32>(state, hasPrev ? FLAG_HAS_PREV : 0, S_FLAGS);
  store<f64>(state, prev, S_PREV);
  store<i32>(state, b, S_BUCKET);
  store<f64>(state, bucketEnd(start, end, step, b), S_BUCKET_END);
  store<f64>(state, count, S_COUNT);
  store<f64>(state, sum, S_SUM);
  store<f64>(state, mn, S_MIN);
  store<f64>(state, mx, S_MAX);
  store<f64>(state, first, S_FIRST);
  store<f64>(state, last, S_LAST);
  store<f64>(state, increase, S_INCREASE);
  return load<i32>(state, S_NBUCKETS);
}
