/**
 * A decoded remote-write request in columns: per series its label set (or
 * why it has none), its range of samples, its created timestamp and how
 * many native histograms and exemplars it carried; per sample a timestamp
 * and a value whose 8 bytes were copied from the request unchanged. Both
 * protocol versions decode into this; the whole request is decoded before
 * anything is appended. Batches are reused between requests (see `take`).
 * @module
 */
import type { Labels } from "../model/labels.ts";

/** Metadata of one metric family, as sent. */
export interface SentMetadata {
  family: string;
  /** MetricType number (same numbering in 1.0 and 2.0; 0 = unknown). */
  type: number;
  help: string;
  unit: string;
}

/** One request's series and samples, columnar. */
export class DecodedBatch {
  /** Series decoded. */
  series = 0;
  /** Per series: the label set, or null (see `errors`). */
  labels: (Labels | null)[] = [];
  /** Per series: why `labels` is null. */
  errors: string[] = [];
  /** Per series: first sample index; series s owns [first[s], first[s+1]). */
  first = new Int32Array(64);
  /** Per series: created timestamp in ms, 0 when none. */
  created = new Float64Array(64);
  /** Native histogram samples (refused). */
  histograms = 0;
  /** Exemplars (not stored). */
  exemplars = 0;
  /** Samples decoded. */
  samples = 0;
  /** Per sample: timestamp in ms; NaN when the sample had none. */
  ts = new Float64Array(256);
  /** Per sample: value, bit-exact. */
  values = new Float64Array(256);
  /** `values` as 32-bit words (how value bytes are written). */
  words = new Uint32Array(this.values.buffer);
  /** Metadata entries sent. */
  metadata: SentMetadata[] = [];

  /** Empties the batch, keeping its buffers. */
  reset(): void {
    this.series = 0;
    this.samples = 0;
    this.histograms = 0;
    this.exemplars = 0;
    this.first[0] = 0;
    if (this.metadata.length) this.metadata = [];
  }

  /** Samples of series `s`: [start, end). */
  start(s: number): number {
    return this.first[s];
  }
  end(s: number): number {
    return s + 1 < this.series ? this.first[s + 1] : this.samples;
  }

  /** Makes room for one more sample; returns its index. */
  nextSample(): number {
    const i = this.samples;
    if (i === this.ts.length) {
      const cap = i * 2;
      const ts = new Float64Array(cap);
      ts.set(this.ts);
      const values = new Float64Array(cap);
      // Words, not numbers: copying through numbers could quiet NaNs.
      const words = new Uint32Array(values.buffer);
      words.set(this.words);
      this.ts = ts;
      this.values = values;
      this.words = words;
    }
    return i;
  }

  /** Makes room for `n` samples in all (keeping those held). */
  reserveSamples(n: number): void {
    if (n <= this.ts.length) return;
    let cap = this.ts.length;
    while (cap < n) cap *= 2;
    const ts = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.samples));
    const values = new Float64Array(cap);
    const words = new Uint32Array(values.buffer);
    words.set(this.words.subarray(0, 2 * this.samples));
    this.ts = ts;
    this.values = values;
    this.words = words;
  }

  /** Records a series whose samples start at `first` (already decoded). */
  addSeries(
    labels: Labels | null,
    error: string,
    first: number,
    created: number,
  ): void {
    const s = this.series;
    if (s === this.first.length) {
      const f = new Int32Array(s * 2);
      f.set(this.first);
      this.first = f;
      const c = new Float64Array(s * 2);
      c.set(this.created);
      this.created = c;
    }
    this.labels[s] = labels;
    this.errors[s] = error;
    this.first[s] = first;
    this.created[s] = created;
    this.series = s + 1;
  }

  /** Sample slots held (for pooling decisions). */
  get capacity(): number {
    return this.ts.length;
  }
}

const pool: DecodedBatch[] = [];
const POOL_MAX = 8;
/** Batches that grew past this many samples are not kept. */
const POOL_MAX_SAMPLES = 1 << 20;

/** A batch from the pool (or a new one); give it back with `release`. */
export function takeBatch(): DecodedBatch {
  const b = pool.pop() ?? new DecodedBatch();
  b.reset();
  return b;
}

/** Returns a batch to the pool; its labels are dropped so they can be freed. */
export function releaseBatch(b: DecodedBatch): void {
  if (pool.length >= POOL_MAX || b.capacity > POOL_MAX_SAMPLES) return;
  if (b.labels.length > 4 * b.series + 1024) {
    b.labels = [];
    b.errors = [];
  }
  b.reset();
  pool.push(b);
}
