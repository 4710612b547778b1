/**
 * Byte-level helpers for the WAL: a growable output buffer, unsigned
 * varints over JS numbers (up to 2^53), zigzag, and UTF-8 strings with an
 * ASCII fast path.
 * @module
 */

/** 2^28: below this a varint fits in four bytes and bitwise ops are exact. */
const FAST_LIMIT = 0x10000000;

/** A growable byte buffer written at `pos`. */
export class ByteBuf {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(capacity = 64 * 1024) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `extra` more bytes after `pos`. */
  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  /** The bytes written so far (a view, valid until the next write). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.pos);
  }
}

/**
 * Writes `z` (an integer in [0, 2^53]) as an unsigned LEB128 varint at
 * `pos`; returns the new position. The caller has ensured room (9 bytes).
 */
export function putUvarint(out: Uint8Array, pos: number, z: number): number {
  if (z < 0x80) {
    out[pos] = z;
    return pos + 1;
  }
  if (z < FAST_LIMIT) {
    while (z >= 0x80) {
      out[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    out[pos] = z;
    return pos + 1;
  }
  // Above 2^28 split arithmetically: bitwise ops would wrap at 2^32.
  while (z >= 0x80) {
    const low = z % 128;
    out[pos++] = low | 0x80;
    z = (z - low) / 128;
  }
  out[pos] = z;
  return pos + 1;
}

/** Maps a signed integer (|d| < 2^52) to an unsigned one: 0,-1,1,-2 → 0,1,2,3. */
export function zigzag(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

/** Inverse of `zigzag`. */
export function unzigzag(z: number): number {
  if (z < 0x80000000) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** A cursor over a byte range; reads fail (return NaN / set `bad`) past `end`. */
export class ByteReader {
  pos: number;
  bad = false;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** An unsigned varint of at most `maxBytes` bytes; sets `bad` when malformed. */
  uvarint(maxBytes = 8): number {
    const b = this.bytes;
    let p = this.pos;
    let z = 0;
    let scale = 1;
    for (let k = 0; k < maxBytes; k++) {
      if (p >= this.end) break;
      const x = b[p++];
      z += (x & 0x7f) * scale;
      if (x < 0x80) {
        this.pos = p;
        return z;
      }
      scale *= 128;
    }
    this.bad = true;
    return 0;
  }

  /** A little-endian float64's bits as a number (only for fields that are never NaN payloads). */
  f64(view: DataView): number {
    if (this.pos + 8 > this.end) {
      this.bad = true;
      return 0;
    }
    const v = view.getFloat64(this.bytes.byteOffset + this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A little-endian u32. */
  u32(view: DataView): number {
    if (this.pos + 4 > this.end) {
      this.bad = true;
      return 0;
    }
    const v = view.getUint32(this.bytes.byteOffset + this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A varint-length-prefixed UTF-8 string. */
  string(): string {
    const len = this.uvarint(5);
    if (this.bad || this.pos + len > this.end) {
      this.bad = true;
      return "";
    }
    const s = decodeUtf8(this.bytes, this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Writes `s` as a varint byte length then its UTF-8 bytes, ensuring room.
 * ASCII strings (the usual label) are copied by a plain loop.
 */
export function putString(buf: ByteBuf, s: string): void {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    buf.ensure(n + 5);
    const out = buf.bytes;
    let p = putUvarint(out, buf.pos, n);
    for (let i = 0; i < n; i++) out[p++] = s.charCodeAt(i);
    buf.pos = p;
    return;
  }
  const bytes = encoder.encode(s);
  buf.ensure(bytes.length + 5);
  buf.pos = putUvarint(buf.bytes, buf.pos, bytes.length);
  buf.bytes.set(bytes, buf.pos);
  buf.pos += bytes.length;
}

/** Recently decoded short ASCII strings by hash: label names and values repeat a lot. */
const stringCache = new Map<number, string>();
const STRING_CACHE_MAX = 1 << 16;

/**
 * Decodes UTF-8 bytes [start, end); throws on invalid UTF-8. Short ASCII
 * strings (most labels) come from a cache checked byte for byte, so replay
 * does not build the same string again per series.
 */
export function decodeUtf8(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len > 64) return decoder.decode(b.subarray(start, end));
  let h = 0x811c9dc5 ^ len;
  let high = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    high |= c;
    h = Math.imul(h ^ c, 0x01000193);
  }
  if (high & 0x80) return decoder.decode(b.subarray(start, end));
  const hit = stringCache.get(h);
  if (hit !== undefined && hit.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (hit.charCodeAt(i) !== b[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  if (stringCache.size >= STRING_CACHE_MAX) stringCache.clear();
  stringCache.set(h, s);
  return s;
}
