// Exports of the ddsketch kernel: a DDSketch quantile sketch (relative-error
// guarantee alpha) in unmanaged memory; the handle is the record's address.
// Every function validates its handle and pointer arguments and returns a
// negative error code (assembly/common/errors.ts) instead of trapping.
import {
  ERR_ARG,
  ERR_BOUNDS,
  ERR_CAPACITY,
  ERR_FULL,
  ERR_NOMEM,
} from "../common/errors";
import { inBounds } from "../common/memory";
import { deserialize, serializedSize, serializeTo } from "./codec";
import { MAX_ALPHA, MIN_ALPHA } from "./mapping";
import { sketchQuantile } from "./quantile";
import {
  isSketch,
  MAX_BINS,
  MIN_BINS,
  SK_ALPHA,
  SK_COUNT,
  SK_MAX,
  SK_MAXBINS,
  SK_MIN,
  SK_SUM,
  SK_ZERO,
  sketchAdd,
  sketchAddMany,
  sketchDelete,
  sketchMerge,
  sketchNew,
} from "./sketch";

/** Format version of ddsk_serialize blobs. */
export const ddsketch_version: i32 = 1;

/** Largest weight one add accepts (2^53). */
const MAX_WEIGHT: f64 = 9007199254740992.0;

/**
 * New empty sketch with relative accuracy alpha in [1e-6, 0.5] and at most
 * maxBins (16..65535) bins per store. Returns its handle, or ERR_ARG / ERR_NOMEM.
 */
export function ddsk_create(alpha: f64, maxBins: i32): i32 {
  if (!(alpha >= MIN_ALPHA && alpha <= MAX_ALPHA)) return ERR_ARG;
  if (maxBins < MIN_BINS || maxBins > MAX_BINS) return ERR_ARG;
  const h = sketchNew(alpha, maxBins);
  return h == 0 ? ERR_NOMEM : <i32>h;
}

/** Releases a sketch and its stores. Returns 0 or ERR_ARG. */
export function ddsk_free(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  sketchDelete(h);
  return 0;
}

/** Adds one value. Returns 1, 0 when v is NaN or ±Inf (ignored), or ERR_ARG. */
export function ddsk_add(h: usize, v: f64): i32 {
  if (!isSketch(h)) return ERR_ARG;
  return sketchAdd(h, v, 1.0);
}

/** Adds v with weight w in (0, 2^53]. Returns 1, 0 when v is NaN/±Inf, or ERR_ARG. */
export function ddsk_add_weighted(h: usize, v: f64, w: f64): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (!(w > 0.0 && w <= MAX_WEIGHT)) return ERR_ARG;
  return sketchAdd(h, v, w);
}

/**
 * Adds the n f64 values at ptr (weight 1 each; NaN and ±Inf skipped).
 * Returns the number accepted, or ERR_ARG / ERR_BOUNDS.
 */
export function ddsk_add_many(h: usize, ptr: usize, n: i32): i32 {
  if (!isSketch(h) || n < 0) return ERR_ARG;
  // 64-bit arithmetic: n * 8 may not fit in 32 bits.
  if (<u64>ptr + (<u64>n << 3) > (<u64>memory.size() << 16)) return ERR_BOUNDS;
  return sketchAddMany(h, ptr, n);
}

/**
 * Adds every value of src into dst (src unchanged; dst may equal src).
 * Returns 0, ERR_ARG (bad handle or different alpha) or ERR_FULL (the total
 * count would overflow).
 */
export function ddsk_merge(dst: usize, src: usize): i32 {
  if (!isSketch(dst) || !isSketch(src)) return ERR_ARG;
  if (load<f64>(dst, SK_ALPHA) != load<f64>(src, SK_ALPHA)) return ERR_ARG;
  if (!(load<f64>(dst, SK_COUNT) + load<f64>(src, SK_COUNT) < Infinity)) {
    return ERR_FULL;
  }
  sketchMerge(dst, src);
  return 0;
}

/** Value at quantile q in [0, 1] (lower quantile); NaN when empty, q invalid or bad handle. */
export function ddsk_quantile(h: usize, q: f64): f64 {
  if (!isSketch(h)) return NaN;
  return sketchQuantile(h, q);
}

/** Total weight added (NaN for a bad handle). */
export function ddsk_count(h: usize): f64 {
  return isSketch(h) ? load<f64>(h, SK_COUNT) : NaN;
}

/** Weighted sum of the values added (NaN for a bad handle). */
export function ddsk_sum(h: usize): f64 {
  return isSketch(h) ? load<f64>(h, SK_SUM) : NaN;
}

/** Smallest value added; NaN when empty or bad handle. */
export function ddsk_min(h: usize): f64 {
  if (!isSketch(h) || load<f64>(h, SK_COUNT) == 0.0) return NaN;
  return load<f64>(h, SK_MIN);
}

/** Largest value added; NaN when empty or bad handle. */
export function ddsk_max(h: usize): f64 {
  if (!isSketch(h) || load<f64>(h, SK_COUNT) == 0.0) return NaN;
  return load<f64>(h, SK_MAX);
}

/** Weight in the zero bucket (|v| < 2^-1022); NaN for a bad handle. */
export function ddsk_zero_count(h: usize): f64 {
  return isSketch(h) ? load<f64>(h, SK_ZERO) : NaN;
}

/** The sketch's relative accuracy; NaN for a bad handle. */
export function ddsk_alpha(h: usize): f64 {
  return isSketch(h) ? load<f64>(h, SK_ALPHA) : NaN;
}

/** The sketch's bin limit per store, or ERR_ARG. */
export function ddsk_max_bins(h: usize): i32 {
  return isSketch(h) ? load<i32>(h, SK_MAXBINS) : ERR_ARG;
}

/** Byte length ddsk_serialize will write, or ERR_ARG. */
export function ddsk_serialized_size(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  return <i32>serializedSize(h);
}

/** Writes the serialization into [out, out + cap). Returns its length, or ERR_ARG / ERR_BOUNDS / ERR_CAPACITY. */
export function ddsk_serialize(h: usize, out: usize, cap: i32): i32 {
  if (!isSketch(h) || cap < 0) return ERR_ARG;
  if (!inBounds(out, <usize>cap, 0)) return ERR_BOUNDS;
  if (<usize>cap < serializedSize(h)) return ERR_CAPACITY;
  return <i32>serializeTo(h, out);
}

/**
 * Rebuilds a sketch from the blob [ptr, ptr + len). Returns a new handle, or
 * ERR_BOUNDS / ERR_TRUNCATED / ERR_FORMAT / ERR_CORRUPT / ERR_NOMEM.
 */
export function ddsk_deserialize(ptr: usize, len: i32): i32 {
  if (len < 0) return ERR_ARG;
  if (!inBounds(ptr, <usize>len, 0)) return ERR_BOUNDS;
  return deserialize(ptr, <usize>len);
}
