// The XOR chunk reader: Prometheus' chunkenc.xorIterator semantics, decoding
// a whole chunk (or the samples in a time range) into caller-owned arrays.
import {
  ERR_BOUNDS,
  ERR_CAPACITY,
  ERR_CORRUPT,
  ERR_NOMEM,
  ERR_TRUNCATED,
} from "../common/errors";
import { inBounds, READ_SLACK } from "../common/memory";
import { reverseInto, rpeek57, rpeek64 } from "./bits";
import {
  FLAG_LEGACY_PAD,
  FLAG_TAIL,
  S_BITPOS,
  S_BUF,
  S_CAP,
  S_FLAGS,
  S_LEADING,
  S_NUM,
  S_T,
  S_T0,
  S_TDELTA,
  S_TRAILING,
  S_VBITS,
  SAMPLE_HEADROOM,
  STATE_SIZE,
} from "./state";

// The cursor lives in globals: one decode runs at a time (WASM is
// single-threaded), and globals keep the hot loop in registers.
let gPos: u64 = 0;
let gT: i64 = 0;
let gTDelta: i64 = 0;
let gV: u64 = 0;
let gLeading: u32 = 0;
let gTrailing: u32 = 0;
let gSawWindow: bool = false;
let gT0: i64 = 0;
let gErr: i32 = 0;

// @ts-ignore: decorator
@inline
function readUvarint(base: usize, end: usize): u64 {
  // Byte-aligned by construction of the format; Go's ReadUvarint rules.
  let p = base + <usize>(gPos >> 3);
  let x: u64 = 0;
  let shift: u64 = 0;
  for (let i = 0; i < 10; i++) {
    if (p >= end) {
      gErr = ERR_TRUNCATED;
      gPos = <u64>(end - base + 1) << 3; // past the end: nothing more is read
      return 0;
    }
    const b = <u64>load<u8>(p++);
    if (b < 0x80) {
      if (i == 9 && b > 1) {
        gErr = ERR_CORRUPT; // overflows 64 bits
        return 0;
      }
      gPos = <u64>(p - base) << 3;
      return x | (b << shift);
    }
    x |= (b & 0x7f) << shift;
    shift += 7;
  }
  gErr = ERR_CORRUPT;
  return 0;
}

/** Reads the chunk's first sample. */
// @ts-ignore: decorator
@inline
function readFirst(base: usize, end: usize, rb: usize): void {
  const zz = readUvarint(base, end);
  if (gErr != 0) return;
  gT = <i64>(zz >> 1) ^ -(<i64>(zz & 1));
  gV = rpeek64(rb, gPos);
  gPos += 64;
}

// Values above 2^(n-1) are negative (Prometheus' bstream convention).
// @ts-ignore: decorator
@inline
function signed(bits: i64, n: i64): i64 {
  return bits > (<i64>1 << (n - 1)) ? bits - (<i64>1 << n) : bits;
}

/** Reads an XOR value at gPos into gV (used for the second sample only). */
function readValue(rb: usize): void {
  const w = rpeek57(rb, gPos);
  if ((w >> 63) == 0) {
    gPos += 1;
    return;
  }
  let mbits: u32;
  if ((w >> 62) == 0b10) {
    mbits = 64 - gLeading - gTrailing;
    gPos += 2;
  } else {
    const leading = <u32>((w >> 57) & 31);
    mbits = <u32>((w >> 51) & 63);
    if (mbits == 0) mbits = 64;
    gPos += 13;
    if (leading + mbits > 64) {
      gErr = ERR_CORRUPT;
      return;
    }
    gLeading = leading;
    gTrailing = 64 - leading - mbits;
    gSawWindow = true;
  }
  const bits = rpeek64(rb, gPos) >> (64 - <u64>mbits); // mbits >= 1
  gPos += <u64>mbits;
  gV ^= bits << <u64>gTrailing;
}

const MODE_DECODE = 0; // store samples with min <= t <= max
const MODE_SEEK = 1; // return the index of the first t >= min
const MODE_RESUME = 2; // read to the end, leave the cursor in the globals

/**
 * The one decoding loop. The first two samples go through the globals; the
 * rest run on locals (V8 keeps them in registers) with one 8-byte load per
 * control field. `mode` and T are compile-time constants at every call site,
 * so each caller gets its own specialized loop.
 */
// @ts-ignore: decorator
@inline
function scan<T>(
  ptr: usize, len: usize, min: i64, max: i64,
  tsOut: usize, valOut: usize, cap: i32, mode: i32,
): i32 {
  if (!inBounds(ptr, len, READ_SLACK)) return ERR_BOUNDS;
  if (len < 2) return ERR_TRUNCATED;
  const num = <i32>bswap<u16>(load<u16>(ptr));
  const end = ptr + len;
  const rb = reverseInto(ptr, len);
  if (rb == 0) return ERR_NOMEM;
  const bitEnd = <u64>len << 3;
  gPos = 16;
  gT = 0;
  gTDelta = 0;
  gV = 0;
  gLeading = 0;
  gTrailing = 0;
  gSawWindow = false;
  gErr = 0;
  let n = 0;
  let i = 0;
  // Samples 0 and 1: varint-coded, read through the globals.
  for (; i < num && i < 2; i++) {
    if (i == 0) {
      readFirst(ptr, end, rb);
      gT0 = gT;
    } else {
      gTDelta = <i64>readUvarint(ptr, end);
      if (gErr == 0) {
        gT += gTDelta;
        readValue(rb);
      }
    }
    if (gPos > bitEnd) return ERR_TRUNCATED;
    if (gErr != 0) return gErr;
    if (mode == MODE_SEEK) {
      if (gT >= min) return i;
    } else if (mode == MODE_DECODE) {
      if (gT >= min && gT <= max) {
        if (n >= cap) return ERR_CAPACITY;
        store<T>(tsOut + (<usize>n << 3), <T>gT);
        store<u64>(valOut + (<usize>n << 3), gV);
        n++;
      }
    }
  }
  let pos = gPos;
  let t = gT;
  let tDelta = gTDelta;
  let v = gV;
  let leading = <u64>gLeading;
  let trailing = <u64>gTrailing;
  let sawWindow = gSawWindow;
  for (; i < num; i++) {
    // Delta of delta: '0', '10'+14, '110'+17, '1110'+20 or '1111'+64 bits.
    let w = rpeek57(rb, pos);
    if ((w >> 63) == 0) {
      pos += 1;
      w <<= 1;
    } else if ((w >> 62) == 0b10) {
      tDelta += signed(<i64>((w >> 48) & 0x3fff), 14);
      pos += 16;
      w <<= 16;
    } else if ((w >> 61) == 0b110) {
      tDelta += signed(<i64>((w >> 44) & 0x1ffff), 17);
      pos += 20;
      w <<= 20;
    } else if ((w >> 60) == 0b1110) {
      tDelta += signed(<i64>((w >> 40) & 0xfffff), 20);
      pos += 24;
      w <<= 24;
    } else {
      tDelta += <i64>rpeek64(rb, pos + 4);
      pos += 68;
      w = rpeek57(rb, pos);
    }
    t += tDelta;
    // Value: '0' unchanged, '10' same window, '11' new window.
    if ((w >> 63) != 0) {
      let mbits: u64;
      if ((w >> 62) == 0b10) {
        mbits = 64 - leading - trailing;
        pos += 2;
      } else {
        const lead = (w >> 57) & 31;
        mbits = (w >> 51) & 63;
        if (mbits == 0) mbits = 64;
        pos += 13;
        if (lead + mbits > 64) {
          if (pos > bitEnd) return ERR_TRUNCATED;
          return ERR_CORRUPT;
        }
        leading = lead;
        trailing = 64 - lead - mbits;
        sawWindow = true;
      }
      v ^= (rpeek64(rb, pos) >> (64 - mbits)) << trailing;
      pos += mbits;
    } else {
      pos += 1;
    }
    if (pos > bitEnd) return ERR_TRUNCATED;
    if (mode == MODE_SEEK) {
      if (t >= min) return i;
    } else if (mode == MODE_DECODE) {
      // No early exit past max: a chunk need not be sorted.
      if (t >= min && t <= max) {
        if (n >= cap) return ERR_CAPACITY;
        store<T>(tsOut + (<usize>n << 3), <T>t);
        store<u64>(valOut + (<usize>n << 3), v);
        n++;
      }
    }
  }
  if (mode == MODE_RESUME) {
    gPos = pos;
    gT = t;
    gTDelta = tDelta;
    gV = v;
    gLeading = <u32>leading;
    gTrailing = <u32>trailing;
    gSawWindow = sawWindow;
    return num;
  }
  return mode == MODE_SEEK ? num : n;
}

/**
 * Decodes every sample with min <= t <= max into tsOut[]/valOut[] (T is i64
 * or f64 timestamps). Returns the number written, or an error.
 */
// @ts-ignore: decorator
@inline
export function decodeRange<T>(
  ptr: usize, len: usize, min: i64, max: i64,
  tsOut: usize, valOut: usize, cap: i32,
): i32 {
  return scan<T>(ptr, len, min, max, tsOut, valOut, cap, MODE_DECODE);
}

/** Decodes the whole chunk; ERR_CAPACITY up front when cap is too small. */
// @ts-ignore: decorator
@inline
export function decodeAll<T>(
  ptr: usize, len: usize, tsOut: usize, valOut: usize, cap: i32,
): i32 {
  if (len >= 2 && inBounds(ptr, 2, 0)) {
    if (<i32>bswap<u16>(load<u16>(ptr)) > cap) return ERR_CAPACITY;
  }
  if (!inBounds(tsOut, <usize>cap << 3, 0) || !inBounds(valOut, <usize>cap << 3, 0)) {
    return ERR_BOUNDS;
  }
  return decodeRange<T>(ptr, len, i64.MIN_VALUE, i64.MAX_VALUE, tsOut, valOut, cap);
}

/**
 * Index of the first sample with timestamp >= t (the count when none), or
 * an error. Validates the samples it passes over.
 */
export function seek(ptr: usize, len: usize, t: i64): i32 {
  return scan<i64>(ptr, len, t, 0, 0, 0, 0, MODE_SEEK);
}

/**
 * Reopens an existing chunk [ptr, ptr + len) for appending, in a buffer of
 * `cap` bytes (the chunk must already be there): restores the appender
 * state as if its samples had just been appended. Returns the sample count,
 * or an error.
 */
export function appenderResume(state: usize, ptr: usize, len: usize, cap: usize, flags: u8): i32 {
  if (!inBounds(state, STATE_SIZE, 0) || !inBounds(ptr, cap, 0)) return ERR_BOUNDS;
  if (cap < len + SAMPLE_HEADROOM) return ERR_CAPACITY;
  const num = scan<i64>(ptr, len, 0, 0, 0, 0, 0, MODE_RESUME);
  if (num < 0) return num;
  // The writer needs zeros after its position.
  const used = <usize>((gPos + 7) >> 3);
  if (gPos & 7) {
    const last = ptr + used - 1;
    store<u8>(last, load<u8>(last) & <u8>(<u32>0xff << (8 - <u32>(gPos & 7))));
  }
  memory.fill(ptr + used, 0, cap - used);
  store<u32>(state, <u32>ptr, S_BUF);
  store<u32>(state, <u32>cap, S_CAP);
  store<u32>(state, <u32>gPos, S_BITPOS);
  store<u32>(state, <u32>num, S_NUM);
  store<i64>(state, gT, S_T);
  store<i64>(state, gTDelta, S_TDELTA);
  store<u64>(state, gV, S_VBITS);
  store<i64>(state, num > 0 ? gT0 : 0, S_T0);
  // No XOR window yet means the writer had none either (0xff), so appending
  // continues exactly as an uninterrupted appender would.
  store<u8>(state, gSawWindow ? <u8>gLeading : 0xff, S_LEADING);
  store<u8>(state, <u8>gTrailing, S_TRAILING);
  // A legacy chunk that ends in an empty byte keeps it until more is written.
  const tail = <usize>len > used && num > 0 ? FLAG_TAIL : 0;
  store<u8>(state, (flags & FLAG_LEGACY_PAD) | tail, S_FLAGS);
  return num;
}
