// Batch append for a storage head: one call appends a batch of samples to
// many open chunks, and reports per sample what the host must do. Values
// travel as raw bits in memory (never as JS numbers, which may quiet
// signalling NaNs such as the stale marker).
//
// Record (24 bytes):  0 u32 state pointer   4 i32 status (out)
//                     8 f64 timestamp (integral ms)   16 u64 value bits
import { ERR_ARG, ERR_BOUNDS } from "../common/errors";
import { inBounds } from "../common/memory";
import { appendRun } from "./encode";
import {
  FLAG_BLOCKED,
  MAX_SAMPLES,
  S_BITPOS,
  S_CAP,
  S_FLAGS,
  S_NUM,
  S_T,
  S_T0,
  S_VBITS,
  SAMPLE_HEADROOM,
} from "./state";

export const RECORD_SIZE: usize = 24;

/** Appended. */
export const ST_OK: i32 = 0;
/** The chunk is full (sample count or time boundary): cut a new one, then retry. */
export const ST_CUT: i32 = 1;
/** The chunk's buffer lacks room: move it to a bigger one, then retry. */
export const ST_GROW: i32 = 2;
/** An earlier record of this batch blocked the chunk: retry after fixing it. */
export const ST_RETRY: i32 = 3;
/** Older than the chunk's last sample: out of order for this chunk. */
export const ST_OLDER: i32 = 4;
/** Same timestamp and same value bits as the last sample: an idempotent duplicate. */
export const ST_DUP_SAME: i32 = 5;
/** Same timestamp as the last sample, another value. */
export const ST_DUP_OTHER: i32 = 6;
/** The timestamp is not an integer within ±2^53. */
export const ST_BAD_TIME: i32 = 7;

// @ts-ignore: decorator
@inline
function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return (a % b != 0 && (a ^ b) < 0) ? q - 1 : q;
}

/**
 * Appends each record's sample to its chunk, writing each record's status.
 * A chunk is cut once it holds `maxSamples` samples, or when a sample falls
 * in another `boundary`-ms window than the chunk's first one (boundary 0:
 * no time bound), so chunks never straddle block ranges. Returns the number
 * of records whose status is not ST_OK, or an error.
 */
export function appendBatch(rec: usize, n: i32, maxSamples: i32, boundary: f64): i32 {
  if (n < 0 || maxSamples < 1 || <u32>maxSamples > MAX_SAMPLES) return ERR_ARG;
  if (!(boundary >= 0.0 && boundary <= 9007199254740991.0) || Math.trunc(boundary) != boundary) return ERR_ARG;
  if (!inBounds(rec, <usize>n * RECORD_SIZE, 0)) return ERR_BOUNDS;
  const bound = <i64>boundary;
  let pending = 0;
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>i * RECORD_SIZE;
    const state = <usize>load<u32>(r);
    const flags = load<u8>(state, S_FLAGS);
    let status = ST_OK;
    const tf = load<f64>(r, 8);
    if (!(Math.abs(tf) <= 9007199254740991.0) || Math.trunc(tf) != tf) {
      status = ST_BAD_TIME;
    } else if (flags & FLAG_BLOCKED) {
      status = ST_RETRY;
    } else {
      const t = <i64>tf;
      const num = load<u32>(state, S_NUM);
      if (num > 0) {
        const last = load<i64>(state, S_T);
        if (t < last) status = ST_OLDER;
        else if (t == last) {
          status = load<u64>(r, 16) == load<u64>(state, S_VBITS) ? ST_DUP_SAME : ST_DUP_OTHER;
        } else if (
          num >= <u32>maxSamples ||
          (bound > 0 && floorDiv(t, bound) != floorDiv(load<i64>(state, S_T0), bound))
        ) {
          status = ST_CUT;
        }
      }
      if (status == ST_OK) {
        const pos = <usize>load<u32>(state, S_BITPOS);
        if ((pos >> 3) + SAMPLE_HEADROOM > <usize>load<u32>(state, S_CAP)) status = ST_GROW;
        else {
          store<i64>(r, t, 8); // appendRun reads an i64 timestamp
          appendRun<i64>(state, r + 8, r + 16, 1);
          store<f64>(r, tf, 8);
        }
      }
      if (status == ST_CUT || status == ST_GROW) {
        store<u8>(state, flags | FLAG_BLOCKED, S_FLAGS);
      }
    }
    store<i32>(r, status, 4);
    if (status != ST_OK) pending++;
  }
  return pending;
}
