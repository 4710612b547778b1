/**
 * Runs of bit-packed deltas (docs/format/block.md, "Runs"): a sequence of
 * deltas is cut into runs; each run stores its smallest delta, an optional
 * common divisor and a bit width, then every delta as
 * `(delta - min) / divisor` in that many bits. The writer chooses the cuts
 * by halving a run while the halves cost fewer bytes, which isolates
 * counter resets and bursts in short runs.
 *
 * Two flavours: safe integers (decimal values, timestamps; |delta| < 2^52)
 * and 64-bit deltas of float64 bit patterns carried as u32 halves.
 * @module
 */
import { ByteReader, ByteWriter, uvarintSize } from "./bytes.ts";
import {
  bitLength,
  BitWriter,
  readBits,
  readSvarint,
  readZigzag64,
  SVARINT_LIMIT,
  svarintSize,
  writeSvarint,
  writeZigzag64,
  zigzag64Size,
} from "./dense_bits.ts";
import { DecodeError } from "./errors.ts";

/** Runs shorter than this are not split further. */
const MIN_RUN = 8;
/** Flag in a run's width byte: a divisor (uvarint ≥ 2) follows the minimum. */
const HAS_DIVISOR = 0x80;
const TWO32 = 2 ** 32;

/** Largest bit width of a run of safe-integer deltas. */
export const MAX_INT_WIDTH = 53;
/** Largest bit width of a run of 64-bit deltas. */
export const MAX_BITS_WIDTH = 64;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

interface IntRun {
  end: number;
  min: number;
  divisor: number;
  width: number;
}

function intRun(
  d: Float64Array,
  a: number,
  b: number,
): IntRun & { cost: number } {
  let min = d[a], max = d[a];
  for (let i = a + 1; i < b; i++) {
    const x = d[i];
    if (x < min) min = x;
    else if (x > max) max = x;
  }
  let divisor = 1;
  if (max > min) {
    let g = 0;
    for (let i = a; i < b && g !== 1; i++) g = gcd(d[i] - min, g);
    divisor = g;
  }
  const width = bitLength((max - min) / divisor);
  const cost = uvarintSize(b - a) + 1 + svarintSize(min) +
    (divisor > 1 ? uvarintSize(divisor) : 0) + Math.ceil((b - a) * width / 8);
  return { end: b, min, divisor, width, cost };
}

/** Best cuts of [a, b): the run itself or its two halves, recursively. */
function planInt(d: Float64Array, a: number, b: number, out: IntRun[]): number {
  const whole = intRun(d, a, b);
  if (b - a >= 2 * MIN_RUN) {
    const mid = (a + b) >>> 1;
    const parts: IntRun[] = [];
    const split = planInt(d, a, mid, parts) + planInt(d, mid, b, parts);
    if (split < whole.cost) {
      out.push(...parts);
      return split;
    }
  }
  out.push(whole);
  return whole.cost;
}

/**
 * Writes deltas[0 … n) (safe integers with |delta| < 2^52) as runs.
 * Returns the bytes written.
 */
export function writeIntRuns(w: ByteWriter, deltas: Float64Array): number {
  const start = w.length;
  if (deltas.length === 0) return 0;
  const runs: IntRun[] = [];
  planInt(deltas, 0, deltas.length, runs);
  const bits = new BitWriter(w);
  let a = 0;
  for (const run of runs) {
    w.uvarint(run.end - a);
    w.u8(run.width | (run.divisor > 1 ? HAS_DIVISOR : 0));
    writeSvarint(w, run.min);
    if (run.divisor > 1) w.uvarint(run.divisor);
    const { min, divisor, width } = run;
    if (width > 0) {
      for (let i = a; i < run.end; i++) {
        const u = (deltas[i] - min) / divisor;
        if (width <= 32) bits.write(u, width);
        else {
          bits.write(u % TWO32, 32);
          bits.write(Math.floor(u / TWO32), width - 32);
        }
      }
      bits.finish();
    }
    a = run.end;
  }
  return w.length - start;
}

/**
 * Reads runs covering `count` deltas and writes the running sums
 * `first + d0`, `first + d0 + d1`, … into out[at …]. `r.buf` must have 8
 * readable bytes past `r.end`. Every sum must stay below `limit` in
 * magnitude, and with `increasing` every delta must be ≥ 1.
 */
export function readIntRuns(
  r: ByteReader,
  count: number,
  first: number,
  out: Float64Array,
  at: number,
  limit: number,
  increasing: boolean,
): void {
  let x = first;
  let left = count;
  const buf = r.buf;
  while (left > 0) {
    const n = r.uvarintAtMost(left, "run length");
    if (n === 0) throw new DecodeError("empty run");
    const head = r.u8();
    const width = head & ~HAS_DIVISOR;
    if (width > MAX_INT_WIDTH) throw new DecodeError(`run width ${width}`);
    const min = readSvarint(r);
    let divisor = 1;
    if (head & HAS_DIVISOR) {
      divisor = r.uvarint();
      if (divisor < 2) throw new DecodeError("run divisor below 2");
    }
    if (increasing && min < 1) {
      throw new DecodeError("timestamps not increasing");
    }
    let pos = r.pos * 8;
    r.bytes(Math.ceil(n * width / 8));
    if (width === 0) {
      // The sums move linearly: checking the last one bounds them all.
      for (let j = 0; j < n; j++) {
        x += min;
        out[at++] = x;
      }
      if (!(Math.abs(x) < limit)) throw new DecodeError("value out of range");
    } else if (width <= 32) {
      for (let j = 0; j < n; j++) {
        x += min + divisor * readBits(buf, pos, width);
        pos += width;
        if (!(Math.abs(x) < limit)) throw new DecodeError("value out of range");
        out[at++] = x;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const lo = readBits(buf, pos, 32);
        const hi = readBits(buf, pos + 32, width - 32);
        pos += width;
        x += min + divisor * (hi * TWO32 + lo);
        if (!(Math.abs(x) < limit)) throw new DecodeError("value out of range");
        out[at++] = x;
      }
    }
    left -= n;
  }
}

interface BitsRun {
  end: number;
  minHi: number;
  minLo: number;
  width: number;
}

/** Signed 64-bit comparison of (ah, al) and (bh, bl); halves as u32. */
function less64(ah: number, al: number, bh: number, bl: number): boolean {
  return (ah | 0) < (bh | 0) || ((ah | 0) === (bh | 0) && al < bl);
}

function bitsRun(
  hi: Uint32Array,
  lo: Uint32Array,
  a: number,
  b: number,
): BitsRun & { cost: number } {
  let minHi = hi[a], minLo = lo[a], maxHi = hi[a], maxLo = lo[a];
  for (let i = a + 1; i < b; i++) {
    const h = hi[i], l = lo[i];
    if (less64(h, l, minHi, minLo)) {
      minHi = h;
      minLo = l;
    } else if (less64(maxHi, maxLo, h, l)) {
      maxHi = h;
      maxLo = l;
    }
  }
  // span = max - min as an unsigned 64-bit value.
  const sLo = (maxLo - minLo) >>> 0;
  const sHi = (maxHi - minHi - (maxLo < minLo ? 1 : 0)) >>> 0;
  const width = sHi !== 0 ? 64 - Math.clz32(sHi) : 32 - Math.clz32(sLo);
  const cost = uvarintSize(b - a) + 1 + zigzag64Size(minHi, minLo) +
    Math.ceil((b - a) * width / 8);
  return { end: b, minHi, minLo, width, cost };
}

function planBits(
  hi: Uint32Array,
  lo: Uint32Array,
  a: number,
  b: number,
  out: BitsRun[],
): number {
  const whole = bitsRun(hi, lo, a, b);
  if (b - a >= 2 * MIN_RUN) {
    const mid = (a + b) >>> 1;
    const parts: BitsRun[] = [];
    const split = planBits(hi, lo, a, mid, parts) +
      planBits(hi, lo, mid, b, parts);
    if (split < whole.cost) {
      out.push(...parts);
      return split;
    }
  }
  out.push(whole);
  return whole.cost;
}

/**
 * Writes 64-bit deltas (two's complement, halves hi[i], lo[i]) as runs.
 * Returns the bytes written.
 */
export function writeBitsRuns(
  w: ByteWriter,
  hi: Uint32Array,
  lo: Uint32Array,
): number {
  const start = w.length;
  if (hi.length === 0) return 0;
  const runs: BitsRun[] = [];
  planBits(hi, lo, 0, hi.length, runs);
  const bits = new BitWriter(w);
  let a = 0;
  for (const run of runs) {
    w.uvarint(run.end - a);
    w.u8(run.width);
    writeZigzag64(w, run.minHi, run.minLo);
    const { minHi, minLo, width } = run;
    if (width > 0) {
      for (let i = a; i < run.end; i++) {
        const uLo = (lo[i] - minLo) >>> 0;
        const uHi = (hi[i] - minHi - (lo[i] < minLo ? 1 : 0)) >>> 0;
        if (width <= 32) bits.write(uLo, width);
        else {
          bits.write(uLo, 32);
          bits.write(uHi, width - 32);
        }
      }
      bits.finish();
    }
    a = run.end;
  }
  return w.length - start;
}

/**
 * Reads runs covering `count` 64-bit deltas and writes the running sums
 * from (firstHi, firstLo) as u32 halves into words[2·at …] (little-endian
 * order: low half first, as a Float64Array's bytes on every supported
 * platform). `r.buf` must have 8 readable bytes past `r.end`.
 */
export function readBitsRuns(
  r: ByteReader,
  count: number,
  firstHi: number,
  firstLo: number,
  words: Uint32Array,
  at: number,
): void {
  let xHi = firstHi, xLo = firstLo;
  let left = count;
  const buf = r.buf;
  let k = 2 * at;
  while (left > 0) {
    const n = r.uvarintAtMost(left, "run length");
    if (n === 0) throw new DecodeError("empty run");
    const width = r.u8();
    if (width > MAX_BITS_WIDTH) throw new DecodeError(`run width ${width}`);
    const [minHi, minLo] = readZigzag64(r);
    let pos = r.pos * 8;
    r.bytes(Math.ceil(n * width / 8));
    for (let j = 0; j < n; j++) {
      let uLo = 0, uHi = 0;
      if (width <= 32) uLo = readBits(buf, pos, width);
      else {
        uLo = readBits(buf, pos, 32);
        uHi = readBits(buf, pos + 32, width - 32);
      }
      pos += width;
      // x += min + u (mod 2^64)
      const dLo = minLo + uLo;
      const dHi = minHi + uHi + (dLo >= TWO32 ? 1 : 0);
      const sLo = xLo + (dLo >>> 0);
      xHi = (xHi + dHi + (sLo >= TWO32 ? 1 : 0)) >>> 0;
      xLo = sLo >>> 0;
      words[k++] = xLo;
      words[k++] = xHi;
    }
    left -= n;
  }
}

/** Checks that |x| < 2^52 so that deltas of such values fit `svarint`. */
export function fitsSvarint(x: number): boolean {
  return Math.abs(x) < SVARINT_LIMIT;
}
