// A per-tenant label-set cache in engine memory: raw label bytes (as they
// lie in a request) -> a small id that the JavaScript side maps to its
// Labels object. Open addressing over 16-byte slots; keys live in an arena.
// Bounded like the TypeScript LabelCache: past maxEntries or maxKeyBytes it
// starts over (ids restart at 0; the JS side clears its array then).
//
//   cache header (CACHE_SIZE bytes), handle = its address:
//     0 u32 TAG   4 u32 cap (slots, power of 2)   8 u32 count (= next id)
//     12 u32 key bytes used   16 u32 maxEntries   20 u32 maxKeyBytes
//     24 u32 table   28 u32 arena   32 u32 arena capacity
//   slot: u32 hash high word, u32 id, u32 key offset, u32 key length (0 = empty)

import { inBounds } from "../common/memory";
import { hashBytes, sameBytes } from "./hash";

const TAG: u32 = 0x31435752; // "RWC1"
export const CACHE_SIZE: usize = 48;
const SLOT: usize = 16;
const MIN_CAP: u32 = 1024;
const MIN_ARENA: u32 = 64 << 10;

// @ts-ignore: decorator
@inline function cap(c: usize): u32 { return load<u32>(c, 4); }
// @ts-ignore: decorator
@inline function count(c: usize): u32 { return load<u32>(c, 8); }
// @ts-ignore: decorator
@inline function table(c: usize): usize { return <usize>load<u32>(c, 24); }
// @ts-ignore: decorator
@inline function arena(c: usize): usize { return <usize>load<u32>(c, 28); }

/** A new empty cache. */
export function newCache(maxEntries: u32, maxKeyBytes: u32): usize {
  const c = heap.alloc(CACHE_SIZE);
  memory.fill(c, 0, CACHE_SIZE);
  store<u32>(c, TAG);
  store<u32>(c, MIN_CAP, 4);
  store<u32>(c, maxEntries, 16);
  store<u32>(c, maxKeyBytes, 20);
  const t = heap.alloc(<usize>MIN_CAP * SLOT);
  memory.fill(t, 0, <usize>MIN_CAP * SLOT);
  store<u32>(c, <u32>t, 24);
  const a = heap.alloc(MIN_ARENA);
  store<u32>(c, <u32>a, 28);
  store<u32>(c, MIN_ARENA, 32);
  return c;
}

/** True when `c` is a live cache handle. */
export function isCache(c: usize): bool {
  if (c == 0 || (c & 15) != 0 || !inBounds(c, CACHE_SIZE, 0)) return false;
  return load<u32>(c) == TAG;
}

/** Releases a live cache. */
export function freeCache(c: usize): void {
  store<u32>(c, 0);
  heap.free(table(c));
  heap.free(arena(c));
  heap.free(c);
}

/** Drops every entry (ids restart at 0). */
export function clearCache(c: usize): void {
  memory.fill(table(c), 0, <usize>cap(c) * SLOT);
  store<u32>(c, 0, 8);
  store<u32>(c, 0, 12);
}

/** Entries held. */
export function cacheCount(c: usize): u32 {
  return count(c);
}

/** The id cached for bytes [p, p + n) (n > 0), or -1. */
export function lookup(c: usize, p: usize, n: u32): i32 {
  const h = hashBytes(p, n);
  const mask = cap(c) - 1;
  const t = table(c);
  const a = arena(c);
  const hi = <u32>(h >> 32);
  let i = <u32>h & mask;
  while (true) {
    const s = t + <usize>i * SLOT;
    const len = load<u32>(s, 12);
    if (len == 0) return -1;
    if (len == n && load<u32>(s) == hi && sameBytes(a + <usize>load<u32>(s, 8), p, n)) {
      return <i32>load<u32>(s, 4);
    }
    i = (i + 1) & mask;
  }
  return -1;
}

function placeSlot(t: usize, mask: u32, h: u64, id: u32, off: u32, n: u32): void {
  let i = <u32>h & mask;
  while (load<u32>(t + <usize>i * SLOT, 12) != 0) i = (i + 1) & mask;
  const s = t + <usize>i * SLOT;
  store<u32>(s, <u32>(h >> 32));
  store<u32>(s, id, 4);
  store<u32>(s, off, 8);
  store<u32>(s, n, 12);
}

function growTable(c: usize): void {
  const oldCap = cap(c);
  const old = table(c);
  const a = arena(c);
  const ncap = oldCap << 1;
  const t = heap.alloc(<usize>ncap * SLOT);
  memory.fill(t, 0, <usize>ncap * SLOT);
  for (let i: u32 = 0; i < oldCap; i++) {
    const s = old + <usize>i * SLOT;
    const n = load<u32>(s, 12);
    if (n == 0) continue;
    const off = load<u32>(s, 8);
    placeSlot(t, ncap - 1, hashBytes(a + off, n), load<u32>(s, 4), off, n);
  }
  heap.free(old);
  store<u32>(c, <u32>t, 24);
  store<u32>(c, ncap, 4);
}

/**
 * Caches bytes [p, p + n) (n > 0) and returns their id: the existing one
 * when present, else the next; 0 after a start-over. -1 when the key alone
 * is over maxKeyBytes (not cached).
 */
export function insert(c: usize, p: usize, n: u32): i32 {
  const found = lookup(c, p, n);
  if (found >= 0) return found;
  const maxBytes = load<u32>(c, 20);
  if (n > maxBytes) return -1;
  const used = load<u32>(c, 12);
  if (count(c) + 1 > load<u32>(c, 16) || <u64>used + n > <u64>maxBytes) {
    clearCache(c);
  }
  if ((count(c) + 1) * 2 > cap(c)) growTable(c);
  let keyOff = load<u32>(c, 12);
  const arenaCap = load<u32>(c, 32);
  if (<u64>keyOff + n > <u64>arenaCap) {
    let ncap = <u64>arenaCap << 1;
    while (ncap < <u64>keyOff + n) ncap <<= 1;
    const fresh = heap.alloc(<usize>ncap);
    memory.copy(fresh, arena(c), keyOff);
    heap.free(arena(c));
    store<u32>(c, <u32>fresh, 28);
    store<u32>(c, <u32>ncap, 32);
  }
  memory.copy(arena(c) + keyOff, p, n);
  const id = count(c);
  placeSlot(table(c), cap(c) - 1, hashBytes(p, n), id, keyOff, n);
  store<u32>(c, id + 1, 8);
  store<u32>(c, keyOff + n, 12);
  return <i32>id;
}
