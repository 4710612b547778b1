/**
 * Bindings for the agg kernel: bucket aggregation of one series over a time
 * grid [start, end) cut into `step`-ms buckets, yielding per bucket count,
 * sum, min, max, first, last and the counter increase (with resets).
 * Semantics: docs/format/agg.md.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./engine.ts";
 * import { aggregateBuckets } from "./agg.ts";
 * const engine = await loadEngine();
 * const r = aggregateBuckets(
 *   engine,
 *   new Float64Array([0, 10_000, 20_000]),
 *   new Float64Array([1, 5, 2]),
 *   0,
 *   30_000,
 *   15_000,
 * );
 * r.increase; // Float64Array [4, 2]: 5-1 in bucket 0, reset to 2 in bucket 1
 * ```
 * @module
 */
import type { Engine } from "./engine.ts";
import { check, EngineError, ERR_ARG, ERR_CAPACITY } from "./errors.ts";

/** Per-bucket results of one aggregation, one array per field. */
export interface BucketAggregates {
  /** Start of bucket 0 (ms). */
  readonly start: number;
  /** Exclusive end of the range (ms). */
  readonly end: number;
  /** Bucket width (ms); bucket i is [start + i*step, start + (i+1)*step). */
  readonly step: number;
  /** Number of buckets: ceil((end - start) / step). */
  readonly length: number;
  /** Samples in the bucket (stale markers excluded). */
  readonly count: Float64Array;
  /** Sum of the values (0 when empty). */
  readonly sum: Float64Array;
  /** Smallest value, NaNs ignored unless all are NaN (NaN when empty). */
  readonly min: Float64Array;
  /** Largest value, NaNs ignored unless all are NaN (NaN when empty). */
  readonly max: Float64Array;
  /** Value of the earliest sample (NaN when empty). */
  readonly first: Float64Array;
  /** Value of the latest sample (NaN when empty). */
  readonly last: Float64Array;
  /** Counter increase with resets, attributed to the bucket of the later sample. */
  readonly increase: Float64Array;
}

/** The names of the seven output fields, in their ABI order. */
export const BUCKET_FIELDS = [
  "count",
  "sum",
  "min",
  "max",
  "first",
  "last",
  "increase",
] as const;

/** Fields per bucket in the engine's output, in ABI order. */
const FIELD_COUNT = BUCKET_FIELDS.length;
/** Largest allocation the engine accepts (assembly/common/memory.ts MAX_ALLOC). */
const MAX_ALLOC = 2 ** 30;
/** Samples copied into engine memory per agg_feed call. */
const FEED_CHUNK = 16384;

/**
 * Number of buckets of the grid: ceil((end - start) / step). Throws
 * EngineError(ERR_ARG) unless start, end, step are safe integers with
 * step >= 1, end >= start and end - start <= 2^53 - 1.
 */
export function bucketCount(
  engine: Engine,
  start: number,
  end: number,
  step: number,
): number {
  return check(
    engine.raw.agg_bucket_count(start, end, step),
    `agg grid (${start}, ${end}, ${step})`,
  );
}

/**
 * A streaming aggregation owning its engine memory (state, output, and a
 * staging buffer for samples): feed the samples of a series run by run, in
 * timestamp order (e.g. one decoded chunk after another), then read result().
 * Feeding in pieces gives exactly the result of one call over all samples.
 * Call free() (or use `using`) when done.
 */
export class BucketAggregator {
  readonly engine: Engine;
  /** Start of bucket 0 (ms). */
  readonly start: number;
  /** Exclusive end of the range (ms). */
  readonly end: number;
  /** Bucket width (ms). */
  readonly step: number;
  /** Number of buckets. */
  readonly length: number;
  #state = 0; // state struct, followed by the output arrays
  #out = 0;
  #stage = 0; // staging buffer: timestamps then values
  #stageCap = 0; // samples the staging buffer holds
  #failed = false;

  private constructor(
    engine: Engine,
    start: number,
    end: number,
    step: number,
    length: number,
  ) {
    this.engine = engine;
    this.start = start;
    this.end = end;
    this.step = step;
    this.length = length;
  }

  /**
   * Starts an aggregation over [start, end) in buckets of `step` ms. Throws
   * EngineError: ERR_ARG for a bad grid, ERR_CAPACITY when the buckets'
   * output would exceed the engine's largest allocation.
   */
  static create(
    engine: Engine,
    start: number,
    end: number,
    step: number,
  ): BucketAggregator {
    const n = bucketCount(engine, start, end, step);
    const stateSize = engine.raw.agg_state_size() as number;
    const outOffset = (stateSize + 15) & ~15;
    if (n > (MAX_ALLOC - outOffset) / (FIELD_COUNT * 8)) {
      throw new EngineError(ERR_CAPACITY, `agg grid of ${n} buckets`);
    }
    const self = new BucketAggregator(engine, start, end, step, n);
    const ptr = engine.alloc(outOffset + n * FIELD_COUNT * 8);
    self.#state = ptr;
    self.#out = ptr + outOffset;
    const r = engine.raw.agg_init(ptr, start, end, step, self.#out, n);
    if (r < 0) self.free();
    check(r, "agg_init");
    return self;
  }

  /**
   * Adds samples: ts[i] (ms) with values[i], sorted by timestamp and not
   * before the timestamps fed earlier (equal is fine). Throws
   * EngineError(ERR_ARG) on unsorted/NaN timestamps or a length mismatch;
   * after an ordering error the aggregator is unusable.
   */
  feed(ts: Float64Array, values: Float64Array): void {
    if (this.#state === 0) {
      throw new Error("BucketAggregator used after free()");
    }
    if (this.#failed) {
      throw new EngineError(ERR_ARG, "agg_feed after a failed feed");
    }
    if (ts.length !== values.length) {
      throw new EngineError(
        ERR_ARG,
        `agg_feed: ${ts.length} timestamps but ${values.length} values`,
      );
    }
    if (ts.length === 0) return;
    this.#ensureStage(Math.min(ts.length, FEED_CHUNK));
    const tsPtr = this.#stage;
    const valPtr = this.#stage + this.#stageCap * 8;
    for (let at = 0; at < ts.length; at += this.#stageCap) {
      const k = Math.min(this.#stageCap, ts.length - at);
      const f64 = this.engine.f64;
      // Same-type TypedArray copies keep every bit (stale-marker NaNs too).
      f64.set(ts.subarray(at, at + k), tsPtr >>> 3);
      f64.set(values.subarray(at, at + k), valPtr >>> 3);
      const r = this.engine.raw.agg_feed(this.#state, tsPtr, valPtr, k);
      if (r < 0) this.#failed = true;
      check(r, `agg_feed (samples ${at}..${at + k})`);
    }
  }

  /** The buckets of everything fed so far, copied out of engine memory. */
  result(): BucketAggregates {
    if (this.#state === 0) {
      throw new Error("BucketAggregator used after free()");
    }
    const f64 = this.engine.f64;
    const n = this.length;
    const field = (k: number) => {
      const at = (this.#out >>> 3) + k * n;
      return f64.slice(at, at + n);
    };
    return {
      start: this.start,
      end: this.end,
      step: this.step,
      length: n,
      count: field(0),
      sum: field(1),
      min: field(2),
      max: field(3),
      first: field(4),
      last: field(5),
      increase: field(6),
    };
  }

  /** Releases the engine memory; the aggregator cannot be used afterwards. */
  free(): void {
    this.engine.free(this.#stage);
    this.engine.free(this.#state);
    this.#stage = 0;
    this.#state = 0;
    this.#stageCap = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #ensureStage(samples: number): void {
    if (this.#stageCap >= samples) return;
    this.engine.free(this.#stage);
    this.#stage = 0;
    this.#stageCap = 0;
    this.#stage = this.engine.alloc(samples * 16);
    this.#stageCap = samples;
  }
}

/**
 * Aggregates one series (ts sorted ascending, ms; values as f64) into the
 * buckets of [start, end) by `step` ms, in one call. Throws EngineError as
 * BucketAggregator.create and feed do.
 */
export function aggregateBuckets(
  engine: Engine,
  ts: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
  step: number,
): BucketAggregates {
  const agg = BucketAggregator.create(engine, start, end, step);
  try {
    agg.feed(ts, values);
    return agg.result();
  } finally {
    agg.free();
  }
}
