/**
 * The dense record encodings of the chunks file (docs/format/block.md):
 *
 * - encoding 3, a timestamp stream: the timestamps shared by every series
 *   of one scrape target, stored once per block;
 * - encoding 2, dense samples: a sample count, a reference into a
 *   timestamp stream, and the values either as decimals (integers m with
 *   value = m / 10^k, plus patched positions holding raw float64 bits) or
 *   as deltas of float64 bit patterns.
 *
 * Values are carried as float64 bit patterns (two u32 words per value, low
 * word first) so that NaN payloads survive.
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { readSvarint, writeSvarint } from "./dense_bits.ts";
import {
  readBitsRuns,
  readIntRuns,
  writeBitsRuns,
  writeIntRuns,
} from "./dense_runs.ts";
import { DecodeError } from "./errors.ts";

if (new Uint8Array(Uint32Array.of(1).buffer)[0] !== 1) {
  throw new Error("dense block records need a little-endian platform");
}

/** Timestamps and decimal integers stay below this in magnitude. */
export const DENSE_VALUE_LIMIT = 2 ** 51;
/** Samples in one dense record at most (an XOR chunk's limit). */
export const DENSE_MAX_SAMPLES = 0xffff;
/** Timestamps in one stream at most. */
export const STREAM_MAX_SAMPLES = 1 << 24;
/** Largest decimal exponent a record may use. */
export const DECIMAL_MAX_K = 9;
/** Largest exponent the writer tries. */
const WRITER_MAX_K = 6;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** Value domains of a dense record. */
export const ValueDomain = { DECIMAL: 0, BITS: 1 } as const;

/** Bytes a record's readers may touch past its end (bit unpacking). */
const PAD = 8;

/** A copy of `data` with PAD zero bytes after it, read by a ByteReader. */
function padded(data: Uint8Array): ByteReader {
  const buf = new Uint8Array(data.length + PAD);
  buf.set(data);
  return new ByteReader(buf, 0, data.length);
}

/** Encodes a timestamp stream (strictly increasing, |t| < 2^51). */
export function encodeTimestampStream(ts: Float64Array): Uint8Array {
  const w = new ByteWriter(16 + ts.length * 2);
  w.uvarint(ts.length);
  writeSvarint(w, ts[0]);
  const deltas = new Float64Array(ts.length - 1);
  for (let i = 1; i < ts.length; i++) deltas[i - 1] = ts[i] - ts[i - 1];
  writeIntRuns(w, deltas);
  return w.view().slice();
}

/** Decodes a timestamp stream; throws DecodeError on any defect. */
export function decodeTimestampStream(data: Uint8Array): Float64Array {
  const r = padded(data);
  const n = r.uvarintAtMost(STREAM_MAX_SAMPLES, "stream length");
  if (n === 0) throw new DecodeError("empty timestamp stream");
  const ts = new Float64Array(n);
  ts[0] = readSvarint(r);
  if (!(Math.abs(ts[0]) < DENSE_VALUE_LIMIT)) {
    throw new DecodeError("timestamp out of range");
  }
  readIntRuns(r, n - 1, ts[0], ts, 1, DENSE_VALUE_LIMIT, true);
  if (r.remaining !== 0) throw new DecodeError("trailing bytes in stream");
  return ts;
}

/** Where a dense record's timestamps are. */
export interface DenseHeader {
  /** Samples in the record. */
  n: number;
  /** Offset of the timestamp stream record in the chunks file. */
  streamOffset: number;
  /** Index of the record's first timestamp in the stream. */
  streamStart: number;
}

/** A dense record: header, then the values as `encodeValues` wrote them. */
export function encodeDenseRecord(
  h: DenseHeader,
  values: Uint8Array,
): Uint8Array {
  const w = new ByteWriter(values.length + 16);
  w.uvarint(h.n);
  w.uvarint(h.streamOffset);
  w.uvarint(h.streamStart);
  w.bytes(values);
  return w.view().slice();
}

/**
 * Parses a dense record: its header, and its n values as float64 bits
 * written into `out` (length ≥ n). Throws DecodeError on any defect.
 */
export function decodeDenseRecord(
  data: Uint8Array,
): { header: DenseHeader; values: Float64Array } {
  const r = padded(data);
  const n = r.uvarintAtMost(DENSE_MAX_SAMPLES, "sample count");
  if (n === 0) throw new DecodeError("dense record without samples");
  const header = {
    n,
    streamOffset: r.uvarint(),
    streamStart: r.uvarintAtMost(STREAM_MAX_SAMPLES, "stream start"),
  };
  const values = new Float64Array(n);
  const words = new Uint32Array(values.buffer);
  const domain = r.u8();
  if (domain === ValueDomain.DECIMAL) readDecimal(r, n, values, words);
  else if (domain === ValueDomain.BITS) {
    const hi = r.u32be();
    const lo = r.u32be();
    words[0] = lo;
    words[1] = hi;
    readBitsRuns(r, n - 1, hi, lo, words, 1);
  } else throw new DecodeError(`unknown value domain ${domain}`);
  if (r.remaining !== 0) throw new DecodeError("trailing bytes in record");
  return { header, values };
}

function readDecimal(
  r: ByteReader,
  n: number,
  values: Float64Array,
  words: Uint32Array,
): void {
  const k = r.u8();
  if (k > DECIMAL_MAX_K) throw new DecodeError(`decimal exponent ${k}`);
  const scale = POW10[k];
  const patches = r.uvarintAtMost(n, "patch count");
  const at = new Int32Array(patches);
  const patchWords = new Uint32Array(2 * patches);
  let pos = -1;
  for (let p = 0; p < patches; p++) {
    pos += r.uvarint() + 1;
    if (pos >= n) throw new DecodeError("patch beyond the last sample");
    at[p] = pos;
    patchWords[2 * p + 1] = r.u32be();
    patchWords[2 * p] = r.u32be();
  }
  const count = n - patches;
  const m = new Float64Array(count);
  if (count > 0) {
    m[0] = readSvarint(r);
    if (!(Math.abs(m[0]) < DENSE_VALUE_LIMIT)) {
      throw new DecodeError("decimal out of range");
    }
    readIntRuns(r, count - 1, m[0], m, 1, DENSE_VALUE_LIMIT, false);
  }
  let j = 0, p = 0;
  for (let i = 0; i < n; i++) {
    if (p < patches && at[p] === i) {
      words[2 * i] = patchWords[2 * p];
      words[2 * i + 1] = patchWords[2 * p + 1];
      p++;
    } else values[i] = m[j++] / scale;
  }
}

/** Smallest k ≤ WRITER_MAX_K with v = round(v·10^k) / 10^k exactly, or -1. */
function decimalExponent(v: number, signBit: boolean): number {
  if (!Number.isFinite(v) || (v === 0 && signBit)) return -1;
  for (let k = 0; k <= WRITER_MAX_K; k++) {
    const m = Math.round(v * POW10[k]);
    if (Math.abs(m) < DENSE_VALUE_LIMIT && m / POW10[k] === v) return k;
  }
  return -1;
}

/**
 * Encodes n values (float64 bits in `words`, low word first) in the smaller
 * of the decimal and bits domains. Returns the bytes that follow a dense
 * record's header.
 */
export function encodeValues(values: Float64Array): Uint8Array {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const ks = new Int8Array(n);
  const perK = new Int32Array(WRITER_MAX_K + 1);
  for (let i = 0; i < n; i++) {
    const k = decimalExponent(values[i], words[2 * i + 1] >>> 31 === 1);
    ks[i] = k;
    if (k >= 0) perK[k]++;
  }
  // The smallest exponent leaving at most 1/16 of the values as patches.
  let k = -1;
  let covered = 0;
  for (let e = 0; e <= WRITER_MAX_K; e++) {
    covered += perK[e];
    if (n - covered <= n / 16) {
      k = e;
      break;
    }
  }
  const bits = encodeBits(n, words);
  if (k < 0) return bits;
  const decimal = encodeDecimal(values, words, ks, k);
  return decimal.length <= bits.length ? decimal : bits;
}

function encodeBits(n: number, words: Uint32Array): Uint8Array {
  const w = new ByteWriter(16 + n * 8);
  w.u8(ValueDomain.BITS);
  w.u32be(words[1]);
  w.u32be(words[0]);
  const hi = new Uint32Array(n - 1), lo = new Uint32Array(n - 1);
  for (let i = 1; i < n; i++) {
    const aLo = words[2 * i], aHi = words[2 * i + 1];
    const bLo = words[2 * i - 2], bHi = words[2 * i - 1];
    lo[i - 1] = (aLo - bLo) >>> 0;
    hi[i - 1] = (aHi - bHi - (aLo < bLo ? 1 : 0)) >>> 0;
  }
  writeBitsRuns(w, hi, lo);
  return w.view().slice();
}

function encodeDecimal(
  values: Float64Array,
  words: Uint32Array,
  ks: Int8Array,
  k: number,
): Uint8Array {
  const n = values.length;
  const scale = POW10[k];
  const w = new ByteWriter(16 + n * 2);
  w.u8(ValueDomain.DECIMAL);
  w.u8(k);
  // Each value is checked at k itself: exact at a smaller k does not
  // promise exact at k.
  const ints = new Float64Array(n);
  const patched = new Uint8Array(n);
  let patches = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const mi = ks[i] < 0 ? NaN : Math.round(v * scale) || 0;
    if (ks[i] >= 0 && Math.abs(mi) < DENSE_VALUE_LIMIT && mi / scale === v) {
      ints[i] = mi;
    } else {
      patched[i] = 1;
      patches++;
    }
  }
  w.uvarint(patches);
  const m = new Float64Array(n - patches);
  let prev = -1, j = 0;
  for (let i = 0; i < n; i++) {
    if (patched[i]) {
      w.uvarint(i - prev - 1);
      w.u32be(words[2 * i + 1]);
      w.u32be(words[2 * i]);
      prev = i;
    } else m[j++] = ints[i];
  }
  if (m.length > 0) {
    writeSvarint(w, m[0]);
    const deltas = new Float64Array(m.length - 1);
    for (let i = 1; i < m.length; i++) deltas[i - 1] = m[i] - m[i - 1];
    writeIntRuns(w, deltas);
  }
  return w.view().slice();
}
