// xxHash64 (Yann Collet's XXH64, seedable, little-endian input), written from
// the algorithm description in the xxHash specification (doc/xxhash_spec.md).
// It is the hash of every HyperLogLog value and of the serialization checksum;
// src/reference/hll.ts holds an independent BigInt version of the same function.

const PRIME1: u64 = 0x9e3779b185ebca87;
const PRIME2: u64 = 0xc2b2ae3d27d4eb4f;
const PRIME3: u64 = 0x165667b19e3779f9;
const PRIME4: u64 = 0x85ebca77c2b2ae63;
const PRIME5: u64 = 0x27d4eb2f165667c5;

// @ts-ignore: decorator
@inline
function round(acc: u64, lane: u64): u64 {
  return rotl<u64>(acc + lane * PRIME2, 31) * PRIME1;
}

// @ts-ignore: decorator
@inline
function mergeRound(acc: u64, v: u64): u64 {
  return (acc ^ round(0, v)) * PRIME1 + PRIME4;
}

// @ts-ignore: decorator
@inline
function avalanche(h: u64): u64 {
  h ^= h >> 33;
  h *= PRIME2;
  h ^= h >> 29;
  h *= PRIME3;
  return h ^ (h >> 32);
}

/** XXH64 of the `len` bytes at `ptr` (the caller has checked the range). */
export function xxh64(ptr: usize, len: usize, seed: u64): u64 {
  const end = ptr + len;
  let p = ptr;
  let h: u64;
  if (len >= 32) {
    let v1 = seed + PRIME1 + PRIME2;
    let v2 = seed + PRIME2;
    let v3 = seed;
    let v4 = seed - PRIME1;
    const lastStripe = end - 32;
    do {
      v1 = round(v1, load<u64>(p));
      v2 = round(v2, load<u64>(p, 8));
      v3 = round(v3, load<u64>(p, 16));
      v4 = round(v4, load<u64>(p, 24));
      p += 32;
    } while (p <= lastStripe);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) +
      rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = seed + PRIME5;
  }
  h += <u64>len;
  while (p + 8 <= end) {
    h ^= round(0, load<u64>(p));
    h = rotl<u64>(h, 27) * PRIME1 + PRIME4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= <u64>load<u32>(p) * PRIME1;
    h = rotl<u64>(h, 23) * PRIME2 + PRIME3;
    p += 4;
  }
  while (p < end) {
    h ^= <u64>load<u8>(p) * PRIME5;
    h = rotl<u64>(h, 11) * PRIME1;
    p++;
  }
  return avalanche(h);
}

/** XXH64 (seed 0) of the 8 little-endian bytes of `word`: xxh64 specialised for len 8. */
// @ts-ignore: decorator
@inline
export function xxh64Word(word: u64): u64 {
  let h: u64 = PRIME5 + 8;
  h ^= round(0, word);
  h = rotl<u64>(h, 27) * PRIME1 + PRIME4;
  return avalanche(h);
}
