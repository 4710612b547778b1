// Bit-level access to a big-endian, MSB-first bit stream in linear memory,
// as Prometheus' bstream lays it out. Positions are bit offsets from `base`.

/**
 * The 64 bits starting at bit `pos`. Loads 9 bytes from pos >> 3, so the
 * buffer needs READ_SLACK bytes of readable memory after its end.
 */
// @ts-ignore: decorator
@inline
export function peek64(base: usize, pos: u64): u64 {
  const p = base + <usize>(pos >> 3);
  const off = pos & 7;
  return (bswap<u64>(load<u64>(p)) << off) |
    (<u64>load<u8>(p, 8) >> (8 - off));
}

/**
 * The top 57+ bits starting at bit `pos` (one 8-byte load): enough for any
 * read of up to 57 bits.
 */
// @ts-ignore: decorator
@inline
export function peek57(base: usize, pos: u64): u64 {
  return bswap<u64>(load<u64>(base + <usize>(pos >> 3))) << (pos & 7);
}

/**
 * Writes the low `n` bits of `value` (1 <= n <= 64) at bit `pos`. The stream
 * must be zero from `pos` on, with 9 writable bytes after pos >> 3.
 */
// @ts-ignore: decorator
@inline
export function writeBits(base: usize, pos: u64, value: u64, n: u32): void {
  const p = base + <usize>(pos >> 3);
  const off = <u32>(pos & 7);
  const v = value << (64 - <u64>n); // left-aligned; n = 64 shifts by 0
  const head = <u64>load<u8>(p) << 56;
  store<u64>(p, bswap<u64>(head | (v >> <u64>off)));
  if (off + n > 64) store<u8>(p, <u8>(v << (64 - <u64>off) >> 56), 8);
}

// Reading a big-endian stream with little-endian loads needs a byte swap
// per load, and wasm has no bswap instruction (it costs a dozen ops). So the
// decoder first copies the chunk byte-reversed into a scratch buffer, where
// a plain little-endian load at the mirrored offset yields the big-endian
// word directly.

/** Zero bytes kept on both sides of the reversed copy. */
const REV_PAD: usize = 64;
let revBuf: usize = 0;
let revCap: usize = 0;

/**
 * Copies [ptr, ptr + len) byte-reversed into scratch and returns the
 * "reversed base" for rpeek57/rpeek64: the address whose 8-byte LE load is
 * the chunk's big-endian word at byte 0. Returns 0 when memory is exhausted.
 */
export function reverseInto(ptr: usize, len: usize): usize {
  if (len + 2 * REV_PAD > revCap) {
    if (revBuf != 0) heap.free(revBuf);
    revCap = max<usize>(4096, (len + 2 * REV_PAD) * 2);
    revBuf = heap.alloc(revCap);
    memory.fill(revBuf, 0, revCap);
  }
  const dst = revBuf + REV_PAD; // R[j] = B[len - 1 - j]
  let s: usize = 0;
  for (; s + 16 <= len; s += 16) {
    const v = v128.load(ptr + s);
    v128.store(
      dst + len - 16 - s,
      i8x16.shuffle(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
    );
  }
  for (; s < len; s++) store<u8>(dst + len - 1 - s, load<u8>(ptr + s));
  // Bytes past the chunk's end read as zeros (they sit in the low pad).
  memory.fill(revBuf, 0, REV_PAD);
  return dst + len - 8;
}

/** rpeek57 over a reversed copy: the top 57+ bits at bit `pos`. */
// @ts-ignore: decorator
@inline
export function rpeek57(rbase: usize, pos: u64): u64 {
  return load<u64>(rbase - <usize>(pos >> 3)) << (pos & 7);
}

/** The 64 bits at bit `pos` of a reversed copy. */
// @ts-ignore: decorator
@inline
export function rpeek64(rbase: usize, pos: u64): u64 {
  const p = rbase - <usize>(pos >> 3);
  const off = pos & 7;
  return (load<u64>(p) << off) | (<u64>load<u8>(p - 1) >> (8 - off));
}
