/**
 * One series in the head: its labels, its open chunk (an XOR appender state
 * and buffer in engine memory), its closed chunks (exact-size copies in
 * engine memory, immutable until persisted to a block) and its
 * out-of-order samples.
 * @module
 */
import type { Labels } from "../../model/labels.ts";

/** A closed, immutable chunk in engine memory. */
export interface HeadChunk {
  /** First and last sample times (inclusive). */
  minTime: number;
  maxTime: number;
  /** Engine pointer; READ_SLACK readable bytes follow the chunk. */
  ptr: number;
  len: number;
}

/**
 * Out-of-order samples, kept sorted by time in parallel arrays (values as
 * float64 bits through the Float64Array, never as loose numbers).
 */
export class OutOfOrderSamples {
  ts = new Float64Array(8);
  values = new Float64Array(8);
  count = 0;

  /** Index of the first sample with time >= t. */
  lowerBound(t: number): number {
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts at `at` (from lowerBound), copying value bits from values[i]. */
  insert(at: number, t: number, values: Float64Array, i: number): void {
    if (this.count === this.ts.length) {
      const ts = new Float64Array(this.count * 2);
      const vs = new Float64Array(this.count * 2);
      ts.set(this.ts);
      vs.set(this.values);
      this.ts = ts;
      this.values = vs;
    }
    this.ts.copyWithin(at + 1, at, this.count);
    this.values.copyWithin(at + 1, at, this.count);
    this.ts[at] = t;
    this.values.set(values.subarray(i, i + 1), at);
    this.count++;
  }
}

/** A series of the head. */
export class HeadSeries {
  /** Closed chunks in time order. */
  readonly chunks: HeadChunk[] = [];
  /** Appender state (XOR_STATE_SIZE bytes) and its chunk buffer. */
  state = 0;
  buf = 0;
  cap = 0;
  ooo: OutOfOrderSamples | null = null;
  /** Other refs the WAL used for this label set (replay only). */
  aliases: number[] | null = null;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    /** labelsHash(labels). */
    readonly hash: number,
  ) {}
}
