// A 64-bit hash of a series' raw label bytes: two multiply-rotate lanes
// over 16-byte strides (the CPU overlaps them), an overlapping load for the
// tail, and a final avalanche. Lookups confirm with a byte compare, so it
// need only spread well, not resist collisions.

const P1: u64 = 0x9e3779b185ebca87;
const P2: u64 = 0xc2b2ae3d27d4eb4f;
const P3: u64 = 0x165667b19e3779f9;

/** Hash of bytes [p, p + n). */
export function hashBytes(p: usize, n: u32): u64 {
  let a: u64 = P3 ^ <u64>n;
  let b: u64 = P1;
  let i: u32 = 0;
  for (; i + 16 <= n; i += 16) {
    a = rotl<u64>(a + load<u64>(p + i) * P2, 31) * P1;
    b = rotl<u64>(b + load<u64>(p + i + 8) * P2, 29) * P1;
  }
  if (n >= 8) {
    if (i + 8 <= n) {
      a = rotl<u64>(a + load<u64>(p + i) * P2, 31) * P1;
      i += 8;
    }
    // The last 8 bytes, overlapping what was hashed: no byte loop.
    if (i < n) b = rotl<u64>(b + load<u64>(p + n - 8) * P2, 27) * P1;
  } else {
    let w: u64 = 0;
    for (; i < n; i++) w = (w << 8) | <u64>load<u8>(p + i);
    b = rotl<u64>(b + w * P2, 27) * P1;
  }
  let h = a ^ rotl<u64>(b, 23);
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

/** True when bytes [a, a + n) equal [b, b + n). */
export function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
  }
  for (; i < n; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}
