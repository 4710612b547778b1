/**
 * Bindings for the ddsketch kernel: a DDSketch quantile sketch with a
 * relative-error guarantee, living in engine memory.
 *
 * Guarantee: for a sketch with relative accuracy alpha, `quantile(q)` is
 * within alpha * |x| of x, the element of the sorted input at 0-based rank
 * floor(q * (count - 1)) (the "lower" quantile), whenever |x| >= 2^-1022 or
 * x == 0, and x's bin has not been collapsed (collapsing only happens once the
 * values of one sign span more than `maxBins` bins, about 1e35 in range at
 * alpha = 0.01 with the default 4096; it gives up accuracy at the low end).
 * NaN and ±Infinity are ignored (not counted). Format: docs/format/ddsketch.md.
 * @module
 */
import type { Engine, RawExports } from "./engine.ts";
import { check, EngineError, ERR_ARG, ERR_NOMEM } from "./errors.ts";

/** Default relative accuracy. */
export const DDSKETCH_DEFAULT_ALPHA = 0.01;
/** Default bin limit per store (positive and negative values each). */
export const DDSKETCH_DEFAULT_MAX_BINS = 4096;

/** Values copied into engine memory per `ddsk_add_many` call. */
const CHUNK_VALUES = 65536;

/** One reusable input buffer per engine for `addMany`. */
const scratchBuffers = new WeakMap<Engine, { ptr: number; values: number }>();

function scratchFor(engine: Engine, values: number): number {
  const s = scratchBuffers.get(engine);
  if (s && s.values >= values) return s.ptr;
  if (s) engine.free(s.ptr);
  const ptr = engine.alloc(values * 8);
  scratchBuffers.set(engine, { ptr, values });
  return ptr;
}

/** Runs an engine call that may allocate, turning a memory-growth trap into EngineError(ERR_NOMEM). */
function allocating<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      throw new EngineError(ERR_NOMEM, context);
    }
    throw e;
  }
}

/**
 * A DDSketch in engine memory. Create with `DDSketch.create` or
 * `DDSketch.deserialize`; release with `free()` (or `using`).
 *
 * @example
 * ```ts
 * import { loadEngine } from "./engine.ts";
 * import { DDSketch } from "./ddsketch.ts";
 * const engine = await loadEngine();
 * using sk = DDSketch.create(engine, 0.01);
 * sk.addMany(new Float64Array([1, 2, 3, 4, 100]));
 * sk.quantile(0.5); // ≈ 3 (within 1%)
 * ```
 */
export class DDSketch {
  /** The engine the sketch lives in. */
  readonly engine: Engine;
  readonly #raw: RawExports;
  #h: number;

  private constructor(engine: Engine, handle: number) {
    this.engine = engine;
    this.#raw = engine.raw;
    this.#h = handle;
  }

  /**
   * A new empty sketch. alpha: relative accuracy in [1e-6, 0.5]; maxBins:
   * bin limit per store in [16, 65535]. Throws EngineError(ERR_ARG) otherwise.
   */
  static create(
    engine: Engine,
    alpha: number = DDSKETCH_DEFAULT_ALPHA,
    maxBins: number = DDSKETCH_DEFAULT_MAX_BINS,
  ): DDSketch {
    const h = allocating(
      "ddsk_create",
      () => engine.raw.ddsk_create(alpha, maxBins | 0),
    );
    return new DDSketch(engine, check(h, "ddsk_create"));
  }

  /**
   * Rebuilds a sketch from `serialize()` output. Throws EngineError with
   * ERR_TRUNCATED, ERR_FORMAT or ERR_CORRUPT for anything that is not an
   * intact blob.
   */
  static deserialize(engine: Engine, bytes: Uint8Array): DDSketch {
    const ptr = engine.alloc(Math.max(bytes.length, 1));
    try {
      engine.u8.set(bytes, ptr);
      const h = allocating(
        "ddsk_deserialize",
        () => engine.raw.ddsk_deserialize(ptr, bytes.length),
      );
      return new DDSketch(engine, check(h, "ddsk_deserialize"));
    } finally {
      engine.free(ptr);
    }
  }

  /** The engine handle (address of the sketch record); 0 after `free()`. */
  get handle(): number {
    return this.#h;
  }

  /** Adds one value (NaN and ±Inf are ignored). */
  add(v: number): void {
    const r = this.#raw.ddsk_add(this.#h, v);
    if (r < 0) throw new EngineError(r, "ddsk_add");
  }

  /** Adds v with weight w in (0, 2^53] (NaN and ±Inf values are ignored). */
  addWeighted(v: number, w: number): void {
    check(this.#raw.ddsk_add_weighted(this.#h, v, w), "ddsk_add_weighted");
  }

  /** Adds every value (one engine call per 64Ki values); returns how many were accepted (not NaN/±Inf). */
  addMany(values: Float64Array | ArrayLike<number>): number {
    const data = values instanceof Float64Array
      ? values
      : Float64Array.from(values);
    if (this.#h === 0) throw new EngineError(ERR_ARG, "ddsk_add_many");
    const chunk = Math.min(data.length, CHUNK_VALUES);
    const ptr = scratchFor(this.engine, Math.max(chunk, 1));
    let accepted = 0;
    for (let i = 0; i < data.length; i += CHUNK_VALUES) {
      const part = data.subarray(i, i + CHUNK_VALUES);
      this.engine.f64.set(part, ptr >>> 3);
      accepted += check(
        allocating(
          "ddsk_add_many",
          () => this.#raw.ddsk_add_many(this.#h, ptr, part.length),
        ),
        "ddsk_add_many",
      );
    }
    return accepted;
  }

  /** Adds every value of `other` (same alpha, else EngineError(ERR_ARG)); `other` is unchanged. */
  merge(other: DDSketch): void {
    if (other.engine !== this.engine) {
      throw new EngineError(
        ERR_ARG,
        "ddsk_merge: sketches of different engines",
      );
    }
    const r = allocating(
      "ddsk_merge",
      () => this.#raw.ddsk_merge(this.#h, other.#h),
    );
    check(r, "ddsk_merge");
  }

  /**
   * The value at quantile q in [0, 1] (lower quantile, see the module doc);
   * NaN when the sketch is empty. Throws EngineError(ERR_ARG) for q outside [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new EngineError(ERR_ARG, `quantile(${q})`);
    this.#live("quantile");
    return this.#raw.ddsk_quantile(this.#h, q);
  }

  /** `quantile` for several q at once. */
  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /** Total weight of the values added. */
  get count(): number {
    this.#live("count");
    return this.#raw.ddsk_count(this.#h);
  }
  /** Weighted sum of the values added. */
  get sum(): number {
    this.#live("sum");
    return this.#raw.ddsk_sum(this.#h);
  }
  /** Smallest value added (exact); NaN when empty. */
  get min(): number {
    this.#live("min");
    return this.#raw.ddsk_min(this.#h);
  }
  /** Largest value added (exact); NaN when empty. */
  get max(): number {
    this.#live("max");
    return this.#raw.ddsk_max(this.#h);
  }
  /** Weight of the zero bucket (values with |v| < 2^-1022). */
  get zeroCount(): number {
    this.#live("zeroCount");
    return this.#raw.ddsk_zero_count(this.#h);
  }
  /** The relative accuracy the sketch was created with. */
  get alpha(): number {
    this.#live("alpha");
    return this.#raw.ddsk_alpha(this.#h);
  }
  /** The bin limit per store. */
  get maxBins(): number {
    return check(this.#raw.ddsk_max_bins(this.#h), "maxBins");
  }

  /** The sketch as a self-contained blob (docs/format/ddsketch.md). */
  serialize(): Uint8Array {
    const size = check(
      this.#raw.ddsk_serialized_size(this.#h),
      "ddsk_serialized_size",
    );
    const ptr = this.engine.alloc(size);
    try {
      check(this.#raw.ddsk_serialize(this.#h, ptr, size), "ddsk_serialize");
      return this.engine.u8.slice(ptr, ptr + size);
    } finally {
      this.engine.free(ptr);
    }
  }

  /** Releases the engine memory; later calls throw EngineError(ERR_ARG). Idempotent. */
  free(): void {
    if (this.#h !== 0) {
      this.#raw.ddsk_free(this.#h);
      this.#h = 0;
    }
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #live(context: string): void {
    if (this.#h === 0) {
      throw new EngineError(ERR_ARG, `${context}: sketch freed`);
    }
  }
}
