/**
 * Iterating samples stored in XOR chunks (head chunks in engine memory,
 * copies, or block chunks read on demand), merged with sorted out-of-order
 * samples, within [mint, maxt] (inclusive). Decoding copies samples out of
 * engine memory, so nothing breaks when engine memory grows meanwhile.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { encodeChunks } from "../bindings/xor.ts";
import type { SampleIterator } from "./interface.ts";

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
/** The stale marker's exact bits. */
const STALE_VALUE = new Float64Array(
  new Uint32Array([STALE_LO, STALE_HI]).buffer,
);

/** A chunk a series iterator will decode: in engine memory, or copied out. */
export interface ChunkSource {
  minTime: number;
  maxTime: number;
  /** Engine pointer and length, when `bytes` and `load` are null. */
  ptr: number;
  len: number;
  /** The chunk's bytes, when not in engine memory. */
  bytes: Uint8Array | null;
  /** Reads the bytes on first use (block chunks). */
  load?: () => Uint8Array;
  /** Gives the decoded samples directly (dense block records); values bit-exact. */
  samples?: () => { ts: Float64Array; values: Float64Array };
}

const NO_SAMPLES = new Float64Array(0);

/** Decodes chunks into copies owned by the iterator (engine views may detach). */
export class ChunkDecoder {
  #input = 0;
  #inputCap = 0;
  #out = 0;
  #outCap = 0;
  constructor(readonly engine: Engine) {}

  /** Decodes into ts/values (grown as needed); returns [ts, values, n]. */
  decode(
    src: ChunkSource,
    ts: Float64Array,
    values: Float64Array,
  ): [Float64Array, Float64Array, number] {
    if (src.samples) {
      const got = src.samples();
      return [got.ts, got.values, got.ts.length];
    }
    const e = this.engine;
    let ptr = src.ptr;
    let len = src.len;
    const bytes = src.bytes ?? src.load?.() ?? null;
    if (bytes) {
      len = bytes.length;
      if (len + 32 > this.#inputCap) {
        e.free(this.#input);
        this.#inputCap = Math.max(256, (len + 32) * 2);
        this.#input = e.alloc(this.#inputCap);
      }
      e.u8.set(bytes, this.#input);
      ptr = this.#input;
    }
    const n = (e.u8[ptr] << 8) | e.u8[ptr + 1];
    if (n * 16 > this.#outCap) {
      e.free(this.#out);
      this.#outCap = Math.max(n * 16, 120 * 16);
      this.#out = e.alloc(this.#outCap);
    }
    const got = e.raw.xor_decode_f64t(
      ptr,
      len,
      this.#out,
      this.#out + n * 8,
      n,
    );
    if (got < 0) throw new Error(`corrupt head chunk (engine error ${got})`);
    if (ts.length < got) {
      ts = new Float64Array(Math.max(got, 120));
      values = new Float64Array(Math.max(got, 120));
    }
    const f64 = e.f64;
    ts.set(f64.subarray(this.#out >> 3, (this.#out >> 3) + got));
    values.set(
      f64.subarray((this.#out + n * 8) >> 3, ((this.#out + n * 8) >> 3) + got),
    );
    return [ts, values, got];
  }

  /** Samples in an XOR chunk (its header), without decoding it. */
  count(src: ChunkSource): number {
    const bytes = src.bytes;
    if (bytes) return bytes.length < 2 ? 0 : (bytes[0] << 8) | bytes[1];
    const u8 = this.engine.u8;
    return (u8[src.ptr] << 8) | u8[src.ptr + 1];
  }

  /**
   * Decodes the XOR chunks `sources` (`total` samples by their headers)
   * into engine memory, then copies the samples with lo <= t <= hi out
   * once, into arrays from `alloc`.
   */
  decodeAll(
    sources: ChunkSource[],
    total: number,
    lo: number,
    hi: number,
    alloc: SampleAlloc,
  ): ReadSamples {
    const from = 0;
    const to = sources.length;
    const e = this.engine;
    let inputNeed = 0;
    for (let c = from; c < to; c++) {
      const b = sources[c].bytes;
      if (b && b.length + 32 > inputNeed) inputNeed = b.length + 32;
    }
    if (inputNeed > this.#inputCap) {
      e.free(this.#input);
      this.#inputCap = Math.max(256, inputNeed * 2);
      this.#input = e.alloc(this.#inputCap);
    }
    if (total * 16 > this.#outCap) {
      e.free(this.#out);
      this.#outCap = Math.max(total * 16 * 2, 120 * 16);
      this.#out = e.alloc(this.#outCap);
    }
    // The kernel may grow memory (its scratch): views are re-read per use.
    const raw = e.raw;
    const tsOut = this.#out;
    const valOut = this.#out + total * 8;
    let n = 0;
    for (let c = from; c < to; c++) {
      const src = sources[c];
      let ptr = src.ptr;
      let len = src.len;
      if (src.bytes) {
        len = src.bytes.length;
        e.u8.set(src.bytes, this.#input);
        ptr = this.#input;
      }
      const got = raw.xor_decode_f64t(
        ptr,
        len,
        tsOut + n * 8,
        valOut + n * 8,
        total - n,
      );
      if (got < 0) throw new Error(`corrupt head chunk (engine error ${got})`);
      n += got;
    }
    // Only the samples within [lo, hi] leave engine memory.
    const f64 = e.f64;
    const t0 = tsOut >> 3;
    const v0 = valOut >> 3;
    let a = 0;
    while (a < n && f64[t0 + a] < lo) a++;
    let b = n;
    while (b > a && f64[t0 + b - 1] > hi) b--;
    const out = alloc(b - a);
    out.ts.set(f64.subarray(t0 + a, t0 + b));
    out.vs.set(f64.subarray(v0 + a, v0 + b));
    return out;
  }

  free(): void {
    this.engine.free(this.#input);
    this.engine.free(this.#out);
    this.#input =
      this.#out =
      this.#inputCap =
      this.#outCap =
        0;
  }
}

/** Iterates a series' chunks and out-of-order samples merged, within [mint, maxt]. */
export class ChunkSeriesIterator implements SampleIterator {
  #chunk = -1;
  // Decode buffers are made on first use (the decoder grows them): bulk
  // reads never need them, and an iterator per series is made per query.
  #ts: Float64Array = NO_SAMPLES;
  #vals: Float64Array = NO_SAMPLES;
  /** Word views of #vals and of the out-of-order values: copying two u32s keeps bits exact without a subarray per sample. */
  #valWords = new Uint32Array(this.#vals.buffer);
  readonly #oooWords: Uint32Array;
  #n = 0;
  /** Next unconsumed chunk sample. */
  #i = 0;
  /** Next unconsumed out-of-order sample. */
  #oi = 0;
  /** The current value's bits (copied, never through a loose number). */
  readonly #cur = new Float64Array(1);
  readonly #curWords = new Uint32Array(this.#cur.buffer);
  #err: Error | null = null;
  #done = false;
  t = NaN;
  v = NaN;

  constructor(
    private readonly decoder: ChunkDecoder,
    private readonly chunks: ChunkSource[],
    private readonly oooTs: Float64Array,
    private readonly oooVals: Float64Array,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    while (this.#oi < oooTs.length && oooTs[this.#oi] < mint) this.#oi++;
    this.#oooWords = new Uint32Array(
      oooVals.buffer,
      oooVals.byteOffset,
      oooVals.length * 2,
    );
  }

  /** True when a chunk sample is available at #i (decoding the next chunk if needed). */
  #peekChunk(): boolean {
    while (this.#i >= this.#n) {
      if (this.#chunk + 1 >= this.chunks.length) return false;
      const c = this.chunks[++this.#chunk];
      this.#n = 0;
      this.#i = 0;
      if (c.maxTime < this.mint) continue;
      try {
        const vals = this.#vals;
        [this.#ts, this.#vals, this.#n] = this.decoder.decode(
          c,
          this.#ts,
          this.#vals,
        );
        if (this.#vals !== vals) {
          this.#valWords = new Uint32Array(this.#vals.buffer);
        }
      } catch (e) {
        this.#err = e as Error;
        return false;
      }
      while (this.#i < this.#n && this.#ts[this.#i] < this.mint) this.#i++;
    }
    return true;
  }

  next(): boolean {
    if (this.#done) return false;
    const haveChunk = this.#peekChunk();
    if (this.#err) return this.#finish();
    const haveOoo = this.#oi < this.oooTs.length;
    if (!haveChunk && !haveOoo) return this.#finish();
    const ct = haveChunk ? this.#ts[this.#i] : Infinity;
    const ot = haveOoo ? this.oooTs[this.#oi] : Infinity;
    const cur = this.#curWords;
    if (ot < ct) {
      this.t = ot;
      cur[0] = this.#oooWords[2 * this.#oi];
      cur[1] = this.#oooWords[2 * this.#oi + 1];
      this.#oi++;
    } else {
      this.t = ct;
      cur[0] = this.#valWords[2 * this.#i];
      cur[1] = this.#valWords[2 * this.#i + 1];
      this.#i++;
    }
    if (this.t > this.maxt) return this.#finish();
    this.v = this.#cur[0];
    return true;
  }

  #finish(): false {
    this.#done = true;
    return false;
  }

  seek(t: number): boolean {
    if (this.#done) return false;
    if (!Number.isNaN(this.t) && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }

  isStale(): boolean {
    return this.#curWords[1] === STALE_HI && this.#curWords[0] === STALE_LO;
  }

  /**
   * Bulk read: every sample with mint <= t <= maxt (within the iterator's
   * own range too), values bit-exact. Chunks in engine memory are decoded
   * straight into arrays sized from their headers. Only on a fresh
   * iterator; afterwards it is exhausted. Errors end the read and are
   * reported by `err()`.
   */
  readAll(
    mint: number,
    maxt: number,
    alloc: SampleAlloc = newSamples,
  ): ReadSamples {
    const lo = Math.max(mint, this.mint);
    const hi = Math.min(maxt, this.maxt);
    if (this.oooTs.length > 0 || this.#chunk !== -1) {
      // Out-of-order samples interleave: the per-sample merge.
      const got = readEach(this, lo, hi);
      this.#done = true;
      return got;
    }
    // The chunks in range, each either decoded already (dense block
    // records) or XOR bytes (in engine memory, copied, or loaded now).
    const encoded: ChunkSource[] = [];
    const decoded: { ts: Float64Array; values: Float64Array }[] = [];
    let total = 0;
    this.#chunk = this.chunks.length;
    this.#done = true;
    try {
      for (const src of this.chunks) {
        if (src.maxTime < lo) continue;
        if (src.minTime > hi) break;
        if (src.samples) {
          const got = src.samples();
          decoded.push(got);
          total += got.ts.length;
          continue;
        }
        const resolved = src.bytes === null && src.load
          ? { ...src, bytes: src.load() }
          : src;
        encoded.push(resolved);
        total += this.decoder.count(resolved);
      }
    } catch (e) {
      this.#err = e as Error;
      return newSamples(0);
    }
    if (encoded.length > 0 && decoded.length > 0) {
      // Both kinds in one series (not produced by the queriers): the cursor.
      this.#chunk = -1;
      this.#done = false;
      const got = readEach(this, lo, hi);
      this.#done = true;
      return got;
    }
    if (encoded.length > 0) {
      try {
        return this.decoder.decodeAll(encoded, total, lo, hi, alloc);
      } catch (e) {
        this.#err = e as Error;
        return newSamples(0);
      }
    }
    // Decoded already: trim, then copy.
    let n = 0;
    for (const d of decoded) {
      const ts = d.ts;
      let a = 0;
      while (a < ts.length && ts[a] < lo) a++;
      let b = ts.length;
      while (b > a && ts[b - 1] > hi) b--;
      n += b - a;
    }
    const out = alloc(n);
    n = 0;
    for (const d of decoded) {
      const ts = d.ts;
      let a = 0;
      while (a < ts.length && ts[a] < lo) a++;
      let b = ts.length;
      while (b > a && ts[b - 1] > hi) b--;
      out.ts.set(ts.subarray(a, b), n);
      out.vs.set(d.values.subarray(a, b), n);
      n += b - a;
    }
    return out;
  }

  /** Copies the current value's exact bits into dst[at]. */
  valueInto(dst: Float64Array, at: number): void {
    dst.set(this.#cur, at);
  }

  err(): Error | null {
    return this.#err;
  }
}

/** Samples read in bulk: parallel arrays (possibly views), values bit-exact. */
export interface ReadSamples {
  ts: Float64Array;
  vs: Float64Array;
}

/** Gives arrays for n samples (a bulk reader may take them from a larger slab). */
export type SampleAlloc = (n: number) => ReadSamples;

/** Fresh arrays of n samples. */
export const newSamples: SampleAlloc = (n) => ({
  ts: new Float64Array(n),
  vs: new Float64Array(n),
});

/**
 * The samples of a fresh iterator with mint <= t <= maxt: in bulk when the
 * iterator offers `readAll` (arrays from `alloc`), else sample by sample.
 * Errors are left for the iterator's `err()`.
 */
export function readSamples(
  it: SampleIterator,
  mint: number,
  maxt: number,
  alloc: SampleAlloc = newSamples,
): ReadSamples {
  const bulk = it as Partial<
    { readAll(lo: number, hi: number, alloc: SampleAlloc): ReadSamples }
  >;
  if (bulk.readAll) return bulk.readAll(mint, maxt, alloc);
  return readEach(it, mint, maxt);
}

/** Drains an iterator sample by sample, keeping value bits (and stale markers) exact. */
function readEach(it: SampleIterator, mint: number, maxt: number): ReadSamples {
  const exact = it as Partial<{ valueInto(d: Float64Array, i: number): void }>;
  let ts = new Float64Array(256);
  let vs = new Float64Array(256);
  let n = 0;
  let ok = it.seek(mint);
  while (ok && it.t <= maxt) {
    if (n === ts.length) {
      const t2 = new Float64Array(n * 2);
      const v2 = new Float64Array(n * 2);
      t2.set(ts);
      v2.set(vs);
      ts = t2;
      vs = v2;
    }
    ts[n] = it.t;
    if (it.isStale()) vs.set(STALE_VALUE, n);
    else if (exact.valueInto) exact.valueInto(vs, n);
    else vs[n] = it.v;
    n++;
    ok = it.next();
  }
  return { ts: ts.subarray(0, n), vs: vs.subarray(0, n) };
}

/** How many of vs are Prometheus stale markers; with `stale`, flags them there (1, else 0). */
export function markStale(vs: Float64Array, stale?: Uint8Array): number {
  const words = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  let count = 0;
  for (let i = 0; i < vs.length; i++) {
    const is = words[2 * i + 1] === STALE_HI && words[2 * i] === STALE_LO;
    if (stale) stale[i] = is ? 1 : 0;
    if (is) count++;
  }
  return count;
}

/** Samples gathered from an iterator: times and exact value bits. */
export interface CollectedSamples {
  ts: Float64Array;
  values: Float64Array;
  n: number;
  /** Samples `keep` turned away. */
  dropped: number;
}

/**
 * Drains an iterator into growable arrays, copying each value's exact bits;
 * `keep(t)` may turn samples away. Throws the iterator's error.
 */
export function collectSamples(
  it: ChunkSeriesIterator,
  keep: (t: number) => boolean = () => true,
): CollectedSamples {
  let ts = new Float64Array(256);
  let values = new Float64Array(256);
  let n = 0;
  let dropped = 0;
  while (it.next()) {
    if (!keep(it.t)) {
      dropped++;
      continue;
    }
    if (n === ts.length) {
      const t2 = new Float64Array(n * 2);
      const v2 = new Float64Array(n * 2);
      t2.set(ts);
      v2.set(values);
      ts = t2;
      values = v2;
    }
    ts[n] = it.t;
    it.valueInto(values, n);
    n++;
  }
  const err = it.err();
  if (err) throw err;
  return { ts, values, n, dropped };
}

/** Encodes collected samples into XOR chunks with their time bounds. */
export function toChunks(
  engine: Engine,
  got: CollectedSamples,
): { minTime: number; maxTime: number; data: Uint8Array }[] {
  const ts = got.ts.subarray(0, got.n);
  let at = 0;
  return encodeChunks(engine, ts, got.values.subarray(0, got.n)).map((data) => {
    const count = (data[0] << 8) | data[1];
    const chunk = { minTime: ts[at], maxTime: ts[at + count - 1], data };
    at += count;
    return chunk;
  });
}
