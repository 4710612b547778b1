// The in-memory HyperLogLog sketch: one allocation holding a 16-byte header
// and 2^p one-byte registers (dense). A handle is the allocation's address.
//
//   offset 0  u32  TAG ("HLL1"), cleared on free so stale handles are refused
//   offset 4  u32  p, the precision (MIN_P..MAX_P)
//   offset 16 u8[2^p] registers: 0 = empty, else 1 + leading zeros (<= 65 - p)

import { inBounds } from "../common/memory";

export const MIN_P: i32 = 4;
export const MAX_P: i32 = 18;
const TAG: u32 = 0x314c4c48; // "HLL1" little-endian
export const HEADER: usize = 16;

/** Allocates an empty sketch of precision p (caller validated p). */
export function newSketch(p: i32): usize {
  const m = <usize>1 << p;
  const h = heap.alloc(HEADER + m);
  store<u32>(h, TAG);
  store<u32>(h, <u32>p, 4);
  store<u64>(h, 0, 8);
  memory.fill(h + HEADER, 0, m);
  return h;
}

/** True when `h` addresses a live sketch (tag, precision and range all check). */
export function isSketch(h: usize): bool {
  if (h == 0 || (h & 15) != 0 || !inBounds(h, HEADER, 0)) return false;
  if (load<u32>(h) != TAG) return false;
  const p = <i32>load<u32>(h, 4);
  if (p < MIN_P || p > MAX_P) return false;
  return inBounds(h + HEADER, <usize>1 << p, 0);
}

/** Marks the sketch dead and releases it. */
export function releaseSketch(h: usize): void {
  store<u32>(h, 0);
  heap.free(h);
}

// @ts-ignore: decorator
@inline
export function precisionOf(h: usize): i32 {
  return <i32>load<u32>(h, 4);
}

// @ts-ignore: decorator
@inline
export function registersOf(h: usize): usize {
  return h + HEADER;
}

/**
 * Records one 64-bit hash: the top p bits choose the register, the rank is
 * 1 + the leading zeros of the remaining 64 - p bits. The sentinel bit below
 * those bits caps the rank at 65 - p without a branch.
 */
// @ts-ignore: decorator
@inline
export function addHash(regs: usize, p: i32, hash: u64): void {
  const index = <usize>(hash >> <u64>(64 - p));
  const rest = (hash << <u64>p) | (<u64>1 << <u64>(p - 1));
  const rank = <u8>(clz<u64>(rest) + 1);
  const at = regs + index;
  if (rank > load<u8>(at)) store<u8>(at, rank);
}

/** Register-wise max of two sketches of equal precision. */
export function mergeEqual(dst: usize, src: usize, m: usize): void {
  for (let i: usize = 0; i < m; i++) {
    const s = load<u8>(src + i);
    if (s > load<u8>(dst + i)) store<u8>(dst + i, s);
  }
}

/**
 * Merges a sketch of precision srcP into one of lower precision dstP. A source
 * register j carries hash bits [0, srcP) = j, so in the target it lands at
 * j >> d (d = srcP - dstP) and the d low bits of j become the leading bits of
 * the rank field: rank = 1 + their leading zeros when they are not all zero,
 * else d + the source rank.
 */
export function mergeFold(dst: usize, dstP: i32, src: usize, srcP: i32): void {
  const d = srcP - dstP;
  const lowMask: u32 = (<u32>1 << <u32>d) - 1;
  const mSrc: u32 = <u32>1 << <u32>srcP;
  for (let j: u32 = 0; j < mSrc; j++) {
    const r = <u32>load<u8>(src + j);
    if (r == 0) continue;
    const low = j & lowMask;
    const rank = low != 0 ? clz<u32>(low) - <u32>(32 - d) + 1 : <u32>d + r;
    const at = dst + (j >> <u32>d);
    if (<u8>rank > load<u8>(at)) store<u8>(at, <u8>rank);
  }
}
