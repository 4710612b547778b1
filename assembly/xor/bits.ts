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
