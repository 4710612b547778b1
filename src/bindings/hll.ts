/**
 * Bindings for the hll kernel: HyperLogLog distinct counting (the "set"
 * metric type). A sketch lives in engine memory and must be released with
 * `free()` (or `using`).
 *
 * Values are hashed with XXH64 (seed 0): strings as their UTF-8 bytes (lone
 * surrogates encode as U+FFFD), byte arrays as themselves, numbers as their
 * 8 IEEE-754 bytes with -0 counted as 0 and every NaN as one NaN.
 * @module
 */
import type { Engine } from "./engine.ts";
import { check, EngineError, ERR_ARG, ERR_NOMEM } from "./errors.ts";

/** Default precision: 2^14 registers (16 KiB), standard error about 0.81%. */
export const HLL_DEFAULT_PRECISION = 14;
/** Smallest accepted precision. */
export const HLL_MIN_PRECISION = 4;
/** Largest accepted precision. */
export const HLL_MAX_PRECISION = 18;

// Strings go to the engine in batches of at most this many, or this many
// worst-case UTF-8 bytes (3 per UTF-16 code unit), whichever comes first.
const BATCH_VALUES = 16384;
const BATCH_BYTES = 1 << 20;
// Numbers and hashes are copied in batches of this many.
const BATCH_WORDS = 65536;

/** One scratch region per engine, reused by every sketch for its input batches. */
const scratchRegions = new WeakMap<Engine, { ptr: number; size: number }>();

function scratch(engine: Engine, size: number): number {
  let region = scratchRegions.get(engine);
  if (region && region.size >= size) return region.ptr;
  if (region) engine.free(region.ptr);
  const grown = Math.max(size, 2 * (region?.size ?? 0), 4096);
  region = { ptr: engine.alloc(grown), size: grown };
  scratchRegions.set(engine, region);
  return region.ptr;
}

const encoder = new TextEncoder();

/**
 * Writes the UTF-8 form of `s` at `u8[at..]` (room for s.length * 3 bytes)
 * and returns its length. ASCII is copied by a plain loop, which for short
 * strings is several times faster than a subarray plus encodeInto per
 * string; from the first non-ASCII character on, TextEncoder does the rest.
 */
function encodeUtf8(s: string, u8: Uint8Array, at: number): number {
  const length = s.length;
  let i = 0;
  for (; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    u8[at + i] = c;
  }
  if (i === length) return length;
  const rest = at + i;
  return i + encoder.encodeInto(
    s.substring(i),
    u8.subarray(rest, rest + (length - i) * 3),
  ).written;
}

// Calls that allocate trap when memory cannot grow: report ERR_NOMEM.
function allocating(call: () => number, context: string): number {
  try {
    return check(call(), context);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      throw new EngineError(ERR_NOMEM, context);
    }
    throw e;
  }
}

/**
 * A HyperLogLog sketch in engine memory.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./engine.ts";
 * import { HyperLogLog } from "./hll.ts";
 * const engine = await loadEngine();
 * using users = HyperLogLog.create(engine);
 * users.addStrings(["ann", "bob", "ann"]);
 * users.estimate(); // ≈ 2
 * ```
 */
export class HyperLogLog {
  /** The engine the sketch lives in. */
  readonly engine: Engine;
  /** Precision p: the sketch has 2^p registers. */
  readonly precision: number;
  #handle: number;

  private constructor(engine: Engine, handle: number, precision: number) {
    this.engine = engine;
    this.#handle = handle;
    this.precision = precision;
  }

  /** A new empty sketch with 2^precision registers (4..18, default 14). */
  static create(
    engine: Engine,
    precision: number = HLL_DEFAULT_PRECISION,
  ): HyperLogLog {
    if (!Number.isInteger(precision)) {
      throw new EngineError(ERR_ARG, `HyperLogLog.create(${precision})`);
    }
    const handle = allocating(
      () => engine.raw.hll_create(precision),
      `HyperLogLog.create(${precision})`,
    );
    return new HyperLogLog(engine, handle, precision);
  }

  /** Decodes a sketch written by `serialize`; throws EngineError for any invalid blob. */
  static deserialize(engine: Engine, bytes: Uint8Array): HyperLogLog {
    const ptr = scratch(engine, bytes.length);
    engine.u8.set(bytes, ptr);
    const handle = allocating(
      () => engine.raw.hll_deserialize(ptr, bytes.length),
      "HyperLogLog.deserialize",
    );
    const precision = engine.raw.hll_precision(handle);
    return new HyperLogLog(engine, handle, precision);
  }

  /** The engine handle; throws once the sketch is freed. */
  get handle(): number {
    if (this.#handle === 0) {
      throw new EngineError(ERR_ARG, "HyperLogLog used after free()");
    }
    return this.#handle;
  }

  /** Adds one value: a string (UTF-8), a byte string, or a number. */
  add(value: string | Uint8Array | number): void {
    const h = this.handle;
    const engine = this.engine;
    if (typeof value === "number") {
      const ptr = scratch(engine, 8);
      engine.f64[ptr >>> 3] = value;
      check(engine.raw.hll_add_f64(h, ptr, 1), "HyperLogLog.add");
      return;
    }
    let len: number;
    let ptr: number;
    if (typeof value === "string") {
      ptr = scratch(engine, value.length * 3);
      len = encodeUtf8(value, engine.u8, ptr);
    } else {
      ptr = scratch(engine, value.length);
      engine.u8.set(value, ptr);
      len = value.length;
    }
    check(engine.raw.hll_add_bytes(h, ptr, len), "HyperLogLog.add");
  }

  /**
   * Adds many strings, UTF-8 encoded straight into a reused engine scratch
   * region with TextEncoder.encodeInto (one call per batch when the batch is
   * ASCII, else one per string), one engine call per batch of up to 16384
   * strings or 1 MiB.
   */
  addStrings(values: readonly string[]): void {
    const h = this.handle;
    const engine = this.engine;
    let first = 0;
    while (first < values.length) {
      let last = first;
      let bytes = 0;
      while (
        last < values.length && last - first < BATCH_VALUES &&
        (last === first || bytes + values[last].length * 3 <= BATCH_BYTES)
      ) {
        bytes += values[last].length * 3;
        last++;
      }
      const count = last - first;
      const offsetsSize = ((count + 1) * 4 + 15) & ~15;
      const base = scratch(engine, offsetsSize + bytes);
      const dataPtr = base + offsetsSize;
      const u8 = engine.u8;
      const u32 = engine.u32;
      const slot = base >>> 2;
      // One encodeInto for the whole batch; when it is all ASCII (as many
      // bytes as UTF-16 units) the offsets follow from the string lengths.
      const joined = values.slice(first, last).join("");
      const written = encoder.encodeInto(
        joined,
        u8.subarray(dataPtr, dataPtr + bytes),
      ).written;
      let at = 0;
      if (written === joined.length) {
        for (let k = 0; k < count; k++) {
          u32[slot + k] = at;
          at += values[first + k].length;
        }
      } else {
        for (let k = 0; k < count; k++) {
          u32[slot + k] = at;
          at += encodeUtf8(values[first + k], u8, dataPtr + at);
        }
      }
      u32[slot + count] = at;
      check(
        engine.raw.hll_add_many(h, dataPtr, base, count),
        "HyperLogLog.addStrings",
      );
      first = last;
    }
  }

  /** Adds many numbers (-0 counts as 0, all NaNs as one value). */
  addNumbers(values: Float64Array | readonly number[]): void {
    const h = this.handle;
    const engine = this.engine;
    const source = values instanceof Float64Array
      ? values
      : Float64Array.from(values);
    for (let first = 0; first < source.length; first += BATCH_WORDS) {
      const chunk = source.subarray(first, first + BATCH_WORDS);
      const ptr = scratch(engine, chunk.length * 8);
      engine.f64.set(chunk, ptr >>> 3);
      check(
        engine.raw.hll_add_f64(h, ptr, chunk.length),
        "HyperLogLog.addNumbers",
      );
    }
  }

  /** Adds precomputed 64-bit hashes (they must be well mixed: the top bits pick the register). */
  addHashes(hashes: BigUint64Array | BigInt64Array): void {
    const h = this.handle;
    const engine = this.engine;
    for (let first = 0; first < hashes.length; first += BATCH_WORDS) {
      const chunk = hashes.subarray(first, first + BATCH_WORDS);
      const ptr = scratch(engine, chunk.length * 8);
      engine.i64.set(
        chunk instanceof BigInt64Array
          ? chunk
          : new BigInt64Array(chunk.buffer, chunk.byteOffset, chunk.length),
        ptr >>> 3,
      );
      check(
        engine.raw.hll_add_hashes(h, ptr, chunk.length),
        "HyperLogLog.addHashes",
      );
    }
  }

  /**
   * Adds every value of `other` into this sketch. `other` must have the same
   * or a higher precision (it is folded down); a lower one throws ERR_ARG.
   */
  merge(other: HyperLogLog): void {
    if (other.engine !== this.engine) {
      throw new EngineError(ERR_ARG, "HyperLogLog.merge across engines");
    }
    check(
      this.engine.raw.hll_merge(this.handle, other.handle),
      "HyperLogLog.merge",
    );
  }

  /** Estimated number of distinct values added. */
  estimate(): number {
    return check(
      this.engine.raw.hll_estimate(this.handle),
      "HyperLogLog.estimate",
    );
  }

  /** Forgets every value. */
  clear(): void {
    check(this.engine.raw.hll_clear(this.handle), "HyperLogLog.clear");
  }

  /** A copy of the 2^precision registers. */
  registers(): Uint8Array {
    const ptr = check(
      this.engine.raw.hll_registers(this.handle),
      "HyperLogLog.registers",
    );
    return this.engine.u8.slice(ptr, ptr + (1 << this.precision));
  }

  /** The compact byte form of docs/format/hll.md. */
  serialize(): Uint8Array {
    const h = this.handle;
    const engine = this.engine;
    const size = check(
      engine.raw.hll_serialized_size(h),
      "HyperLogLog.serialize",
    );
    const ptr = scratch(engine, size);
    const written = check(
      engine.raw.hll_serialize(h, ptr, size),
      "HyperLogLog.serialize",
    );
    return engine.u8.slice(ptr, ptr + written);
  }

  /** Releases the engine memory; the sketch is unusable afterwards. Idempotent. */
  free(): void {
    if (this.#handle === 0) return;
    check(this.engine.raw.hll_free(this.#handle), "HyperLogLog.free");
    this.#handle = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
