// The byte format of a sketch (docs/format/hll.md): a 5-byte header, a sparse
// or dense body, whichever is smaller, and a 4-byte checksum. Decoding checks
// every field and the checksum, so any foreign, truncated or damaged blob is
// refused with an error code instead of becoming a wrong sketch.

import { ERR_CORRUPT, ERR_FORMAT, ERR_TRUNCATED } from "../common/errors";
import { MAX_P, MIN_P, newSketch, registersOf, releaseSketch } from "./sketch";
import { xxh64 } from "./xxhash64";

const MAGIC0: u8 = 0x48; // 'H'
const MAGIC1: u8 = 0x4c; // 'L'
export const FORMAT_VERSION: u8 = 1;
const ENCODING_SPARSE: u8 = 0;
const ENCODING_DENSE: u8 = 1;
const HEADER_SIZE: usize = 5;
const CHECKSUM_SIZE: usize = 4;
// A sparse entry packs (gap to the previous index - 1) above a 6-bit rank.
const RANK_BITS: u32 = 6;

// @ts-ignore: decorator
@inline
function varintSize(v: u32): usize {
  if (v < 1 << 7) return 1;
  if (v < 1 << 14) return 2;
  if (v < 1 << 21) return 3;
  if (v < 1 << 28) return 4;
  return 5;
}

function writeVarint(at: usize, v: u32): usize {
  while (v >= 0x80) {
    store<u8>(at++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(at++, <u8>v);
  return at;
}

// @ts-ignore: decorator
@inline
function denseBodySize(m: usize): usize {
  return (m * 6) >> 3;
}

/** Bytes of the sparse body: the entry count, then one varint per set register. */
function sparseBodySize(regs: usize, m: usize): usize {
  let size: usize = 0;
  let count: u32 = 0;
  let previous: i32 = -1;
  for (let i: usize = 0; i < m; i++) {
    const r = <u32>load<u8>(regs + i);
    if (r == 0) continue;
    const gap = <u32>(<i32>i - previous - 1);
    size += varintSize((gap << RANK_BITS) | r);
    previous = <i32>i;
    count++;
  }
  return size + varintSize(count);
}

/** Exact size of the serialization of a sketch of precision p. */
export function serializedSize(regs: usize, p: i32): usize {
  const m = <usize>1 << p;
  const sparse = sparseBodySize(regs, m);
  const dense = denseBodySize(m);
  return HEADER_SIZE + (sparse < dense ? sparse : dense) + CHECKSUM_SIZE;
}

/** Writes the serialization (serializedSize bytes) at `out`; returns its size. */
export function serializeTo(regs: usize, p: i32, out: usize): usize {
  const m = <usize>1 << p;
  const sparse = sparseBodySize(regs, m) < denseBodySize(m);
  store<u8>(out, MAGIC0);
  store<u8>(out, MAGIC1, 1);
  store<u8>(out, FORMAT_VERSION, 2);
  store<u8>(out, <u8>p, 3);
  store<u8>(out, sparse ? ENCODING_SPARSE : ENCODING_DENSE, 4);
  let at = out + HEADER_SIZE;
  if (sparse) {
    let count: u32 = 0;
    for (let i: usize = 0; i < m; i++) if (load<u8>(regs + i) != 0) count++;
    at = writeVarint(at, count);
    let previous: i32 = -1;
    for (let i: usize = 0; i < m; i++) {
      const r = <u32>load<u8>(regs + i);
      if (r == 0) continue;
      const gap = <u32>(<i32>i - previous - 1);
      at = writeVarint(at, (gap << RANK_BITS) | r);
      previous = <i32>i;
    }
  } else {
    // Four 6-bit registers per 3 bytes, least significant bits first.
    for (let i: usize = 0; i < m; i += 4) {
      const word = <u32>load<u8>(regs + i) |
        (<u32>load<u8>(regs + i + 1) << 6) |
        (<u32>load<u8>(regs + i + 2) << 12) |
        (<u32>load<u8>(regs + i + 3) << 18);
      store<u8>(at, <u8>word);
      store<u8>(at, <u8>(word >> 8), 1);
      store<u8>(at, <u8>(word >> 16), 2);
      at += 3;
    }
  }
  store<u32>(at, <u32>xxh64(out, at - out, 0));
  return at + CHECKSUM_SIZE - out;
}

// Read position of readVarint (a global: the module allocates nothing).
let cursor: usize = 0;

/** Reads one canonical LEB128 u32 at `cursor` before `end`; negative = error code. */
function readVarint(end: usize): i64 {
  let value: u64 = 0;
  for (let shift: u64 = 0; shift < 35; shift += 7) {
    if (cursor >= end) return ERR_TRUNCATED;
    const b = <u64>load<u8>(cursor++);
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      // Refuse overlong forms (a zero final byte) and values over 32 bits.
      if (b == 0 && shift != 0) return ERR_CORRUPT;
      if (value > 0xffffffff) return ERR_CORRUPT;
      return <i64>value;
    }
  }
  return ERR_CORRUPT;
}

function decodeSparse(regs: usize, m: usize, maxRank: u32, end: usize): i32 {
  const count = readVarint(end);
  if (count < 0) return <i32>count;
  if (<u64>count > <u64>m) return ERR_CORRUPT;
  let previous: i64 = -1;
  for (let k: i64 = 0; k < count; k++) {
    const entry = readVarint(end);
    if (entry < 0) return <i32>entry;
    const rank = <u32>(entry & ((1 << RANK_BITS) - 1));
    const index = previous + 1 + (entry >> RANK_BITS);
    if (rank == 0 || rank > maxRank || index >= <i64>m) return ERR_CORRUPT;
    store<u8>(regs + <usize>index, <u8>rank);
    previous = index;
  }
  return 0;
}

function decodeDense(regs: usize, m: usize, maxRank: u32, body: usize): i32 {
  let at = body;
  for (let i: usize = 0; i < m; i += 4) {
    const word = <u32>load<u8>(at) | (<u32>load<u8>(at, 1) << 8) |
      (<u32>load<u8>(at, 2) << 16);
    at += 3;
    for (let k: usize = 0; k < 4; k++) {
      const r = (word >> <u32>(6 * k)) & 63;
      if (r > maxRank) return ERR_CORRUPT;
      store<u8>(regs + i + k, <u8>r);
    }
  }
  return 0;
}

/**
 * Decodes the `len` bytes at `ptr` (range checked by the caller) into a new
 * sketch; returns its handle or a negative error code (nothing allocated).
 */
export function deserializeFrom(ptr: usize, len: usize): i32 {
  if (len >= 1 && load<u8>(ptr) != MAGIC0) return ERR_FORMAT;
  if (len >= 2 && load<u8>(ptr, 1) != MAGIC1) return ERR_FORMAT;
  if (len >= 3 && load<u8>(ptr, 2) != FORMAT_VERSION) return ERR_FORMAT;
  if (len < HEADER_SIZE + CHECKSUM_SIZE) return ERR_TRUNCATED;
  const p = <i32>load<u8>(ptr, 3);
  const encoding = load<u8>(ptr, 4);
  if (p < MIN_P || p > MAX_P) return ERR_CORRUPT;
  if (encoding != ENCODING_SPARSE && encoding != ENCODING_DENSE) {
    return ERR_CORRUPT;
  }
  const m = <usize>1 << p;
  const body = ptr + HEADER_SIZE;
  const end = ptr + len - CHECKSUM_SIZE;
  if (encoding == ENCODING_DENSE) {
    const need = denseBodySize(m);
    if (end - body < need) return ERR_TRUNCATED;
    if (end - body > need) return ERR_CORRUPT;
  }
  const h = newSketch(p);
  const regs = registersOf(h);
  const maxRank = <u32>(65 - p);
  let result: i32;
  if (encoding == ENCODING_DENSE) {
    result = decodeDense(regs, m, maxRank, body);
  } else {
    cursor = body;
    result = decodeSparse(regs, m, maxRank, end);
    if (result == 0 && cursor != end) result = ERR_CORRUPT;
  }
  if (result == 0 && <u32>xxh64(ptr, end - ptr, 0) != load<u32>(end)) {
    result = ERR_CORRUPT;
  }
  if (result != 0) {
    releaseSketch(h);
    return result;
  }
  return <i32>h;
}
