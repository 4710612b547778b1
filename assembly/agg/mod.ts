// Exports of the agg kernel: bucket aggregation of one series over a time
// grid (count, sum, min, max, first, last, counter increase), one-shot or
// streamed chunk by chunk. Semantics and layouts: docs/format/agg.md.

import { gridBucketCount } from "./grid";
import { feedState, initState } from "./pass";
import { STATE_SIZE } from "./state";

/** Version of the kernel's semantics and state layout. */
export const agg_version: i32 = 1;

// The state agg_buckets uses internally (the module is single-threaded).
const scratchState: usize = memory.data(<i32>STATE_SIZE, 16);

/** Bytes a caller must allocate for a streaming state. */
export function agg_state_size(): i32 {
  return <i32>STATE_SIZE;
}

/** ceil((end - start) / step) as f64, or ERR_ARG for a bad grid. */
export function agg_bucket_count(start: f64, end: f64, step: f64): f64 {
  return <f64>gridBucketCount(start, end, step);
}

/**
 * Starts a streaming aggregation: checks the grid and buffers, fills the
 * output with empty buckets. Returns the bucket count or a negative error.
 */
export function agg_init(
  statePtr: usize,
  start: f64,
  end: f64,
  step: f64,
  outPtr: usize,
  cap: i32,
): i32 {
  return initState(statePtr, start, end, step, outPtr, cap);
}

/**
 * Feeds the next n samples (sorted, continuing the previous feeds). The
 * output is complete after every successful call. Returns the bucket count
 * or a negative error.
 */
export function agg_feed(
  statePtr: usize,
  tsPtr: usize,
  valPtr: usize,
  n: i32,
): i32 {
  return feedState(statePtr, tsPtr, valPtr, n);
}

/** One-shot aggregation: agg_init + agg_feed on an internal state. */
export function agg_buckets(
  tsPtr: usize,
  valPtr: usize,
  n: i32,
  start: f64,
  end: f64,
  step: f64,
  outPtr: usize,
  cap: i32,
): i32 {
  const nb = initState(scratchState, start, end, step, outPtr, cap);
  if (nb < 0) return nb;
  return feedState(scratchState, tsPtr, valPtr, n);
}
