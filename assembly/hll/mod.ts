// Exports of the hll kernel: HyperLogLog distinct counting. A sketch is an
// opaque handle (an i32 address); every function returns a negative error
// code (assembly/common/errors.ts) for a bad handle, argument or buffer.

import { ERR_ARG, ERR_BOUNDS, ERR_CAPACITY } from "../common/errors";
import { inBounds } from "../common/memory";
import { estimateCardinality } from "./estimate";
import { deserializeFrom, FORMAT_VERSION, serializedSize, serializeTo } from "./serialize";
import {
  addHash,
  isSketch,
  MAX_P,
  mergeEqual,
  mergeFold,
  MIN_P,
  newSketch,
  precisionOf,
  registersOf,
  releaseSketch,
} from "./sketch";
import { xxh64, xxh64Word } from "./xxhash64";

/** Version of the serialization format written by hll_serialize. */
export const hll_version: i32 = FORMAT_VERSION;

// Largest batch accepted by the hll_add_* functions, so sizes never overflow.
const MAX_BATCH: u32 = 1 << 28;
// The canonical NaN every NaN is hashed as, so all NaNs count once.
const CANONICAL_NAN: u64 = 0x7ff8000000000000;

/** New empty sketch with 2^p registers (4 <= p <= 18): its handle, or ERR_ARG. */
export function hll_create(p: i32): i32 {
  if (p < MIN_P || p > MAX_P) return ERR_ARG;
  return <i32>newSketch(p);
}

/** Releases a sketch; ERR_ARG when `h` is not a live sketch. */
export function hll_free(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  releaseSketch(h);
  return 0;
}

/** Precision p of the sketch. */
export function hll_precision(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  return precisionOf(h);
}

/** Address of the 2^p one-byte registers (read them, do not write). */
export function hll_registers(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  return <i32>registersOf(h);
}

/** Empties the sketch. */
export function hll_clear(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  memory.fill(registersOf(h), 0, <usize>1 << precisionOf(h));
  return 0;
}

/** XXH64 with `seed` of `len` bytes at `ptr` (exported to test the hash). */
export function hll_hash_bytes(ptr: usize, len: usize, seed: u64): u64 {
  if (!inBounds(ptr, len, 0)) return <u64>ERR_BOUNDS;
  return xxh64(ptr, len, seed);
}

/** Adds one value given as `len` bytes at `ptr`. */
export function hll_add_bytes(h: usize, ptr: usize, len: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (!inBounds(ptr, len, 0)) return ERR_BOUNDS;
  addHash(registersOf(h), precisionOf(h), xxh64(ptr, len, 0));
  return 0;
}

/**
 * Adds n byte strings: value i is data[offsets[i] .. offsets[i+1]) with n + 1
 * u32 offsets at `offsetsPtr`. Nothing is added unless all offsets are
 * non-decreasing and inside memory. Returns n.
 */
export function hll_add_many(h: usize, dataPtr: usize, offsetsPtr: usize, n: u32): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (n > MAX_BATCH) return ERR_ARG;
  if (!inBounds(offsetsPtr, (<usize>n + 1) << 2, 0)) return ERR_BOUNDS;
  let previous = load<u32>(offsetsPtr);
  for (let i: usize = 1; i <= <usize>n; i++) {
    const next = load<u32>(offsetsPtr + (i << 2));
    if (next < previous) return ERR_ARG;
    previous = next;
  }
  if (!inBounds(dataPtr, <usize>previous, 0)) return ERR_BOUNDS;
  const regs = registersOf(h);
  const p = precisionOf(h);
  let start = load<u32>(offsetsPtr);
  for (let i: usize = 1; i <= <usize>n; i++) {
    const stop = load<u32>(offsetsPtr + (i << 2));
    addHash(regs, p, xxh64(dataPtr + start, stop - start, 0));
    start = stop;
  }
  return <i32>n;
}

/**
 * Adds n f64 values at `ptr`, each hashed as its 8 little-endian bytes after
 * -0 becomes 0 and every NaN becomes the canonical NaN. Returns n.
 */
export function hll_add_f64(h: usize, ptr: usize, n: u32): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (n > MAX_BATCH) return ERR_ARG;
  if (!inBounds(ptr, <usize>n << 3, 0)) return ERR_BOUNDS;
  const regs = registersOf(h);
  const p = precisionOf(h);
  for (let i: usize = 0; i < <usize>n; i++) {
    const x = load<f64>(ptr + (i << 3));
    let bits = reinterpret<u64>(x);
    if (x == 0.0) bits = 0;
    else if (x != x) bits = CANONICAL_NAN;
    addHash(regs, p, xxh64Word(bits));
  }
  return <i32>n;
}

/** Adds n precomputed 64-bit hashes (u64, little-endian) at `ptr`. Returns n. */
export function hll_add_hashes(h: usize, ptr: usize, n: u32): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (n > MAX_BATCH) return ERR_ARG;
  if (!inBounds(ptr, <usize>n << 3, 0)) return ERR_BOUNDS;
  const regs = registersOf(h);
  const p = precisionOf(h);
  for (let i: usize = 0; i < <usize>n; i++) {
    addHash(regs, p, load<u64>(ptr + (i << 3)));
  }
  return <i32>n;
}

/**
 * Merges `src` into `dst`: register-wise max at equal precision, folded down
 * when src has the higher precision; ERR_ARG when dst has the higher one.
 */
export function hll_merge(dst: usize, src: usize): i32 {
  if (!isSketch(dst) || !isSketch(src)) return ERR_ARG;
  const dstP = precisionOf(dst);
  const srcP = precisionOf(src);
  if (dstP > srcP) return ERR_ARG;
  if (dst == src) return 0;
  if (dstP == srcP) {
    mergeEqual(registersOf(dst), registersOf(src), <usize>1 << dstP);
  } else {
    mergeFold(registersOf(dst), dstP, registersOf(src), srcP);
  }
  return 0;
}

/** Estimated number of distinct values (a negative error code for a bad handle). */
export function hll_estimate(h: usize): f64 {
  if (!isSketch(h)) return <f64>ERR_ARG;
  return estimateCardinality(registersOf(h), precisionOf(h));
}

/** Exact size in bytes of the sketch's serialization. */
export function hll_serialized_size(h: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  return <i32>serializedSize(registersOf(h), precisionOf(h));
}

/** Writes the serialization into `cap` bytes at `out`; returns its size or ERR_CAPACITY. */
export function hll_serialize(h: usize, out: usize, cap: usize): i32 {
  if (!isSketch(h)) return ERR_ARG;
  if (!inBounds(out, cap, 0)) return ERR_BOUNDS;
  const regs = registersOf(h);
  const p = precisionOf(h);
  if (serializedSize(regs, p) > cap) return ERR_CAPACITY;
  return <i32>serializeTo(regs, p, out);
}

/** A new sketch decoded from `len` bytes at `ptr`: its handle or an error code. */
export function hll_deserialize(ptr: usize, len: usize): i32 {
  if (!inBounds(ptr, len, 0)) return ERR_BOUNDS;
  return deserializeFrom(ptr, len);
}
