// Snappy block decompression (the remote-write body), bounds-checked: the
// same error classes as src/codec/snappy.ts (truncated vs corrupt), so the
// two paths answer every byte sequence alike.

import { ERR_CAPACITY, ERR_CORRUPT, ERR_TRUNCATED } from "../common/errors";

const MAX_BLOCK: u64 = 0xffffffff;
// A 3-byte copy of 64 bytes is the densest element (21.3x): no block can
// announce more than 32x its remaining bytes.
const MAX_EXPANSION: u64 = 32;

/** Bytes the length header took (set by snappyLength). */
export let headerBytes: u32 = 0;

/**
 * The announced decoded length of block [src, src+n), as f64; or
 * ERR_TRUNCATED / ERR_CORRUPT for a bad header, ERR_CAPACITY when it
 * exceeds `max`, ERR_TRUNCATED when the rest cannot expand that far.
 */
export function snappyLength(src: usize, n: u32, max: f64): f64 {
  let value: u64 = 0;
  for (let i: u32 = 0; i < 5; i++) {
    if (i >= n) return <f64>ERR_TRUNCATED;
    const b = <u64>load<u8>(src + i);
    value += (b & 0x7f) << (7 * <u64>i);
    if (b < 0x80) {
      if (value > MAX_BLOCK) return <f64>ERR_CORRUPT;
      headerBytes = i + 1;
      if (<f64>value > max) return <f64>ERR_CAPACITY;
      if (value > <u64>(n - i - 1) * MAX_EXPANSION) return <f64>ERR_TRUNCATED;
      return <f64>value;
    }
  }
  return <f64>ERR_CORRUPT;
}

/**
 * Decodes the elements after a header of `hdr` bytes into dst, which must
 * hold exactly `len` bytes (the announced length). 0, or an error code.
 */
export function snappyDecode(src: usize, n: u32, hdr: u32, dst: usize, len: u32): i32 {
  let ip: u32 = hdr;
  let op: u32 = 0;
  while (ip < n) {
    const tag = <u32>load<u8>(src + ip++);
    let length: u32;
    let offset: u32;
    const kind = tag & 3;
    if (kind == 0) {
      length = tag >> 2;
      if (length >= 60) {
        const extra = length - 59;
        if (n - ip < extra) return ERR_TRUNCATED;
        length = 0;
        for (let k = <i32>extra - 1; k >= 0; k--) {
          length = (length << 8) | <u32>load<u8>(src + ip + <u32>k);
        }
        ip += extra;
        // 4 extra bytes announce up to 2^32: more than any block holds.
        if (length == 0xffffffff) return ERR_TRUNCATED;
      }
      length += 1;
      if (n - ip < length) return ERR_TRUNCATED;
      if (len - op < length) return ERR_CORRUPT;
      if (length <= 16 && n - ip >= 16 && len - op >= 16) {
        store<u64>(dst + op, load<u64>(src + ip));
        store<u64>(dst + op + 8, load<u64>(src + ip + 8));
      } else {
        memory.copy(dst + op, src + ip, length);
      }
      ip += length;
      op += length;
      continue;
    }
    if (kind == 1) {
      if (n - ip < 1) return ERR_TRUNCATED;
      length = 4 + ((tag >> 2) & 7);
      offset = ((tag & 0xe0) << 3) | <u32>load<u8>(src + ip);
      ip += 1;
    } else if (kind == 2) {
      if (n - ip < 2) return ERR_TRUNCATED;
      length = (tag >> 2) + 1;
      offset = <u32>load<u16>(src + ip);
      ip += 2;
    } else {
      if (n - ip < 4) return ERR_TRUNCATED;
      length = (tag >> 2) + 1;
      offset = load<u32>(src + ip);
      ip += 4;
    }
    if (offset == 0 || offset > op) return ERR_CORRUPT;
    if (len - op < length) return ERR_CORRUPT;
    const from = dst + op - offset;
    const to = dst + op;
    if (offset >= 8 && length <= 16 && len - op >= 16) {
      // Two words; the second may read bytes the first just wrote, which
      // is the repeat semantics a copy with offset < length asks for.
      store<u64>(to, load<u64>(from));
      store<u64>(to + 8, load<u64>(from + 8));
    } else if (offset >= length) {
      memory.copy(to, from, length);
    } else {
      // Overlapping: repeat the last `offset` bytes, forwards.
      for (let k: u32 = 0; k < length; k++) {
        store<u8>(to + k, load<u8>(from + k));
      }
    }
    op += length;
  }
  return op == len ? 0 : ERR_TRUNCATED;
}
