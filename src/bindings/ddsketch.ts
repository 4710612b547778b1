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
/** Values add() buffers before one batch call into the engine. */
const PENDING_VALUES = 256;

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
  // Values given to add() wait here and enter the engine in one batch call:
  // a call into WASM per value would cost more than the insert itself.
  #pending: Float64Array | null = null;
  #npending = 0;

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

  /**
   * Adds one value (NaN and ±Inf are ignored). Values are buffered and enter
   * the engine in batches; every other method sees them.
   */
  add(v: number): void {
    if (this.#npending === PENDING_VALUES) this.#flush();
    else if (this.#h === 0) this.#live("add");
    (this.#pending ??= new Float64Array(PENDING_VALUES))[this.#npending++] = v;
  }

  /** Adds v with weight w in (0, 2^53] (NaN and ±Inf values are ignored). */
  addWeighted(v: number, w: number): void {
    this.#flush();
    check(this.#raw.ddsk_add_weighted(this.#h, v, w), "ddsk_add_weighted");
  }

  /** Moves the values buffered by add() into the engine. */
  #flush(): void {
    const n = this.#npending;
    if (n === 0) return;
    this.#npending = 0;
    this.addMany(this.#pending!.subarray(0, n));
  }

  /** Adds every value (one engine call per 64Ki values); returns how many were accepted (not NaN/±Inf). */
  addMany(values: Float64Array | ArrayLike<number>): number {
    const data = values instanceof Float64Array
      ? values
      : Float64Array.from(values);
    if (this.#h === 0) throw new EngineError(ERR_ARG, "ddsk_add_many");
    this.#flush();
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
    this.#flush();
    other.#flush();
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
    this.#flush();
    return this.#raw.ddsk_quantile(this.#h, q);
  }

  /** `quantile` for several q at once. */
  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /** Total weight of the values added. */
  get count(): number {
    this.#live("count");
    this.#flush();
    return this.#raw.ddsk_count(this.#h);
  }
  /** Weighted sum of the values added. */
  get sum(): number {
    this.#live("sum");
    this.#flush();
    return this.#raw.ddsk_sum(this.#h);
  }
  /** Smallest value added (exact); NaN when empty. */
  get min(): number {
    this.#live("min");
    this.#flush();
    return this.#raw.ddsk_min(this.#h);
  }
  /** Largest value added (exact); NaN when empty. */
  get max(): number {
    this.#live("max");
    this.#flush();
    return this.#raw.ddsk_max(this.#h);
  }
  /** Weight of the zero bucket (values with |v| < 2^-1022). */
  get zeroCount(): number {
    this.#live("zeroCount");
    this.#flush();
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
    this.#flush();
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
    this.#npending = 0;
    this.#pending = null;
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
