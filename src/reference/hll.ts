/**
 * Plain TypeScript reference of the hll kernel (assembly/hll/): the same
 * XXH64 hash (BigInt arithmetic), register update, merge, Ertl estimator and
 * byte format, written independently of the AssemblyScript code. It is the
 * oracle of the property tests: registers, estimates and serialized bytes
 * must be identical to the engine's.
 * @module
 */
import {
  ERR_ARG,
  ERR_CORRUPT,
  ERR_FORMAT,
  ERR_TRUNCATED,
} from "../bindings/errors.ts";

const MASK64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK64;
const add = (a: bigint, b: bigint): bigint => (a + b) & MASK64;
const rotl = (x: bigint, r: bigint): bigint =>
  ((x << r) | (x >> (64n - r))) & MASK64;
const xxRound = (acc: bigint, lane: bigint): bigint =>
  mul(rotl(add(acc, mul(lane, P2)), 31n), P1);

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24)) >>> 0;
}

function readU64(bytes: Uint8Array, at: number): bigint {
  return (BigInt(readU32(bytes, at + 4)) << 32n) | BigInt(readU32(bytes, at));
}

/** XXH64 of `bytes` with `seed` (an unsigned 64-bit BigInt result). */
export function xxhash64(bytes: Uint8Array, seed = 0n): bigint {
  const len = bytes.length;
  let at = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = add(add(seed, P1), P2);
    let v2 = add(seed, P2);
    let v3 = seed & MASK64;
    let v4 = (seed - P1) & MASK64;
    for (; at + 32 <= len; at += 32) {
      v1 = xxRound(v1, readU64(bytes, at));
      v2 = xxRound(v2, readU64(bytes, at + 8));
      v3 = xxRound(v3, readU64(bytes, at + 16));
      v4 = xxRound(v4, readU64(bytes, at + 24));
    }
    h = add(
      add(rotl(v1, 1n), rotl(v2, 7n)),
      add(rotl(v3, 12n), rotl(v4, 18n)),
    );
    for (const v of [v1, v2, v3, v4]) {
      h = add(mul(h ^ xxRound(0n, v), P1), P4);
    }
  } else {
    h = add(seed, P5);
  }
  h = add(h, BigInt(len));
  for (; at + 8 <= len; at += 8) {
    h ^= xxRound(0n, readU64(bytes, at));
    h = add(mul(rotl(h, 27n), P1), P4);
  }
  if (at + 4 <= len) {
    h ^= mul(BigInt(readU32(bytes, at)), P1);
    h = add(mul(rotl(h, 23n), P2), P3);
    at += 4;
  }
  for (; at < len; at++) {
    h ^= mul(BigInt(bytes[at]), P5);
    h = mul(rotl(h, 11n), P1);
  }
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  return h ^ (h >> 32n);
}

const encoder = new TextEncoder();

/** The hash of a string: XXH64 of its UTF-8 bytes (lone surrogates become U+FFFD). */
export function hashString(s: string): bigint {
  return xxhash64(encoder.encode(s));
}

/** The hash of a number: XXH64 of its 8 little-endian IEEE bytes, -0 as 0, NaNs as one NaN. */
export function hashNumber(x: number): bigint {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  if (Number.isNaN(x)) view.setBigUint64(0, 0x7ff8000000000000n, true);
  else view.setFloat64(0, x === 0 ? 0 : x, true);
  return xxhash64(bytes);
}

/** Smallest and largest precision. */
export const MIN_PRECISION = 4;
export const MAX_PRECISION = 18;
const ALPHA_INF = 0.7213475204444817; // 1 / (2 ln 2)

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const previous = z;
    z += x * y;
    y += y;
    if (z === previous) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === previous) return z / 3;
  }
}

/** A dense HyperLogLog sketch: 2^p registers, one byte each. */
export class ReferenceHll {
  readonly p: number;
  readonly registers: Uint8Array;

  constructor(p = 14) {
    if (!Number.isInteger(p) || p < MIN_PRECISION || p > MAX_PRECISION) {
      throw new RangeError(`precision ${p} outside 4..18`);
    }
    this.p = p;
    this.registers = new Uint8Array(1 << p);
  }

  /** Records a 64-bit hash: top p bits pick the register, rank = 1 + leading zeros of the rest. */
  addHash(hash: bigint): void {
    const h = BigInt.asUintN(64, hash);
    const q = 64 - this.p;
    const index = Number(h >> BigInt(q));
    const rest = h & ((1n << BigInt(q)) - 1n);
    let rank = q + 1;
    if (rest !== 0n) rank = q - rest.toString(2).length + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  addBytes(bytes: Uint8Array): void {
    this.addHash(xxhash64(bytes));
  }

  addString(s: string): void {
    this.addHash(hashString(s));
  }

  addNumber(x: number): void {
    this.addHash(hashNumber(x));
  }

  /** Merges `other` (of precision >= this one's) into this sketch; else returns ERR_ARG. */
  merge(other: ReferenceHll): number {
    if (other.p < this.p) return ERR_ARG;
    const d = other.p - this.p;
    for (let j = 0; j < other.registers.length; j++) {
      const r = other.registers[j];
      if (r === 0) continue;
      // The d dropped index bits lead the rank field of the coarser sketch.
      const dropped = j % (1 << d);
      const rank = dropped === 0 ? d + r : d - dropped.toString(2).length + 1;
      const i = Math.floor(j / (1 << d));
      if (rank > this.registers[i]) this.registers[i] = rank;
    }
    return 0;
  }

  /** Ertl's improved estimator (2017, algorithm 6). */
  estimate(): number {
    const m = this.registers.length;
    const q = 64 - this.p;
    const counts = new Array<number>(q + 2).fill(0);
    for (const r of this.registers) counts[r]++;
    let z = m * tau(1 - counts[q + 1] / m);
    for (let k = q; k >= 1; k--) z = 0.5 * (z + counts[k]);
    z += m * sigma(counts[0] / m);
    return ALPHA_INF * m * m / z;
  }

  /** The format of docs/format/hll.md. */
  serialize(): Uint8Array {
    const m = this.registers.length;
    const sparse: number[] = [];
    let count = 0;
    let previous = -1;
    for (let i = 0; i < m; i++) {
      const r = this.registers[i];
      if (r === 0) continue;
      pushVarint(sparse, (i - previous - 1) * 64 + r);
      previous = i;
      count++;
    }
    const countBytes: number[] = [];
    pushVarint(countBytes, count);
    const sparseSize = countBytes.length + sparse.length;
    const denseSize = m * 6 / 8;
    const body: number[] = [];
    if (sparseSize < denseSize) {
      body.push(...countBytes, ...sparse);
    } else {
      for (let i = 0; i < m; i += 4) {
        const word = this.registers[i] + this.registers[i + 1] * 64 +
          this.registers[i + 2] * 4096 + this.registers[i + 3] * 262144;
        body.push(word & 255, (word >> 8) & 255, word >> 16);
      }
    }
    const out = new Uint8Array(5 + body.length + 4);
    out.set([0x48, 0x4c, 1, this.p, sparseSize < denseSize ? 0 : 1]);
    out.set(body, 5);
    const sum = Number(
      xxhash64(out.subarray(0, 5 + body.length)) & 0xffffffffn,
    );
    new DataView(out.buffer).setUint32(5 + body.length, sum, true);
    return out;
  }

  /** Decodes a blob; returns an ERR_* code (negative number) when it is not valid. */
  static deserialize(bytes: Uint8Array): ReferenceHll | number {
    const expect = [0x48, 0x4c, 1];
    for (let i = 0; i < 3 && i < bytes.length; i++) {
      if (bytes[i] !== expect[i]) return ERR_FORMAT;
    }
    if (bytes.length < 9) return ERR_TRUNCATED;
    const p = bytes[3];
    const encoding = bytes[4];
    if (p < MIN_PRECISION || p > MAX_PRECISION) return ERR_CORRUPT;
    if (encoding > 1) return ERR_CORRUPT;
    const sketch = new ReferenceHll(p);
    const m = 1 << p;
    const maxRank = 65 - p;
    const end = bytes.length - 4;
    if (encoding === 1) {
      const need = m * 3 / 4;
      if (end - 5 < need) return ERR_TRUNCATED;
      if (end - 5 > need) return ERR_CORRUPT;
      for (let i = 0; i < m; i++) {
        const bit = 6 * i;
        const at = 5 + Math.floor(bit / 8);
        const pair = bytes[at] | ((at + 1 < end ? bytes[at + 1] : 0) << 8);
        const r = (pair >> (bit % 8)) & 63;
        if (r > maxRank) return ERR_CORRUPT;
        sketch.registers[i] = r;
      }
    } else {
      const reader = { at: 5 };
      const count = readVarint(bytes, reader, end);
      if (count < 0) return count;
      if (count > m) return ERR_CORRUPT;
      let previous = -1;
      for (let k = 0; k < count; k++) {
        const entry = readVarint(bytes, reader, end);
        if (entry < 0) return entry;
        const rank = entry % 64;
        const index = previous + 1 + Math.floor(entry / 64);
        if (rank === 0 || rank > maxRank || index >= m) return ERR_CORRUPT;
        sketch.registers[index] = rank;
        previous = index;
      }
      if (reader.at !== end) return ERR_CORRUPT;
    }
    const sum = Number(xxhash64(bytes.subarray(0, end)) & 0xffffffffn);
    if (
      new DataView(bytes.buffer, bytes.byteOffset).getUint32(end, true) !== sum
    ) {
      return ERR_CORRUPT;
    }
    return sketch;
  }
}

function pushVarint(out: number[], v: number): void {
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Canonical LEB128 below 2^32 starting at reader.at; a negative ERR_* on failure. */
function readVarint(
  bytes: Uint8Array,
  reader: { at: number },
  end: number,
): number {
  let value = 0;
  for (let k = 0; k < 5; k++) {
    if (reader.at >= end) return ERR_TRUNCATED;
    const b = bytes[reader.at++];
    value += (b % 128) * 2 ** (7 * k);
    if (b < 128) {
      if (b === 0 && k > 0) return ERR_CORRUPT;
      return value > 0xffffffff ? ERR_CORRUPT : value;
    }
  }
  return ERR_CORRUPT;
}
