/**
 * A fast pure-TypeScript XOR chunk codec (Prometheus' format, see
 * docs/format/xor-chunk.md): the fair benchmark baseline for the WASM kernel,
 * written the way a competent engineer would ship it in JavaScript without
 * WASM. No BigInt and no allocation per sample: the bit stream is read and
 * written 32 bits at a time, 64-bit values are handled as two uint32 halves,
 * and leading/trailing zeros come from Math.clz32.
 *
 * Timestamps are integral f64 milliseconds. Limits:
 * - Encoding is exact (byte-identical to Prometheus) for every integral f64
 *   in the int64 range. The hot path does the delta arithmetic in f64 while
 *   every delta is below 2^53 in magnitude (always true for timestamps
 *   within ±2^52, about 142,000 years around 1970); anything larger falls
 *   back to exact int64 arithmetic on two 32-bit halves. A timestamp that is
 *   not an integer or lies outside [-2^63, 2^63) throws RangeError.
 * - Decoding is exact while |t| and the running delta stay below 2^53 (f64
 *   arithmetic); a chunk that leaves that range switches to int64 arithmetic
 *   on halves, and each timestamp is then rounded to the nearest f64 (as the
 *   WASM `xor_decode_f64t` does).
 * - Chunks are written in the Prometheus 3 byte layout (no trailing empty
 *   byte; see docs/format/xor-chunk.md).
 * - Values are bit patterns: they are read and written through a Uint32Array
 *   alias of the Float64Array's buffer, so NaN payloads survive.
 * @module
 */

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
const TWO63 = 9223372036854775808;

/** Index of the low and high uint32 half of a float64 in a Uint32Array alias. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** A chunk's uint16 header caps its sample count. */
export const XOR_TS_MAX_SAMPLES = 0xffff;

/**
 * Bytes `encodeChunkTs` may need for n samples: header, two varints, the
 * first value, and at most 145 bits (< 19 bytes) per further sample.
 */
export function xorChunkMaxBytes(n: number): number {
  return 2 + 10 + 8 + 10 + 19 * n + 4;
}

/** A Uint32Array alias of one Float64Array, rebuilt only when the array changes. */
class U32Alias {
  #src: Float64Array | null = null;
  #buf: ArrayBufferLike | null = null;
  #view: Uint32Array = new Uint32Array(0);
  of(a: Float64Array): Uint32Array {
    if (a !== this.#src || a.buffer !== this.#buf) {
      this.#src = a;
      this.#buf = a.buffer;
      this.#view = new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
    }
    return this.#view;
  }
}

const decodeAlias = new U32Alias();
const encodeAlias = new U32Alias();

// ---------------------------------------------------------------- decoding

/** Zero words after the chunk: one sample reads at most 145 bits past its start. */
const PAD_WORDS = 8;
/** The chunk as big-endian 32-bit words (reused across calls). */
let words = new Uint32Array(1024);

function loadWords(chunk: Uint8Array): Uint32Array {
  const len = chunk.length;
  const full = len >>> 2;
  const need = full + 1 + PAD_WORDS;
  if (words.length < need) {
    words = new Uint32Array(Math.max(need, words.length * 2));
  }
  const w = words;
  let i = 0;
  let b = 0;
  for (; i < full; i++, b += 4) {
    w[i] = (chunk[b] << 24) | (chunk[b + 1] << 16) | (chunk[b + 2] << 8) |
      chunk[b + 3];
  }
  let last = 0;
  for (let s = 24; b < len; b++, s -= 8) last |= chunk[b] << s;
  w[i++] = last;
  for (const end = i + PAD_WORDS; i < end; i++) w[i] = 0;
  return w;
}

/** The 32 bits starting at bit `pos` (MSB first), as an int32. */
function peek(w: Uint32Array, pos: number): number {
  const k = pos >>> 5;
  const o = pos & 31;
  // `>>> 1 >>> (31 - o)` is `>>> (32 - o)` without JS's shift-by-32 = shift-by-0.
  return (w[k] << o) | ((w[k + 1] >>> 1) >>> (31 - o));
}

/** Halves of the last uvarint read. */
let varLo = 0;
let varHi = 0;

/** Reads a byte-aligned uvarint at `pos` into varLo/varHi; returns the new position. */
function readUvarint(w: Uint32Array, pos: number): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0, s = 0; i < 10; i++, s += 7) {
    const b = peek(w, pos) >>> 24;
    pos += 8;
    const p = b & 0x7f;
    if (s < 32) {
      lo |= p << s;
      if (s > 25) hi |= p >>> (32 - s);
    } else hi |= p << (s - 32);
    if (b < 0x80) {
      if (i === 9 && b > 1) break;
      varLo = lo >>> 0;
      varHi = hi | 0;
      return pos;
    }
  }
  throw new RangeError("corrupt chunk: varint overflows 64 bits");
}

function truncated(): RangeError {
  return new RangeError("truncated chunk");
}

/**
 * Decodes a whole chunk into `ts` (integral f64 ms) and `values` (bit-exact)
 * from index 0; returns the sample count. Throws RangeError when the chunk
 * is truncated or corrupt, or the arrays hold fewer samples than it has.
 */
export function decodeChunkTs(
  chunk: Uint8Array,
  ts: Float64Array,
  values: Float64Array,
): number {
  const len = chunk.length;
  if (len < 2) throw truncated();
  const num = (chunk[0] << 8) | chunk[1];
  if (num > ts.length || num > values.length) {
    throw new RangeError(`output arrays hold fewer than ${num} samples`);
  }
  if (num === 0) return 0;
  const w = loadWords(chunk);
  const vb = decodeAlias.of(values);
  const bitEnd = len * 8;

  // Sample 0: zigzag varint timestamp, then the raw 64 value bits.
  let pos = readUvarint(w, 16);
  const sign = -(varLo & 1);
  // Exact int64 state (used only once a timestamp or delta leaves ±2^53).
  let tLo = (((varLo >>> 1) | (varHi << 31)) ^ sign) >>> 0;
  let tHi = (varHi >>> 1) ^ sign;
  let dLo = 0;
  let dHi = 0;
  let t = tHi * TWO32 + tLo;
  let exact = !(Math.abs(t) < TWO53);
  let tDelta = 0;
  let vhi = peek(w, pos);
  let vlo = peek(w, pos + 32);
  pos += 64;
  if (pos > bitEnd) throw truncated();
  ts[0] = t;
  vb[LO] = vlo;
  vb[HI] = vhi;

  let lead = 0;
  let trail = 0;
  for (let i = 1; i < num; i++) {
    // Timestamp: sample 1 is a uvarint delta, later ones a delta of delta.
    let dod = 0;
    let big = false;
    let bigHi = 0;
    let bigLo = 0;
    // `c` ends up holding the value field's first bits: the '0' and '10'
    // timestamp fields leave at least 16 bits of their peek for it.
    let c: number;
    if (i === 1) {
      pos = readUvarint(w, pos);
      bigHi = varHi;
      bigLo = varLo;
      big = true;
      c = peek(w, pos);
    } else {
      c = peek(w, pos);
      if (c >= 0) { // '0'
        pos += 1;
        c <<= 1;
      } else if ((c & 0x40000000) === 0) { // '10' + 14 bits
        dod = (c << 2) >>> 18;
        if (dod > 8192) dod -= 16384;
        pos += 16;
        c <<= 16;
      } else if ((c & 0x20000000) === 0) { // '110' + 17 bits
        dod = (c << 3) >>> 15;
        if (dod > 65536) dod -= 131072;
        pos += 20;
        c = peek(w, pos);
      } else if ((c & 0x10000000) === 0) { // '1110' + 20 bits
        dod = (c << 4) >>> 12;
        if (dod > 524288) dod -= 1048576;
        pos += 24;
        c = peek(w, pos);
      } else { // '1111' + 64 bits
        bigHi = peek(w, pos + 4);
        bigLo = peek(w, pos + 36) >>> 0;
        pos += 68;
        big = true;
        c = peek(w, pos);
      }
    }
    if (big) dod = bigHi * TWO32 + bigLo;
    if (!exact) {
      const nd = tDelta + dod;
      const nt = t + nd;
      // Below 2^53 every operand and result is exact; past it, go int64.
      if (
        Math.abs(nt) < TWO53 && Math.abs(nd) < TWO53 && Math.abs(dod) < TWO53
      ) {
        tDelta = nd;
        t = nt;
      } else {
        exact = true;
        tHi = Math.floor(t / TWO32);
        tLo = t - tHi * TWO32;
        dHi = Math.floor(tDelta / TWO32);
        dLo = tDelta - dHi * TWO32;
      }
    }
    if (exact) {
      if (!big) {
        bigHi = dod < 0 ? -1 : 0;
        bigLo = dod >>> 0;
      }
      // tDelta += dod; t += tDelta (int64, wrapping).
      let lo = dLo + bigLo;
      let carry = lo >= TWO32 ? 1 : 0;
      dLo = lo - carry * TWO32;
      dHi = (dHi + bigHi + carry) | 0;
      lo = tLo + dLo;
      carry = lo >= TWO32 ? 1 : 0;
      tLo = lo - carry * TWO32;
      tHi = (tHi + dHi + carry) | 0;
      t = tHi * TWO32 + tLo;
    }

    // Value: '0' unchanged, '10' reuse the window, '11' new window.
    if (c < 0) {
      let mbits: number;
      if ((c & 0x40000000) === 0) {
        mbits = 64 - lead - trail;
        pos += 2;
      } else {
        lead = (c >>> 25) & 31;
        mbits = (c >>> 19) & 63;
        if (mbits === 0) mbits = 64;
        if (lead + mbits > 64) {
          if (pos + 13 > bitEnd) throw truncated();
          throw new RangeError("corrupt chunk: window wider than 64 bits");
        }
        trail = 64 - lead - mbits;
        pos += 13;
      }
      if (mbits <= 32) {
        const b = peek(w, pos) >>> (32 - mbits);
        if (trail >= 32) vhi ^= b << (trail - 32);
        else {
          vlo ^= b << trail;
          vhi ^= (b >>> 1) >>> (31 - trail);
        }
      } else { // trail < 32 here
        const h = peek(w, pos) >>> (64 - mbits);
        const l = peek(w, pos + mbits - 32);
        vlo ^= l << trail;
        vhi ^= (h << trail) | ((l >>> 1) >>> (31 - trail));
      }
      pos += mbits;
    } else pos += 1;

    if (pos > bitEnd) throw truncated();
    ts[i] = t;
    vb[2 * i + LO] = vlo;
    vb[2 * i + HI] = vhi;
  }
  return num;
}

// ---------------------------------------------------------------- encoding

/** Bit writer: whole words go to `words` at index `n`, copied out at the end. */
class BitWriter {
  words: Int32Array = new Int32Array(1024);
  n = 0;
  /** Pending bits, left-aligned. */
  acc = 0;
  /** Free bits in `acc` (1..32). */
  free = 32;
}
const bw = new BitWriter();

/** Writes the low n bits of v (1 <= n <= 32; v has no bits above them). */
function put(v: number, n: number): void {
  const free = bw.free;
  if (n < free) {
    bw.free = free - n;
    bw.acc |= v << (free - n);
  } else {
    const rest = n - free;
    bw.words[bw.n++] = bw.acc | (v >>> rest);
    bw.acc = rest === 0 ? 0 : v << (32 - rest);
    bw.free = 32 - rest;
  }
}

function putUvarint(lo: number, hi: number): void {
  while (hi !== 0 || lo >= 0x80) {
    put((lo & 0x7f) | 0x80, 8);
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  put(lo, 8);
}

function checkTimestamp(t: number): void {
  if (!(Math.floor(t) === t && t >= -TWO63 && t < TWO63)) {
    throw new RangeError(`timestamp ${t} is not an int64 integer`);
  }
}

/** Halves of the last `split` / `exactDod`. */
let sLo = 0;
let sHi = 0;

/** Splits an integral f64 in the int64 range into uint32 low and int32 high halves. */
function split(t: number): void {
  const hi = Math.floor(t / TWO32);
  sLo = t - hi * TWO32;
  sHi = hi | 0;
}

/** (a - b) - (b - c) in int64 arithmetic, into sLo/sHi. */
function exactDod(a: number, b: number, c: number): void {
  split(a);
  const aLo = sLo, aHi = sHi;
  split(b);
  const bLo = sLo, bHi = sHi;
  split(c);
  // a - 2b + c, each step wrapping.
  let lo = aLo + sLo;
  let hi = aHi + sHi;
  lo -= 2 * bLo;
  hi -= 2 * bHi;
  const k = Math.floor(lo / TWO32);
  sLo = lo - k * TWO32;
  sHi = (hi + k) | 0;
}

/** Writes a dod from its int64 halves, choosing the bucket as Prometheus does. */
function putDodHalves(lo: number, hi: number): void {
  const d = hi * TWO32 + lo;
  if (d >= -524287 && d <= 524288) putSmallDod(d);
  else {
    put(0b1111, 4);
    put(hi, 32);
    put(lo, 32);
  }
}

function putSmallDod(dod: number): void {
  if (dod === 0) put(0, 1);
  else if (dod >= -8191 && dod <= 8192) put((0b10 << 14) | (dod & 0x3fff), 16);
  else if (dod >= -65535 && dod <= 65536) {
    put((0b110 << 17) | (dod & 0x1ffff), 20);
  } else put((0b1110 << 20) | (dod & 0xfffff), 24);
}

/**
 * Encodes samples [start, end) of `ts` (integral f64 ms) and `values` as one
 * chunk into `out` from byte 0 and returns its length in bytes; the bytes
 * equal Prometheus' chunk for the same samples. `out` needs no zeroing;
 * `xorChunkMaxBytes(end - start)` always suffices. Throws RangeError on bad
 * arguments, a non-integral timestamp, or an `out` too small.
 */
export function encodeChunkTs(
  ts: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start &&
      start <= end && end <= ts.length && end <= values.length)
  ) throw new RangeError(`bad sample range [${start}, ${end})`);
  const n = end - start;
  if (n > XOR_TS_MAX_SAMPLES) {
    throw new RangeError(`${n} samples exceed a chunk's ${XOR_TS_MAX_SAMPLES}`);
  }
  if (out.length < 2) throw new RangeError("output buffer too small");
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  if (n === 0) return 2;
  const vb = encodeAlias.of(values);
  const maxWords = (xorChunkMaxBytes(n) >>> 2) + 1;
  if (bw.words.length < maxWords) bw.words = new Int32Array(maxWords);
  bw.n = 0;
  bw.acc = 0;
  bw.free = 32;

  // Sample 0: zigzag varint timestamp, then the raw 64 value bits.
  let tp = ts[start];
  checkTimestamp(tp);
  split(tp);
  const sign = sHi >> 31;
  putUvarint(
    ((sLo << 1) ^ sign) >>> 0,
    ((sHi << 1) | (sLo >>> 31)) ^ sign,
  );
  let phi = vb[2 * start + HI] | 0;
  let plo = vb[2 * start + LO] | 0;
  put(phi, 32);
  put(plo, 32);

  let prevDelta = 0;
  let prevExact = true;
  let lead = 0xff;
  let trail = 0;
  for (let k = start + 1; k < end; k++) {
    const t = ts[k];
    const delta = t - tp;
    // A small dod's field is held back in (code, bits) so that it can share
    // one write with the value's field.
    let code = 0;
    let bits = 0;
    if (k === start + 1) {
      checkTimestamp(t);
      split(t);
      const lo = sLo, hi = sHi;
      split(tp);
      let dlo = lo - sLo;
      const borrow = dlo < 0 ? 1 : 0;
      dlo += borrow * TWO32;
      putUvarint(dlo, (hi - sHi - borrow) >>> 0);
    } else if (
      Math.floor(t) === t && Math.abs(t) < TWO63 &&
      Math.abs(delta) < TWO53 && prevExact
    ) {
      // Fast path: delta and prevDelta are exact, so a small dod is too.
      const dod = delta - prevDelta;
      if (dod === 0) bits = 1;
      else if (dod >= -8191 && dod <= 8192) {
        code = (0b10 << 14) | (dod & 0x3fff);
        bits = 16;
      } else if (dod >= -65535 && dod <= 65536) {
        code = (0b110 << 17) | (dod & 0x1ffff);
        bits = 20;
      } else if (dod >= -524287 && dod <= 524288) {
        code = (0b1110 << 20) | (dod & 0xfffff);
        bits = 24;
      } else {
        exactDod(t, tp, ts[k - 2]);
        putDodHalves(sLo, sHi);
      }
    } else {
      checkTimestamp(t);
      exactDod(t, tp, ts[k - 2]);
      putDodHalves(sLo, sHi);
    }
    prevDelta = delta;
    prevExact = Math.abs(delta) < TWO53;
    tp = t;

    const nhi = vb[2 * k + HI] | 0;
    const nlo = vb[2 * k + LO] | 0;
    const xhi = nhi ^ phi;
    const xlo = nlo ^ plo;
    phi = nhi;
    plo = nlo;
    if ((xhi | xlo) === 0) {
      put(code << 1, bits + 1);
      continue;
    }
    let lz = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    if (lz > 31) lz = 31;
    const tz = xlo !== 0
      ? 31 - Math.clz32(xlo & -xlo)
      : 63 - Math.clz32(xhi & -xhi);
    let shift: number;
    let m: number;
    if (lz >= lead && tz >= trail) {
      // '10': the previous window still covers x.
      shift = trail;
      m = 64 - lead - trail;
      if (m <= 30) {
        const field = (0b10 << m) |
          (shift >= 32
            ? xhi >>> (shift - 32)
            : (xlo >>> shift) | ((xhi << 1) << (31 - shift)));
        if (bits + m + 2 <= 32) put((code << (m + 2)) | field, bits + m + 2);
        else {
          put(code, bits);
          put(field, m + 2);
        }
        continue;
      }
      if (bits > 0) put(code, bits);
      put(0b10, 2);
    } else {
      // '11': new window, 5 bits leading zeros, 6 bits length (64 as 0).
      lead = lz;
      trail = tz;
      shift = tz;
      m = 64 - lz - tz;
      const header = (0b11 << 11) | (lz << 6) | (m & 63);
      if (bits <= 19) put((code << 13) | header, bits + 13);
      else {
        put(code, bits);
        put(header, 13);
      }
    }
    if (shift >= 32) put(xhi >>> (shift - 32), m);
    else {
      const lo = (xlo >>> shift) | ((xhi << 1) << (31 - shift));
      if (m <= 32) put(lo, m);
      else {
        put(xhi >>> shift, m - 32);
        put(lo, 32);
      }
    }
  }

  // Copy the words out big-endian, then the partial word's bytes.
  const full = bw.n;
  const tail = (39 - bw.free) >>> 3;
  const length = 2 + 4 * full + tail;
  if (length > out.length) {
    throw new RangeError(
      `output buffer too small: chunk needs ${length} bytes, got ${out.length}`,
    );
  }
  const w = bw.words;
  let p = 2;
  for (let i = 0; i < full; i++, p += 4) {
    const word = w[i];
    out[p] = word >>> 24;
    out[p + 1] = word >>> 16;
    out[p + 2] = word >>> 8;
    out[p + 3] = word;
  }
  for (let s = 24; p < length; p++, s -= 8) out[p] = bw.acc >>> s;
  return p;
}
