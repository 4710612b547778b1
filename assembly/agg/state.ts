// The streaming state of one aggregation (128 bytes, caller-owned memory;
// layout documented in docs/format/agg.md). Everything the forward pass needs
// to resume where the previous chunk stopped lives here.

import { ERR_ARG, ERR_BOUNDS } from "../common/errors";
import { inBounds } from "../common/memory";
import { bucketEnd, gridBucketCount } from "./grid";

export const STATE_SIZE: usize = 128;
/** "AGG1" read as a little-endian u32: marks an initialised state. */
export const STATE_MAGIC: u32 = 0x31474741;

export const FLAG_HAS_PREV: u32 = 1;
export const FLAG_POISONED: u32 = 2;

// Field offsets.
export const S_MAGIC: usize = 0; // u32
export const S_FLAGS: usize = 4; // u32
export const S_OUT: usize = 8; // u32 output pointer
export const S_CAP: usize = 12; // u32 output capacity (buckets per field)
export const S_NBUCKETS: usize = 16; // i32
export const S_BUCKET: usize = 20; // i32 current bucket index (-1 before the first)
export const S_START: usize = 24; // f64
export const S_END: usize = 32; // f64
export const S_STEP: usize = 40; // f64
export const S_BUCKET_END: usize = 48; // f64 exclusive end of current bucket (clamped)
export const S_LAST_TS: usize = 56; // f64 last timestamp seen (-Inf initially)
export const S_PREV: usize = 64; // f64 previous counter value (valid with FLAG_HAS_PREV)
export const S_COUNT: usize = 72; // f64 accumulators of the current bucket...
export const S_SUM: usize = 80;
export const S_MIN: usize = 88; // from +Inf, NaNs skipped
export const S_MAX: usize = 96; // from -Inf, NaNs skipped
export const S_FIRST: usize = 104;
export const S_LAST: usize = 112;
export const S_INCREASE: usize = 120;

/** Number of f64 fields per bucket in the output (struct of arrays). */
export const FIELDS: u64 = 7;

/** Bytes of the output area for `cap` buckets, as u64 (cannot overflow). */
// @ts-ignore: decorator
@inline
export function outBytes(cap: u32): u64 {
  return <u64>cap * FIELDS * 8;
}

/** True when [a, a + aLen) and [b, b + bLen) share a byte. */
// @ts-ignore: decorator
@inline
export function overlaps(a: usize, aLen: u64, b: usize, bLen: u64): bool {
  return aLen != 0 && bLen != 0 && <u64>a < <u64>b + bLen &&
    <u64>b < <u64>a + aLen;
}

/** True when `bytes` (u64) starting at ptr lies inside linear memory. */
// @ts-ignore: decorator
@inline
export function rangeInMemory(ptr: usize, bytes: u64): bool {
  return bytes <= <u64>u32.MAX_VALUE && inBounds(ptr, <usize>bytes, 0);
}

/**
 * Checks that `state` holds a consistent, unpoisoned state (it is caller
 * memory, so a stray write must give an error, never a trap or an
 * out-of-range store). Returns 0 or a negative error code.
 */
export function checkState(state: usize): i32 {
  if (!rangeInMemory(state, STATE_SIZE)) return ERR_BOUNDS;
  if (load<u32>(state, S_MAGIC) != STATE_MAGIC) return ERR_ARG;
  if ((load<u32>(state, S_FLAGS) & FLAG_POISONED) != 0) return ERR_ARG;
  const start = load<f64>(state, S_START);
  const end = load<f64>(state, S_END);
  const step = load<f64>(state, S_STEP);
  const n = gridBucketCount(start, end, step);
  if (n < 0 || n != <i64>load<i32>(state, S_NBUCKETS)) return ERR_ARG;
  const cap = load<u32>(state, S_CAP);
  if (<u64>n > <u64>cap) return ERR_ARG;
  const out = <usize>load<u32>(state, S_OUT);
  if (!rangeInMemory(out, outBytes(cap))) return ERR_BOUNDS;
  if (overlaps(out, outBytes(cap), state, STATE_SIZE)) return ERR_ARG;
  const b = load<i32>(state, S_BUCKET);
  const count = load<f64>(state, S_COUNT);
  // b == -1 until the first sample in range, then a valid bucket holding at
  // least that sample.
  if (b < -1 || <i64>b >= n) return ERR_ARG;
  if (b == -1 ? count != 0 : !(count >= 1)) return ERR_ARG;
  if (load<f64>(state, S_BUCKET_END) != bucketEnd(start, end, step, b)) {
    return ERR_ARG;
  }
  return 0;
}
