/**
 * Prometheus XOR chunks through the engine module: a decoder with reusable
 * output buffers, a one-sample appender, and whole-series encoding.
 *
 * Timestamps are int64 milliseconds. The fast paths carry them as f64 (exact
 * for |t| <= 2^53, about 285,000 years around 1970); the *Exact paths carry
 * BigInt64 values for the full int64 range.
 * @module
 */
import type { Engine } from "./engine.ts";
import { check, EngineError, ERR_CAPACITY, ERR_FULL } from "./errors.ts";

/** A chunk holds at most this many samples (its header is a uint16 count). */
export const XOR_MAX_SAMPLES = 0xffff;
/** Samples per chunk Prometheus aims for, and our default. */
export const XOR_SAMPLES_PER_CHUNK = 120;
/**
 * Byte layout of written chunks. Prometheus 2.x leaves an empty byte at the
 * end of about 1% of chunks (a bit-stream quirk fixed in 3.0); readers of
 * either version accept both. The default matches Prometheus 2.x, the
 * version our golden vectors come from.
 */
export interface XorEncodeOptions {
  /** Write Prometheus 2.x's trailing empty byte (default true). */
  legacyPadding?: boolean;
}

function flagsOf(options: XorEncodeOptions | undefined): number {
  return options?.legacyPadding === false ? 0 : 1;
}

/** Slack the engine needs after every input chunk (see docs/engine-abi.md). */
const READ_SLACK = 32;
/** Worst-case bytes of one appended sample plus the writer's reach. */
const SAMPLE_HEADROOM = 29;

/** A growable region of engine memory owned by one wrapper. */
class Region {
  ptr = 0;
  size = 0;
  constructor(private readonly engine: Engine) {}
  ensure(size: number): number {
    if (size > this.size) {
      this.engine.free(this.ptr);
      this.ptr = 0;
      const rounded = Math.max(64, 2 ** Math.ceil(Math.log2(size)));
      this.ptr = this.engine.alloc(rounded);
      this.size = rounded;
    }
    return this.ptr;
  }
  free(): void {
    this.engine.free(this.ptr);
    this.ptr = 0;
    this.size = 0;
  }
}

/**
 * Decodes chunks into output buffers owned by the decoder and reused by
 * every call: after `decode`, `timestamps` and `values` are views of the
 * samples (valid until the next call on this engine that may allocate).
 *
 * @example
 * ```ts
 * import { loadEngine, XorDecoder, encodeChunks } from "./mod.ts";
 * const engine = await loadEngine();
 * const [chunk] = encodeChunks(engine, new Float64Array([1000, 16000]), new Float64Array([1, 2]));
 * const dec = new XorDecoder(engine);
 * const n = dec.decode(chunk);
 * console.log(n, dec.timestamps[1], dec.values[1]); // 2 16000 2
 * dec.free();
 * ```
 */
export class XorDecoder {
  readonly #engine: Engine;
  readonly #input: Region;
  readonly #ts: Region;
  readonly #vals: Region;
  #count = 0;

  constructor(engine: Engine) {
    this.#engine = engine;
    this.#input = new Region(engine);
    this.#ts = new Region(engine);
    this.#vals = new Region(engine);
  }

  /** Samples decoded by the last call. */
  get count(): number {
    return this.#count;
  }

  /** Timestamps of the last decode (f64 ms). */
  get timestamps(): Float64Array {
    const p = this.#ts.ptr >> 3;
    return this.#engine.f64.subarray(p, p + this.#count);
  }

  /** Timestamps of the last `decodeExact` (int64 ms). */
  get exactTimestamps(): BigInt64Array {
    const p = this.#ts.ptr >> 3;
    return this.#engine.i64.subarray(p, p + this.#count);
  }

  /** Values of the last decode. */
  get values(): Float64Array {
    const p = this.#vals.ptr >> 3;
    return this.#engine.f64.subarray(p, p + this.#count);
  }

  /** Values of the last decode as raw float64 bits (every NaN payload kept). */
  get valueBits(): BigUint64Array {
    return new BigUint64Array(
      this.#engine.raw.memory.buffer,
      this.#vals.ptr,
      this.#count,
    );
  }

  /** Copies a chunk into engine memory (with read slack); returns its pointer. */
  #load(chunk: Uint8Array): number {
    const ptr = this.#input.ensure(chunk.length + READ_SLACK);
    this.#engine.u8.set(chunk, ptr);
    return ptr;
  }

  #prepare(chunk: Uint8Array): number {
    const n = chunk.length >= 2 ? (chunk[0] << 8) | chunk[1] : 0;
    this.#ts.ensure(n * 8);
    this.#vals.ensure(n * 8);
    return n;
  }

  /**
   * Copies `chunk` in, sizes the outputs from its header and runs one
   * decode kernel `(ptr, len, tsOut, valOut, cap) → count`.
   */
  #decodeWith(
    chunk: Uint8Array,
    kernel: (
      ptr: number,
      len: number,
      ts: number,
      vals: number,
      cap: number,
    ) => number,
  ): number {
    const cap = this.#prepare(chunk);
    const ptr = this.#load(chunk);
    this.#count = 0;
    this.#count = check(
      kernel(ptr, chunk.length, this.#ts.ptr, this.#vals.ptr, cap),
      "xor decode",
    );
    return this.#count;
  }

  /** Decodes a whole chunk with f64 timestamps; returns the sample count. */
  decode(chunk: Uint8Array): number {
    return this.#decodeWith(chunk, this.#engine.raw.xor_decode_f64t);
  }

  /** Decodes a whole chunk with int64 timestamps (see `exactTimestamps`). */
  decodeExact(chunk: Uint8Array): number {
    return this.#decodeWith(chunk, this.#engine.raw.xor_decode);
  }

  /**
   * Decodes only the samples with mint <= t <= maxt (both inclusive), as
   * remote read trims chunks at the edges of a query.
   */
  decodeRange(chunk: Uint8Array, mint: number, maxt: number): number {
    return this.#decodeWith(
      chunk,
      (ptr, len, ts, vals, cap) =>
        this.#engine.raw.xor_decode_range_f64t(
          ptr,
          len,
          mint,
          maxt,
          ts,
          vals,
          cap,
        ),
    );
  }

  /**
   * Decodes a chunk that already lies in engine memory at [ptr, ptr + len)
   * with READ_SLACK readable bytes after it (the storage path: no copy in).
   */
  decodeAt(ptr: number, len: number): number {
    const n = len >= 2
      ? (this.#engine.u8[ptr] << 8) | this.#engine.u8[ptr + 1]
      : 0;
    this.#ts.ensure(n * 8);
    this.#vals.ensure(n * 8);
    this.#count = 0;
    this.#count = check(
      this.#engine.raw.xor_decode_f64t(
        ptr,
        len,
        this.#ts.ptr,
        this.#vals.ptr,
        n,
      ),
      "xor decode",
    );
    return this.#count;
  }

  /** Index of the first sample at or after t (the count when there is none). */
  seek(chunk: Uint8Array, t: number): number {
    const ptr = this.#load(chunk);
    return check(
      this.#engine.raw.xor_seek_f64t(ptr, chunk.length, t),
      "xor seek",
    );
  }

  /** Releases the decoder's engine memory. */
  free(): void {
    this.#input.free();
    this.#ts.free();
    this.#vals.free();
    this.#count = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

/**
 * Encodes a series into chunks of at most `maxPerChunk` samples (default
 * 120), byte for byte as Prometheus would. Timestamps as f64 must be
 * integers; as BigInt64Array they may span the whole int64 range.
 */
export function encodeChunks(
  engine: Engine,
  timestamps: Float64Array | BigInt64Array,
  values: Float64Array,
  maxPerChunk: number = XOR_SAMPLES_PER_CHUNK,
  options?: XorEncodeOptions,
): Uint8Array[] {
  const n = values.length;
  if (timestamps.length !== n) {
    throw new RangeError("timestamps and values differ in length");
  }
  if (n === 0) return [];
  const chunks = Math.ceil(n / Math.max(1, maxPerChunk));
  const outCap = 32 * chunks + 19 * n + 16;
  const tsPtr = engine.alloc(n * 8);
  const valPtr = engine.alloc(n * 8);
  const out = engine.alloc(outCap);
  const index = engine.alloc(chunks * 8);
  const state = engine.alloc(engine.raw.XOR_STATE_SIZE.value);
  try {
    if (timestamps instanceof BigInt64Array) {
      engine.i64.set(timestamps, tsPtr >> 3);
    } else engine.f64.set(timestamps, tsPtr >> 3);
    engine.f64.set(values, valPtr >> 3);
    const encode = timestamps instanceof BigInt64Array
      ? engine.raw.xor_encode
      : engine.raw.xor_encode_f64t;
    const count = check(
      encode(
        tsPtr,
        valPtr,
        n,
        maxPerChunk,
        out,
        outCap,
        index,
        chunks,
        state,
        flagsOf(options),
      ),
      "xor encode",
    );
    const result: Uint8Array[] = [];
    const idx = engine.u32;
    const mem = engine.u8;
    for (let k = 0; k < count; k++) {
      const off = idx[(index >> 2) + 2 * k];
      const len = idx[(index >> 2) + 2 * k + 1];
      result.push(mem.slice(out + off, out + off + len));
    }
    return result;
  } finally {
    engine.free(tsPtr);
    engine.free(valPtr);
    engine.free(out);
    engine.free(index);
    engine.free(state);
  }
}

/**
 * Appends samples one at a time to an open chunk held in engine memory,
 * growing its buffer as needed.
 */
export class XorAppender {
  readonly #engine: Engine;
  readonly #state: number;
  #buf = 0;
  #cap = 0;
  #count = 0;

  private constructor(engine: Engine, cap: number) {
    this.#engine = engine;
    this.#state = engine.alloc(engine.raw.XOR_STATE_SIZE.value);
    this.#cap = Math.max(cap, 2 + SAMPLE_HEADROOM);
    this.#buf = engine.alloc(this.#cap);
  }

  /** An empty chunk; `capacity` is the initial buffer size in bytes. */
  static create(
    engine: Engine,
    capacity = 256,
    options?: XorEncodeOptions,
  ): XorAppender {
    const a = new XorAppender(engine, capacity);
    check(
      engine.raw.xor_app_init(a.#state, a.#buf, a.#cap, flagsOf(options)),
      "xor appender",
    );
    return a;
  }

  /** Reopens an existing chunk so that appending continues it. */
  static resume(
    engine: Engine,
    chunk: Uint8Array,
    options?: XorEncodeOptions,
  ): XorAppender {
    const a = new XorAppender(
      engine,
      chunk.length + READ_SLACK + SAMPLE_HEADROOM + 64,
    );
    try {
      engine.u8.set(chunk, a.#buf);
      a.#count = check(
        engine.raw.xor_app_resume(
          a.#state,
          a.#buf,
          chunk.length,
          a.#cap,
          flagsOf(options),
        ),
        "xor resume",
      );
    } catch (e) {
      a.free();
      throw e;
    }
    return a;
  }

  /** Samples in the chunk. */
  get count(): number {
    return this.#count;
  }

  /** Appends one sample (t: integral ms); throws EngineError(ERR_FULL) at 65535 samples. */
  append(t: number, v: number): void {
    let r = this.#engine.raw.xor_app_append_f64t(this.#state, t, v);
    if (r === ERR_FULL && this.#count < XOR_MAX_SAMPLES) {
      this.#grow();
      r = this.#engine.raw.xor_app_append_f64t(this.#state, t, v);
    }
    this.#count = check(r, "xor append");
  }

  /** Appends one sample with an int64 timestamp. */
  appendExact(t: bigint, v: number): void {
    let r = this.#engine.raw.xor_app_append(this.#state, t, v);
    if (r === ERR_FULL && this.#count < XOR_MAX_SAMPLES) {
      this.#grow();
      r = this.#engine.raw.xor_app_append(this.#state, t, v);
    }
    this.#count = check(r, "xor append");
  }

  #grow(): void {
    const cap = this.#cap * 2;
    const buf = this.#engine.alloc(cap);
    const r = this.#engine.raw.xor_app_move(this.#state, buf, cap);
    if (r < 0) {
      this.#engine.free(buf);
      throw new EngineError(r < 0 ? r : ERR_CAPACITY, "xor appender grow");
    }
    this.#engine.free(this.#buf);
    this.#buf = buf;
    this.#cap = cap;
  }

  /** Length of the chunk in bytes. */
  get length(): number {
    return this.#engine.raw.xor_app_len(this.#state);
  }

  /** A copy of the chunk's bytes. */
  bytes(): Uint8Array {
    return this.#engine.u8.slice(this.#buf, this.#buf + this.length);
  }

  /** Releases the appender's engine memory. */
  free(): void {
    this.#engine.free(this.#buf);
    this.#engine.free(this.#state);
    this.#buf = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
