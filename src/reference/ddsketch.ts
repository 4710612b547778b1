/**
 * Plain-TypeScript reference of the engine's DDSketch (assembly/ddsketch/):
 * the same index mapping, the same collapsing stores, the same quantile rule
 * and the same byte format, written for clarity (bins in a Map) rather than
 * speed. Every float operation is performed in the same order as in the
 * engine, so both give bit-identical bins, counts, quantiles and blobs; it is
 * the oracle of the property tests and the baseline of the benchmarks.
 *
 * Format spec: docs/format/ddsketch.md.
 * @module
 */

/** Cubic approximation of log2 on the mantissa: P(m) = A m^3 + B m^2 + C m. */
export const POLY_A = 6 / 35;
export const POLY_B = -3 / 5;
export const POLY_C = 10 / 7;

/** Accepted range of the relative accuracy alpha. */
export const MIN_ALPHA = 1e-6;
export const MAX_ALPHA = 0.5;
/** Accepted range of the per-store bin limit, and its default. */
export const MIN_BINS = 16;
export const MAX_BINS = 65535;
export const DEFAULT_BINS = 4096;
export const DEFAULT_ALPHA = 0.01;

/** Magnitudes below this (zero and subnormals) go to the zero bucket. */
export const MIN_NORMAL = 2.2250738585072014e-308;

/** Error codes (mirror of src/bindings/errors.ts, kept local so the reference stands alone). */
export const REF_ERR_TRUNCATED = -1;
export const REF_ERR_CORRUPT = -4;
export const REF_ERR_ARG = -6;
export const REF_ERR_FORMAT = -7;

const FORMAT_VERSION = 1;
const MAPPING_CUBIC = 1;
const HEADER_BYTES = 56;
const MIN_BLOB_BYTES = HEADER_BYTES + 2 + 4;
const FLAG_F64 = 1;
const MAX_WHOLE = 9007199254740992; // 2^53
const NO_FLOOR = -2147483648;
const MAGIC = [0x44, 0x44, 0x53, 0x4b]; // "DDSK"

// Bit access to a float64 (little-endian words: [low, high]).
const f64Cell = new Float64Array(1);
const u32Cell = new Uint32Array(f64Cell.buffer);

/** alpha shrunk by 2^-20: the accuracy the bins are actually built for. */
export function designAccuracy(alpha: number): number {
  return alpha * (1 - 1 / 1048576);
}

/** ln((1 + a) / (1 - a)) = 2 atanh(a) by its series (same 40 terms as the engine). */
function lnGamma(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = 0;
  for (let k = 0; k < 40; k++) {
    sum += term / (2 * k + 1);
    term *= a2;
  }
  return 2 * sum;
}

/** Bins per unit of approximated log2: 1 / (C ln gamma). */
export function multiplierFor(alpha: number): number {
  return 1 / (POLY_C * lnGamma(designAccuracy(alpha)));
}

/** Approximated log2 of |v| for a normal float: exponent + P(mantissa fraction). */
export function approxLog2(v: number): number {
  f64Cell[0] = v;
  const hi = u32Cell[1];
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  u32Cell[1] = (hi & 0x000fffff) | 0x3ff00000;
  const m = f64Cell[0] - 1;
  return ((POLY_A * m + POLY_B) * m + POLY_C) * m + e;
}

/** Bin index of a magnitude in [2^-1022, DBL_MAX]. */
export function indexOf(magnitude: number, mult: number): number {
  return Math.floor(approxLog2(magnitude) * mult);
}

/** Smallest index of a normal magnitude, and an upper bound of all indices. */
export function indexRange(mult: number): [number, number] {
  return [Math.floor(-1022 * mult), Math.floor(1024 * mult)];
}

function pow2(e: number): number {
  if (e > 1023) return Infinity;
  u32Cell[0] = 0;
  u32Cell[1] = (e + 1023) << 20;
  return f64Cell[0];
}

/** Lower bound of bin `index` (inverse of the mapping, Newton on the cubic). */
export function lowerBound(index: number, mult: number): number {
  const y = index / mult;
  const ef = Math.floor(y);
  const t = y - ef;
  let m = t;
  for (let i = 0; i < 8; i++) {
    const p = ((POLY_A * m + POLY_B) * m + POLY_C) * m - t;
    const d = (3 * POLY_A * m + 2 * POLY_B) * m + POLY_C;
    m = m - p / d;
  }
  if (m < 0) m = 0;
  if (m > 1) m = 1;
  if (ef < -1022) {
    return ((1 + m) * pow2(ef + 64)) * (1 / 18446744073709551616);
  }
  return (1 + m) * pow2(ef);
}

/** The value a bin stands for: lowerBound (1 + design accuracy). */
export function binValue(index: number, alpha: number): number {
  return lowerBound(index, multiplierFor(alpha)) * (1 + designAccuracy(alpha));
}

/** Bins of one sign; negative values are kept under negated indices. */
class RefStore {
  readonly bins = new Map<number, number>();
  floor = NO_FLOOR;
  lo = 0;
  hi = -1;

  constructor(readonly maxBins: number) {}

  get empty(): boolean {
    return this.lo > this.hi;
  }

  add(key: number, w: number): void {
    if (key < this.floor) key = this.floor;
    if (this.empty) {
      this.lo = this.hi = key;
    } else if (key < this.lo || key > this.hi) {
      const lo = Math.min(this.lo, key);
      const hi = Math.max(this.hi, key);
      if (hi - lo >= this.maxBins) {
        const floor = hi - this.maxBins + 1;
        const below = [...this.bins.keys()].filter((k) => k < floor)
          .sort((a, b) => a - b);
        if (this.lo < floor) {
          let mass = 0;
          for (const k of below) {
            mass += this.bins.get(k)!;
            this.bins.delete(k);
          }
          this.bins.set(floor, (this.bins.get(floor) ?? 0) + mass);
        }
        this.floor = floor;
        if (key < floor) key = floor;
        this.lo = floor;
      } else {
        this.lo = lo;
      }
      this.hi = hi;
    }
    this.bins.set(key, (this.bins.get(key) ?? 0) + w);
  }

  /** Non-empty bins in ascending index order. */
  sorted(): [number, number][] {
    return [...this.bins.entries()].filter(([, c]) => c !== 0)
      .sort((a, b) => a[0] - b[0]);
  }

  total(): number {
    let t = 0;
    for (const [, c] of this.sorted()) t += c;
    return t;
  }
}

/** The reference DDSketch. */
export class RefDDSketch {
  readonly alpha: number;
  readonly maxBins: number;
  readonly mult: number;
  readonly rep: number;
  count = 0;
  sum = 0;
  #min = Infinity;
  #max = -Infinity;
  zeroCount = 0;
  readonly positive: RefStore;
  readonly negative: RefStore;

  constructor(alpha = DEFAULT_ALPHA, maxBins = DEFAULT_BINS) {
    if (!(alpha >= MIN_ALPHA && alpha <= MAX_ALPHA)) {
      throw new RangeError(`alpha ${alpha} outside [1e-6, 0.5]`);
    }
    if (!(maxBins >= MIN_BINS && maxBins <= MAX_BINS)) {
      throw new RangeError(`maxBins ${maxBins} outside [16, 65535]`);
    }
    this.alpha = alpha;
    this.maxBins = maxBins;
    this.mult = multiplierFor(alpha);
    this.rep = 1 + designAccuracy(alpha);
    this.positive = new RefStore(maxBins);
    this.negative = new RefStore(maxBins);
  }

  /** Smallest value added (NaN when empty). */
  get min(): number {
    return this.count === 0 ? NaN : this.#min;
  }
  /** Largest value added (NaN when empty). */
  get max(): number {
    return this.count === 0 ? NaN : this.#max;
  }

  /** Adds v with weight w; returns 0 (ignored) for NaN and ±Inf, else 1. */
  add(v: number, w = 1): number {
    if (!(w > 0 && w <= MAX_WHOLE)) throw new RangeError(`weight ${w}`);
    if (!Number.isFinite(v)) return 0;
    this.count += w;
    this.sum += v * w;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    const mag = Math.abs(v);
    if (mag < MIN_NORMAL) {
      this.zeroCount += w;
      return 1;
    }
    const index = indexOf(mag, this.mult);
    if (v < 0) this.negative.add(-index, w);
    else this.positive.add(index, w);
    return 1;
  }

  /**
   * Adds every value (weight 1); returns how many were accepted. Like the
   * engine's batch path, whole-number counts are added once at the end.
   */
  addMany(values: ArrayLike<number>): number {
    let accepted = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      accepted++;
      // Value by value, as add(v) would: a fractional count rounds alike.
      this.count += 1;
      this.sum += v;
      if (v < this.#min) this.#min = v;
      if (v > this.#max) this.#max = v;
      const mag = Math.abs(v);
      if (mag < MIN_NORMAL) {
        this.zeroCount += 1;
        continue;
      }
      const index = indexOf(mag, this.mult);
      if (v < 0) this.negative.add(-index, 1);
      else this.positive.add(index, 1);
    }
    return accepted;
  }

  /** Adds other into this (same alpha required; other may be this). */
  merge(other: RefDDSketch): void {
    if (other.alpha !== this.alpha) throw new RangeError("alpha differs");
    for (
      const [dst, src] of [[this.positive, other.positive], [
        this.negative,
        other.negative,
      ]]
    ) {
      const bins = src.sorted().reverse();
      for (const [k, c] of bins) dst.add(k, c);
    }
    const count = other.count, sum = other.sum, zero = other.zeroCount;
    const min = other.#min, max = other.#max;
    this.count += count;
    this.sum += sum;
    if (min < this.#min) this.#min = min;
    if (max > this.#max) this.#max = max;
    this.zeroCount += zero;
  }

  /** Lower quantile: the bin whose cumulative count first exceeds q (n - 1); NaN when empty or q outside [0, 1]. */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) return NaN;
    if (!(this.count > 0)) return NaN;
    const rank = q * (this.count - 1);
    const clamp = (x: number) =>
      x < this.#min ? this.#min : (x > this.#max ? this.#max : x);
    let cum = 0;
    for (const [k, c] of this.negative.sorted()) {
      cum += c;
      if (cum > rank) return clamp(-(lowerBound(-k, this.mult) * this.rep));
    }
    if (this.zeroCount !== 0) {
      cum += this.zeroCount;
      if (cum > rank) return clamp(0);
    }
    for (const [k, c] of this.positive.sorted()) {
      cum += c;
      if (cum > rank) return clamp(lowerBound(k, this.mult) * this.rep);
    }
    return this.#max;
  }

  /** Sets min and max (for the deserializer; no checks). */
  restoreExtremes(min: number, max: number): void {
    this.#min = min;
    this.#max = max;
  }

  /** The blob format of docs/format/ddsketch.md. */
  serialize(): Uint8Array {
    const out: number[] = [...MAGIC, FORMAT_VERSION, MAPPING_CUBIC];
    out.push(this.maxBins & 0xff, this.maxBins >>> 8);
    for (
      const x of [
        this.alpha,
        this.count,
        this.sum,
        this.#min,
        this.#max,
        this.zeroCount,
      ]
    ) pushF64(out, x);
    writeStore(out, this.positive);
    writeStore(out, this.negative);
    const crc = crc32(Uint8Array.from(out));
    out.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24);
    return Uint8Array.from(out);
  }

  /** Parses a blob; returns a sketch, or the engine's error code for the same input. */
  static deserialize(bytes: Uint8Array): RefDDSketch | number {
    return readBlob(bytes);
  }
}

function pushF64(out: number[], x: number): void {
  if (Number.isNaN(x)) {
    out.push(0, 0, 0, 0, 0, 0, 0xf8, 0x7f); // the one NaN the format writes
    return;
  }
  f64Cell[0] = x;
  for (const word of [u32Cell[0], u32Cell[1]]) {
    out.push(
      word & 0xff,
      (word >>> 8) & 0xff,
      (word >>> 16) & 0xff,
      word >>> 24,
    );
  }
}

function pushVarint(out: number[], x: number): void {
  while (x >= 0x80) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}

function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

function writeStore(out: number[], st: RefStore): void {
  const bins = st.sorted();
  if (bins.length === 0) {
    out.push(0);
    return;
  }
  const lo = bins[0][0];
  const hi = bins[bins.length - 1][0];
  const whole = bins.every(([, c]) => c === Math.floor(c) && c <= MAX_WHOLE);
  const flags = whole ? 0 : FLAG_F64;
  pushVarint(out, hi - lo + 1);
  out.push(flags);
  pushVarint(out, zigzag(lo));
  for (let k = lo; k <= hi; k++) {
    const c = st.bins.get(k) ?? 0;
    if (whole) pushVarint(out, c);
    else pushF64(out, c);
  }
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE, reflected; as zlib). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  }
  return (~crc) >>> 0;
}

class Reader {
  pos: number;
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array, pos: number, readonly end: number) {
    this.pos = pos;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** Minimal LEB128 of at most 8 bytes; a number, or an error code. */
  varint(): number | { err: number } {
    let x = 0;
    for (let shift = 0; shift < 56; shift += 7) {
      if (this.pos >= this.end) return { err: REF_ERR_TRUNCATED };
      const b = this.bytes[this.pos++];
      x += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (b === 0 && shift !== 0) return { err: REF_ERR_CORRUPT };
        return x;
      }
    }
    return { err: REF_ERR_CORRUPT };
  }

  f64(): number {
    const x = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }
}

function readStore(
  rd: Reader,
  st: RefStore,
  lo: number,
  hi: number,
): number | { total: number } {
  const nb = rd.varint();
  if (typeof nb !== "number") return nb.err;
  if (nb === 0) return { total: 0 };
  if (nb > st.maxBins) return REF_ERR_CORRUPT;
  if (rd.pos >= rd.end) return REF_ERR_TRUNCATED;
  const flags = rd.bytes[rd.pos++];
  if ((flags & ~FLAG_F64) !== 0) return REF_ERR_CORRUPT;
  const zz = rd.varint();
  if (typeof zz !== "number") return zz.err;
  if (zz > 0xffffffff) return REF_ERR_CORRUPT;
  const first = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
  if (first < lo || first + nb - 1 > hi) return REF_ERR_CORRUPT;
  const raw = (flags & FLAG_F64) !== 0;
  if (rd.end - rd.pos < (raw ? nb * 8 : nb)) return REF_ERR_TRUNCATED;
  let total = 0;
  const counts: number[] = [];
  for (let i = 0; i < nb; i++) {
    let c: number;
    if (raw) {
      c = rd.f64();
      if (!(c >= 0 && c < Infinity)) return REF_ERR_CORRUPT;
    } else {
      const x = rd.varint();
      if (typeof x !== "number") return x.err;
      if (x > MAX_WHOLE) return REF_ERR_CORRUPT;
      c = x;
    }
    counts.push(c);
    total += c;
  }
  if (counts[0] === 0 || counts[nb - 1] === 0) return REF_ERR_CORRUPT;
  counts.forEach((c, i) => {
    if (c !== 0) st.bins.set(first + i, c);
  });
  st.lo = first;
  st.hi = first + nb - 1;
  return { total };
}

function readBlob(bytes: Uint8Array): RefDDSketch | number {
  const len = bytes.length;
  if (len < 4) return REF_ERR_TRUNCATED;
  if (MAGIC.some((m, i) => bytes[i] !== m)) return REF_ERR_FORMAT;
  if (len < 6) return REF_ERR_TRUNCATED;
  if (bytes[4] !== FORMAT_VERSION || bytes[5] !== MAPPING_CUBIC) {
    return REF_ERR_FORMAT;
  }
  if (len < MIN_BLOB_BYTES) return REF_ERR_TRUNCATED;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  const maxBins = dv.getUint16(6, true);
  const [alpha, count, sum, min, max, zero] = [8, 16, 24, 32, 40, 48].map((
    o,
  ) => dv.getFloat64(o, true));
  if (maxBins < MIN_BINS || maxBins > MAX_BINS) return REF_ERR_CORRUPT;
  if (!(alpha >= MIN_ALPHA && alpha <= MAX_ALPHA)) return REF_ERR_CORRUPT;
  if (!(count >= 0 && count < Infinity)) return REF_ERR_CORRUPT;
  if (!(zero >= 0 && zero < Infinity)) return REF_ERR_CORRUPT;
  if (count === 0) {
    if (sum !== 0 || zero !== 0) return REF_ERR_CORRUPT;
    if (min !== Infinity || max !== -Infinity) return REF_ERR_CORRUPT;
  } else if (!(min <= max && min > -Infinity && max < Infinity)) {
    return REF_ERR_CORRUPT;
  }
  const sk = new RefDDSketch(alpha, maxBins);
  const [lo, hi] = indexRange(sk.mult);
  const rd = new Reader(bytes, HEADER_BYTES, len - 4);
  const pos = readStore(rd, sk.positive, lo, hi);
  if (typeof pos === "number") return pos;
  const neg = readStore(rd, sk.negative, -hi, -lo);
  if (typeof neg === "number") return neg;
  if (rd.pos !== rd.end) return REF_ERR_CORRUPT;
  if (crc32(bytes.subarray(0, len - 4)) !== dv.getUint32(len - 4, true)) {
    return REF_ERR_CORRUPT;
  }
  const total = zero + pos.total + neg.total;
  if (!(Math.abs(total - count) <= count * (1 / 1048576))) {
    return REF_ERR_CORRUPT;
  }
  if (pos.total > 0 && !(max > 0)) return REF_ERR_CORRUPT;
  if (neg.total > 0 && !(min < 0)) return REF_ERR_CORRUPT;
  if (zero > 0 && !(min < MIN_NORMAL && max > -MIN_NORMAL)) {
    return REF_ERR_CORRUPT;
  }
  sk.count = count;
  sk.sum = sum;
  sk.zeroCount = zero;
  sk.restoreExtremes(min, max);
  return sk;
}
