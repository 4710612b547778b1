// Exports of the rw kernel: the remote-write decode stage (Snappy, the
// WriteRequest walk, the label-bytes cache). Numbers only; negative
// results are error codes (assembly/common/errors.ts).

import { ERR_ARG, ERR_BOUNDS } from "../common/errors";
import { inBounds } from "../common/memory";
import { headerBytes, snappyDecode, snappyLength } from "./snappy";
import {
  cacheCount,
  clearCache,
  freeCache,
  insert,
  isCache,
  lookup,
  newCache,
} from "./cache";
import { OUT_SIZE, walkWriteRequest } from "./walk";

/** Largest key-byte budget a cache accepts (1 GiB). */
const MAX_KEY_BYTES: u32 = 1 << 30;
/** Largest block rw_snappy_decode writes (1 GiB). */
const MAX_DECODED: u32 = 1 << 30;

/**
 * The decoded length a Snappy block [src, src+n) announces (an f64), or
 * ERR_TRUNCATED/ERR_CORRUPT (bad header, or more than 32x the rest),
 * ERR_CAPACITY (more than `max`), ERR_BOUNDS.
 */
export function rw_snappy_length(src: usize, n: u32, max: f64): f64 {
  if (!inBounds(src, n, 0)) return <f64>ERR_BOUNDS;
  return snappyLength(src, n, max);
}

/**
 * Decodes the Snappy block [src, src+n) into dst, which holds exactly
 * `len` bytes (the length rw_snappy_length returned); 0 or an error code.
 */
export function rw_snappy_decode(src: usize, n: u32, dst: usize, len: u32): i32 {
  if (!inBounds(src, n, 0) || !inBounds(dst, len, 0)) return ERR_BOUNDS;
  if (len > MAX_DECODED) return ERR_ARG;
  const announced = snappyLength(src, n, <f64>MAX_DECODED);
  if (announced < 0) return <i32>announced;
  if (<u32>announced != len) return ERR_ARG;
  return snappyDecode(src, n, headerBytes, dst, len);
}

/** A new label-bytes cache (handle), bounded by entries and key bytes; ERR_ARG for zero/oversized bounds. */
export function rw_cache_new(maxEntries: u32, maxKeyBytes: u32): i32 {
  if (maxEntries == 0 || maxEntries > (1 << 28)) return ERR_ARG;
  if (maxKeyBytes == 0 || maxKeyBytes > MAX_KEY_BYTES) return ERR_ARG;
  return <i32>newCache(maxEntries, maxKeyBytes);
}

/** Releases a cache; ERR_ARG when `c` is not a live cache. */
export function rw_cache_free(c: usize): i32 {
  if (!isCache(c)) return ERR_ARG;
  freeCache(c);
  return 0;
}

/** Drops every entry of a cache. */
export function rw_cache_clear(c: usize): i32 {
  if (!isCache(c)) return ERR_ARG;
  clearCache(c);
  return 0;
}

/** Entries a cache holds. */
export function rw_cache_count(c: usize): i32 {
  if (!isCache(c)) return ERR_ARG;
  return <i32>cacheCount(c);
}

/** The id cached for key bytes [p, p+n) (n > 0), or -1. */
export function rw_cache_lookup(c: usize, p: usize, n: u32): i32 {
  if (!isCache(c)) return ERR_ARG;
  if (n == 0) return ERR_ARG;
  if (!inBounds(p, n, 0)) return ERR_BOUNDS;
  return lookup(c, p, n);
}

/**
 * Caches key bytes [p, p+n) (n > 0): their id (existing or new; 0 after
 * the cache started over), or -1 when the key alone exceeds the byte bound.
 */
export function rw_cache_insert(c: usize, p: usize, n: u32): i32 {
  if (!isCache(c)) return ERR_ARG;
  if (n == 0) return ERR_ARG;
  if (!inBounds(p, n, 0)) return ERR_BOUNDS;
  return insert(c, p, n);
}

/**
 * Walks a prometheus.WriteRequest [buf, buf+len) (after Snappy), looking
 * series' label bytes up in cache `c` (0: no cache), and describes the
 * result in the 64-byte block `out` (see assembly/rw/walk.ts); 0, or
 * ERR_TRUNCATED/ERR_CORRUPT for a malformed request, ERR_BOUNDS, ERR_ARG.
 */
export function rw_decode_v1(c: usize, buf: usize, len: u32, out: usize): i32 {
  if (c != 0 && !isCache(c)) return ERR_ARG;
  if (!inBounds(buf, len, 0) || !inBounds(out, OUT_SIZE, 0)) return ERR_BOUNDS;
  if (len > MAX_DECODED) return ERR_ARG;
  return walkWriteRequest(c, buf, len, out);
}
