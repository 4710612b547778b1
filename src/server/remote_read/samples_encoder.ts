/**
 * A fast encoder of prometheus.ReadResponse (SAMPLES), byte for byte what
 * `encodeReadResponse` in codec/prompb.ts writes, without a nested-message
 * fork per sample: a first pass sizes every message, a second writes them
 * into one exact buffer. A Sample is `0x09 value(8, omitted when all bits
 * are zero) 0x10 varint(timestamp, omitted when 0)`; values are copied as
 * bytes, so every NaN payload and -0 survive.
 * @module
 */
import type { Label, QueryResult, TimeSeries } from "../../codec/prompb.ts";

const TWO32 = 2 ** 32;
const utf8 = new TextEncoder();

/** Encodes a ReadResponse holding `results` (before Snappy compression). */
export function encodeReadResponseFast(
  results: readonly QueryResult[],
): Uint8Array<ArrayBuffer> {
  // Pass 1: sizes of every series and result message.
  const labelBytes = new Map<string, Uint8Array>();
  const seriesSizes: number[] = [];
  const resultSizes: number[] = [];
  let total = 0;
  for (const r of results) {
    let rs = 0;
    for (const ts of r.timeseries) {
      const s = seriesSize(ts, labelBytes);
      seriesSizes.push(s);
      rs += 1 + uvarintSize(s) + s;
    }
    resultSizes.push(rs);
    total += 1 + uvarintSize(rs) + rs;
  }
  // Pass 2: write.
  const out = new Uint8Array(total);
  const w = { buf: out, pos: 0 };
  let si = 0;
  results.forEach((r, ri) => {
    out[w.pos++] = 0x0a; // results, field 1 LEN
    uvarint(w, resultSizes[ri]);
    for (const ts of r.timeseries) {
      out[w.pos++] = 0x0a; // timeseries, field 1 LEN
      uvarint(w, seriesSizes[si++]);
      writeSeries(w, ts, labelBytes);
    }
  });
  if (w.pos !== total) throw new Error(`size mismatch ${w.pos} != ${total}`);
  return out;
}

interface Out {
  buf: Uint8Array;
  pos: number;
}

function seriesSize(ts: TimeSeries, cache: Map<string, Uint8Array>): number {
  if (ts.timestamps.length !== ts.values.length) {
    throw new RangeError("timestamps and values differ in length");
  }
  let n = 0;
  for (const l of ts.labels) {
    const s = labelSize(l, cache);
    n += 1 + uvarintSize(s) + s;
  }
  const words = wordsOf(ts.values);
  for (let i = 0; i < ts.timestamps.length; i++) {
    const s = sampleSize(ts.timestamps[i], words, i);
    n += 2 + s; // tag + one-byte length (a Sample is at most 20 bytes)
  }
  return n;
}

function sampleSize(t: number, words: Uint32Array, i: number): number {
  let s = (words[2 * i] | words[2 * i + 1]) !== 0 ? 9 : 0;
  if (t !== 0) s += 1 + int64Size(t);
  return s;
}

function writeSeries(
  w: Out,
  ts: TimeSeries,
  cache: Map<string, Uint8Array>,
): void {
  for (const l of ts.labels) {
    const name = bytesOf(l.name, cache);
    const value = bytesOf(l.value, cache);
    w.buf[w.pos++] = 0x0a; // labels, field 1 LEN
    uvarint(w, labelSize(l, cache));
    if (name.length > 0) stringField(w, 0x0a, name);
    if (value.length > 0) stringField(w, 0x12, value);
  }
  const words = wordsOf(ts.values);
  const bytes = new Uint8Array(
    ts.values.buffer,
    ts.values.byteOffset,
    ts.values.byteLength,
  );
  const buf = w.buf;
  for (let i = 0; i < ts.timestamps.length; i++) {
    const t = ts.timestamps[i];
    buf[w.pos++] = 0x12; // samples, field 2 LEN
    buf[w.pos++] = sampleSize(t, words, i);
    if ((words[2 * i] | words[2 * i + 1]) !== 0) {
      buf[w.pos++] = 0x09; // value, field 1 I64
      // Byte by byte: a subarray per sample would cost more than the copy.
      const at = 8 * i;
      let p = w.pos;
      for (let k = 0; k < 8; k++) buf[p++] = bytes[at + k];
      w.pos = p;
    }
    if (t !== 0) {
      buf[w.pos++] = 0x10; // timestamp, field 2 VARINT
      int64(w, t);
    }
  }
}

function labelSize(l: Label, cache: Map<string, Uint8Array>): number {
  const a = bytesOf(l.name, cache).length;
  const b = bytesOf(l.value, cache).length;
  return (a > 0 ? 1 + uvarintSize(a) + a : 0) +
    (b > 0 ? 1 + uvarintSize(b) + b : 0);
}

function bytesOf(s: string, cache: Map<string, Uint8Array>): Uint8Array {
  let b = cache.get(s);
  if (!b) {
    b = utf8.encode(s);
    cache.set(s, b);
  }
  return b;
}

function stringField(w: Out, tag: number, b: Uint8Array): void {
  w.buf[w.pos++] = tag;
  uvarint(w, b.length);
  w.buf.set(b, w.pos);
  w.pos += b.length;
}

function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 128)) {
    n++;
  }
  return n;
}

/** Bytes of an int64 varint: negatives are 10 (two's complement). */
function int64Size(v: number): number {
  return v < 0 ? 10 : uvarintSize(v);
}

function uvarint(w: Out, v: number): void {
  const b = w.buf;
  if (v >= TWO32) {
    // Split once, then shift 32-bit halves (no float division per byte).
    let hi = Math.floor(v / TWO32);
    let lo = (v - hi * TWO32) >>> 0;
    while (hi > 0 || lo >= 0x80) {
      b[w.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    b[w.pos++] = lo;
    return;
  }
  while (v >= 0x80) {
    b[w.pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[w.pos++] = v;
}

function int64(w: Out, v: number): void {
  if (v >= 0) return uvarint(w, v);
  // Two's complement on 32-bit halves, 7 bits at a time, 10 bytes.
  const hiS = Math.floor(v / TWO32);
  let lo = (v - hiS * TWO32) >>> 0;
  let hi = hiS >>> 0;
  const b = w.buf;
  for (let k = 0; k < 9; k++) {
    b[w.pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  b[w.pos++] = lo & 0x01;
}
