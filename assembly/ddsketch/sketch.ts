// The sketch record in unmanaged memory; its address is the handle.
//
//   @0  tag u32 (SKETCH_TAG while alive)   @4  maxBins i32
//   @8  alpha f64    @16 multiplier f64    @24 repFactor f64 (1 + design accuracy)
//   @32 count f64    @40 sum f64           @48 min f64 (+Inf when empty)
//   @56 max f64 (-Inf when empty)          @64 zero-bucket count f64
//   @72 minIndex i32 @76 maxIndex i32      (valid index range of the mapping)
//   @80 positive store (16 bytes)          @96 negative store (16 bytes)
import { inBounds } from "../common/memory";
import {
  ABS_MASK,
  designAccuracy,
  indexOf,
  INF_BITS,
  maxIndex,
  MIN_NORMAL_BITS,
  minIndex,
  multiplierFor,
} from "./mapping";
import {
  ST_CAP,
  ST_COUNTS,
  ST_FLOOR,
  ST_OFFSET,
  rangeHi,
  rangeLo,
  storeAdd,
  storeInit,
  storeRange,
  storeRelease,
} from "./store";

export const SKETCH_TAG: u32 = 0x4b534444; // "DDSK"
export const SK_MAXBINS: usize = 4;
export const SK_ALPHA: usize = 8;
export const SK_MULT: usize = 16;
export const SK_REP: usize = 24;
export const SK_COUNT: usize = 32;
export const SK_SUM: usize = 40;
export const SK_MIN: usize = 48;
export const SK_MAX: usize = 56;
export const SK_ZERO: usize = 64;
export const SK_MINIDX: usize = 72;
export const SK_MAXIDX: usize = 76;
export const SK_POS: usize = 80;
export const SK_NEG: usize = 96;
export const SKETCH_SIZE: usize = 112;

export const MIN_BINS: i32 = 16;
export const MAX_BINS: i32 = 65535;
export const DEFAULT_BINS: i32 = 4096;

/** True when `h` points at a live sketch record. */
export function isSketch(h: usize): bool {
  return h != 0 && (h & 15) == 0 && inBounds(h, SKETCH_SIZE, 0) &&
    load<u32>(h) == SKETCH_TAG;
}

/** Allocates an empty sketch (arguments already validated); 0 when the address does not fit an i32. */
export function sketchNew(alpha: f64, maxBins: i32): usize {
  const h = heap.alloc(SKETCH_SIZE);
  if (h > <usize>i32.MAX_VALUE) {
    heap.free(h);
    return 0;
  }
  const mult = multiplierFor(alpha);
  store<u32>(h, SKETCH_TAG);
  store<i32>(h, maxBins, SK_MAXBINS);
  store<f64>(h, alpha, SK_ALPHA);
  store<f64>(h, mult, SK_MULT);
  store<f64>(h, 1.0 + designAccuracy(alpha), SK_REP);
  store<f64>(h, 0.0, SK_COUNT);
  store<f64>(h, 0.0, SK_SUM);
  store<f64>(h, Infinity, SK_MIN);
  store<f64>(h, -Infinity, SK_MAX);
  store<f64>(h, 0.0, SK_ZERO);
  store<i32>(h, minIndex(mult), SK_MINIDX);
  store<i32>(h, maxIndex(mult), SK_MAXIDX);
  storeInit(h + SK_POS);
  storeInit(h + SK_NEG);
  return h;
}

export function sketchDelete(h: usize): void {
  storeRelease(h + SK_POS);
  storeRelease(h + SK_NEG);
  store<u32>(h, 0);
  heap.free(h);
}

/**
 * Adds weight w to the bin of a normal, finite value given its bits: the
 * sign selects the store record arithmetically (negative values under negated
 * indices); the slow path (window growth, collapsing) is a call.
 */
// @ts-ignore: decorator
@inline
function addToBin(h: usize, bits: u64, abs: u64, w: f64, mult: f64): void {
  const neg = <i32>(bits >> 63);
  let index = (indexOf(abs, mult) ^ -neg) + neg;
  const st = h + SK_POS + (<usize>neg << 4);
  const floor = load<i32>(st, ST_FLOOR);
  if (index < floor) index = floor;
  const k = index - load<i32>(st, ST_OFFSET);
  if (<u32>k < <u32>load<i32>(st, ST_CAP)) {
    const c = <usize>load<u32>(st, ST_COUNTS) + (<usize>k << 3);
    store<f64>(c, load<f64>(c) + w);
  } else {
    storeAdd(st, index, w, load<i32>(h, SK_MAXBINS));
  }
}

/** Adds v with weight w (w > 0 finite, checked by the caller). Returns 1, or 0 when v is NaN/±Inf (ignored). */
// @ts-ignore: decorator
@inline
export function sketchAdd(h: usize, v: f64, w: f64): i32 {
  const bits = reinterpret<u64>(v);
  const abs = bits & ABS_MASK;
  if (abs >= INF_BITS) return 0;
  store<f64>(h, load<f64>(h, SK_COUNT) + w, SK_COUNT);
  store<f64>(h, load<f64>(h, SK_SUM) + v * w, SK_SUM);
  if (v < load<f64>(h, SK_MIN)) store<f64>(h, v, SK_MIN);
  if (v > load<f64>(h, SK_MAX)) store<f64>(h, v, SK_MAX);
  if (abs < MIN_NORMAL_BITS) {
    store<f64>(h, load<f64>(h, SK_ZERO) + w, SK_ZERO);
  } else {
    addToBin(h, bits, abs, w, load<f64>(h, SK_MULT));
  }
  return 1;
}

/**
 * Adds n values from a f64 array (weight 1 each), skipping NaN and ±Inf.
 * Statistics live in locals for the whole batch, accumulated value by value
 * exactly as sketchAdd would (a count made fractional by weighted adds
 * rounds the same way); the per-value path has no call and only
 * predictable branches. Returns how many were accepted.
 */
export function sketchAddMany(h: usize, ptr: usize, n: i32): i32 {
  const mult = load<f64>(h, SK_MULT);
  let sum = load<f64>(h, SK_SUM);
  let min = load<f64>(h, SK_MIN);
  let max = load<f64>(h, SK_MAX);
  let count = load<f64>(h, SK_COUNT);
  let zeros = load<f64>(h, SK_ZERO);
  let accepted = 0;
  const end = ptr + (<usize>n << 3);
  for (let p = ptr; p < end; p += 8) {
    const v = load<f64>(p);
    const bits = reinterpret<u64>(v);
    const abs = bits & ABS_MASK;
    if (abs >= INF_BITS) continue;
    accepted++;
    count += 1.0;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (abs < MIN_NORMAL_BITS) {
      zeros += 1.0;
      continue;
    }
    addToBin(h, bits, abs, 1.0, mult);
  }
  store<f64>(h, count, SK_COUNT);
  store<f64>(h, sum, SK_SUM);
  store<f64>(h, min, SK_MIN);
  store<f64>(h, max, SK_MAX);
  store<f64>(h, zeros, SK_ZERO);
  return accepted;
}

/** Adds every bin of src's store into dst's store, highest index first. */
function mergeStore(dstStore: usize, srcStore: usize, maxBins: i32): void {
  const counts = <usize>load<u32>(srcStore, ST_COUNTS);
  const cap = load<i32>(srcStore, ST_CAP);
  const offset = load<i32>(srcStore, ST_OFFSET);
  if (!storeRange(srcStore)) return;
  const lo = rangeLo;
  const hi = rangeHi;
  // Fast path: when dst's window already covers [lo, hi] above its floor,
  // every storeAdd below would be a plain addition to its own bin, so one
  // tight loop gives bit-identical counts.
  const dOffset = load<i32>(dstStore, ST_OFFSET);
  const dCap = load<i32>(dstStore, ST_CAP);
  if (
    lo >= load<i32>(dstStore, ST_FLOOR) && lo >= dOffset &&
    <i64>hi < <i64>dOffset + <i64>dCap
  ) {
    const src = counts + (<usize>(lo - offset) << 3);
    const dst = <usize>load<u32>(dstStore, ST_COUNTS) + (<usize>(lo - dOffset) << 3);
    const n = <usize>(hi - lo + 1);
    for (let i: usize = 0; i < n; i++) {
      const q = dst + (i << 3);
      store<f64>(q, load<f64>(q) + load<f64>(src + (i << 3)));
    }
    return;
  }
  for (let i = cap - 1; i >= 0; i--) {
    const c = load<f64>(counts + (<usize>i << 3));
    if (c != 0.0) storeAdd(dstStore, offset + i, c, maxBins);
  }
}

/** Merges src into dst (same alpha, checked by the caller). */
export function sketchMerge(dst: usize, src: usize): void {
  const maxBins = load<i32>(dst, SK_MAXBINS);
  // Highest-first adds grow each window once, then clamp onto any floor.
  mergeStore(dst + SK_POS, src + SK_POS, maxBins);
  mergeStore(dst + SK_NEG, src + SK_NEG, maxBins);
  store<f64>(dst, load<f64>(dst, SK_COUNT) + load<f64>(src, SK_COUNT), SK_COUNT);
  store<f64>(dst, load<f64>(dst, SK_SUM) + load<f64>(src, SK_SUM), SK_SUM);
  const srcMin = load<f64>(src, SK_MIN);
  const srcMax = load<f64>(src, SK_MAX);
  if (srcMin < load<f64>(dst, SK_MIN)) store<f64>(dst, srcMin, SK_MIN);
  if (srcMax > load<f64>(dst, SK_MAX)) store<f64>(dst, srcMax, SK_MAX);
  store<f64>(dst, load<f64>(dst, SK_ZERO) + load<f64>(src, SK_ZERO), SK_ZERO);
}
