// Exports of the XOR chunk kernel (Prometheus' chunk format, see
// docs/format/xor-chunk.md). Timestamps are int64 milliseconds; the *_f64t
// variants take and give them as f64 (exact for |t| <= 2^53).
import { ERR_ARG, ERR_BOUNDS, ERR_CAPACITY, ERR_FULL } from "../common/errors";
import { inBounds } from "../common/memory";
import { appenderAppend, appenderInit, appenderLength, appenderMove, appenderReset, appendRun } from "./encode";
import { appenderResume, decodeAll, decodeRange, seek } from "./decode";
import { FLAG_BLOCKED, FLAG_LEGACY_PAD, S_BUF, S_FLAGS, S_NUM, S_T, S_T0, SAMPLE_HEADROOM, STATE_SIZE } from "./state";
import { appendBatch, RECORD_SIZE } from "./batch";

export const XOR_STATE_SIZE: i32 = <i32>STATE_SIZE;

/** Flag for xor_app_init/xor_app_resume/xor_encode: pad as Prometheus 2.x does. */
export const XOR_LEGACY_PAD: i32 = FLAG_LEGACY_PAD;

/**
 * Starts an empty chunk in [buf, buf + cap) driven by the 48-byte state.
 * flags: 0 (Prometheus 3 byte layout) or XOR_LEGACY_PAD (Prometheus 2.x).
 */
export function xor_app_init(state: usize, buf: usize, cap: usize, flags: i32): i32 {
  return appenderInit(state, buf, cap, <u8>flags);
}

/** Appends (t, v); returns the new count or ERR_FULL. */
export function xor_app_append(state: usize, t: i64, v: f64): i32 {
  return appenderAppend(state, t, v);
}

/** Appends (t, v) with t as an integral f64; ERR_ARG when it is not one. */
export function xor_app_append_f64t(state: usize, t: f64, v: f64): i32 {
  if (Math.trunc(t) != t || t < -9223372036854775808.0 || t >= 9223372036854775808.0) {
    return ERR_ARG;
  }
  return appenderAppend(state, <i64>t, v);
}

/** Bytes of the open chunk (header included). */
export function xor_app_len(state: usize): i32 {
  return appenderLength(state);
}

/** Moves the open chunk into a larger buffer. */
export function xor_app_move(state: usize, buf: usize, cap: usize): i32 {
  return appenderMove(state, buf, cap);
}

/** Reopens a chunk for appending; returns its sample count. */
export function xor_app_resume(state: usize, buf: usize, len: usize, cap: usize, flags: i32): i32 {
  return appenderResume(state, buf, len, cap, <u8>flags);
}

/** Decodes a chunk into int64 timestamps and float64 values; returns the count. */
export function xor_decode(ptr: usize, len: usize, tsOut: usize, valOut: usize, cap: i32): i32 {
  return decodeAll<i64>(ptr, len, tsOut, valOut, cap);
}

/** Decodes a chunk into f64 timestamps and float64 values; returns the count. */
export function xor_decode_f64t(ptr: usize, len: usize, tsOut: usize, valOut: usize, cap: i32): i32 {
  return decodeAll<f64>(ptr, len, tsOut, valOut, cap);
}

/** Decodes the samples with min <= t <= max (both inclusive); f64 timestamps. */
export function xor_decode_range_f64t(
  ptr: usize, len: usize, min: f64, max: f64, tsOut: usize, valOut: usize, cap: i32,
): i32 {
  if (!inBounds(tsOut, <usize>cap << 3, 0) || !inBounds(valOut, <usize>cap << 3, 0)) {
    return ERR_BOUNDS;
  }
  return decodeRange<f64>(ptr, len, clampToI64(Math.ceil(min)), clampToI64(Math.floor(max)), tsOut, valOut, cap);
}

/** Index of the first sample at or after t (the count when none). */
export function xor_seek(ptr: usize, len: usize, t: i64): i32 {
  return seek(ptr, len, t);
}

/** xor_seek with t as f64 (non-integers round up). */
export function xor_seek_f64t(ptr: usize, len: usize, t: f64): i32 {
  return seek(ptr, len, clampToI64(Math.ceil(t)));
}

/**
 * Encodes n samples (int64 timestamps at tsPtr, float64 values at valPtr)
 * into chunks of at most maxPerChunk samples, written back to back at out.
 * For chunk k, index[2k] and index[2k+1] (u32) get its offset and length.
 * `state` is scratch for one appender (XOR_STATE_SIZE bytes). Returns the
 * number of chunks, or ERR_CAPACITY when out or index is too small. Sizing:
 * out needs 32 bytes per chunk plus 19 per sample at most.
 */
export function xor_encode(
  tsPtr: usize, valPtr: usize, n: i32, maxPerChunk: i32,
  out: usize, outCap: usize, index: usize, indexCap: i32, state: usize, flags: i32,
): i32 {
  return encode<i64>(tsPtr, valPtr, n, maxPerChunk, out, outCap, index, indexCap, state, <u8>flags);
}

/** xor_encode with f64 timestamps (ERR_ARG when one is not an integer). */
export function xor_encode_f64t(
  tsPtr: usize, valPtr: usize, n: i32, maxPerChunk: i32,
  out: usize, outCap: usize, index: usize, indexCap: i32, state: usize, flags: i32,
): i32 {
  return encode<f64>(tsPtr, valPtr, n, maxPerChunk, out, outCap, index, indexCap, state, <u8>flags);
}

// @ts-ignore: decorator
@inline
function encode<T>(
  tsPtr: usize, valPtr: usize, n: i32, maxPerChunk: i32,
  out: usize, outCap: usize, index: usize, indexCap: i32, state: usize, flags: u8,
): i32 {
  if (n < 0 || maxPerChunk < 1 || maxPerChunk > 0xffff || indexCap < 0) return ERR_ARG;
  if (
    !inBounds(tsPtr, <usize>n << 3, 0) || !inBounds(valPtr, <usize>n << 3, 0) ||
    !inBounds(out, outCap, 0) || !inBounds(index, <usize>indexCap << 3, 0) ||
    !inBounds(state, STATE_SIZE, 0)
  ) return ERR_BOUNDS;
  if (isFloat<T>()) {
    for (let i = 0; i < n; i++) {
      const t = load<f64>(tsPtr + (<usize>i << 3));
      if (Math.trunc(t) != t || t < -9223372036854775808.0 || t >= 9223372036854775808.0) return ERR_ARG;
    }
  }
  let chunks = 0;
  let offset: usize = 0;
  let i = 0;
  while (i < n) {
    if (chunks >= indexCap) return ERR_CAPACITY;
    if (outCap - offset < 2 + SAMPLE_HEADROOM) return ERR_CAPACITY;
    appenderReset(state, out + offset, outCap - offset, flags);
    const count = min(n - i, maxPerChunk);
    const done = appendRun<T>(state, tsPtr + (<usize>i << 3), valPtr + (<usize>i << 3), count);
    if (done < count) return ERR_CAPACITY;
    i += count;
    const len = <usize>appenderLength(state);
    store<u32>(index + (<usize>chunks << 3), <u32>offset);
    store<u32>(index + (<usize>chunks << 3), <u32>len, 4);
    offset += len;
    chunks++;
  }
  return chunks;
}

// @ts-ignore: decorator
@inline
function clampToI64(t: f64): i64 {
  if (t != t) return i64.MAX_VALUE; // NaN bound: matches nothing
  if (t <= -9223372036854775808.0) return i64.MIN_VALUE;
  if (t >= 9223372036854775808.0) return i64.MAX_VALUE;
  return <i64>t;
}

/** Bytes per record of xor_app_batch (see assembly/xor/batch.ts). */
export const XOR_BATCH_RECORD_SIZE: i32 = <i32>RECORD_SIZE;

/**
 * Appends a batch of (state, timestamp, value bits) records to their open
 * chunks, writing a status per record; returns how many are not ST_OK.
 */
export function xor_app_batch(rec: usize, n: i32, maxSamples: i32, boundary: f64): i32 {
  return appendBatch(rec, n, maxSamples, boundary);
}

/** Clears FLAG_BLOCKED (after the host cut or grew the chunk). */
export function xor_app_unblock(state: usize): void {
  store<u8>(state, load<u8>(state, S_FLAGS) & ~FLAG_BLOCKED, S_FLAGS);
}

/** The open chunk's sample count, last timestamp and first timestamp. */
export function xor_app_count(state: usize): i32 {
  return <i32>load<u32>(state, S_NUM);
}
export function xor_app_last_t(state: usize): f64 {
  return <f64>load<i64>(state, S_T);
}
export function xor_app_first_t(state: usize): f64 {
  return <f64>load<i64>(state, S_T0);
}
/** The open chunk's buffer pointer (moves when the chunk grows). */
export function xor_app_buf(state: usize): i32 {
  return <i32>load<u32>(state, S_BUF);
}
