/**
 * The write transaction of one tenant: samples are queued, then `commit`
 * resolves series, lets the head decide each sample's fate, logs the
 * accepted ones (and new series) to the WAL, and resolves once the WAL
 * write is done: the acknowledgement point.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import type { HeadSeries } from "./head/series.ts";
import type { SampleBatch, SampleFate, TenantHead } from "./head/head.ts";
import type { Appender, AppendResult, RejectReason } from "./interface.ts";
import { MAX_TIME, MIN_TIME } from "./interface.ts";

/** Where committed samples are made durable (the WAL). */
export interface CommitLog {
  logSeries(tenant: string, ref: number, labels: Labels): void;
  logSamples(
    tenant: string,
    refs: Uint32Array,
    ts: Float64Array,
    values: Float64Array,
    n: number,
  ): void;
  /** Writes what was logged; resolves when it is durable against kill -9. */
  commit(): Promise<void>;
}

export class HeadAppender implements Appender {
  #labels: Labels[] = [];
  #ts: number[] = [];
  #values = new Float64Array(64);
  #words = new Uint32Array(this.#values.buffer);
  #lastBuf: ArrayBufferLike | null = null;
  #lastWords: Uint32Array | null = null;
  #n = 0;
  // Runs of samples per label set: [labelsIndex, count].
  #runs: number[] = [];

  constructor(
    private readonly tenant: string,
    private readonly head: TenantHead,
    private readonly log: CommitLog,
  ) {}

  append(labels: Labels, t: number, v: number): void {
    this.#one[0] = v;
    this.appendSeries(labels, [t], this.#one);
  }

  readonly #one = new Float64Array(1);

  appendFrom(
    labels: Labels,
    t: number,
    values: Float64Array,
    index: number,
  ): void {
    if (index < 0 || index >= values.length) {
      throw new RangeError(`index ${index} outside the values`);
    }
    if (this.#n + 1 > this.#values.length) this.#grow(this.#n + 1);
    this.#ts.push(t);
    if (values.buffer !== this.#lastBuf) {
      this.#lastBuf = values.buffer;
      this.#lastWords = new Uint32Array(
        values.buffer,
        0,
        values.buffer.byteLength >> 2,
      );
    }
    const o = (values.byteOffset >> 2) + 2 * index;
    this.#words[2 * this.#n] = this.#lastWords![o];
    this.#words[2 * this.#n + 1] = this.#lastWords![o + 1];
    this.#n++;
    const runs = this.#runs;
    // Consecutive samples of the same label set extend one run.
    if (
      runs.length > 0 && this.#labels[runs[runs.length - 2]] === labels
    ) {
      runs[runs.length - 1]++;
    } else {
      this.#labels.push(labels);
      runs.push(this.#labels.length - 1, 1);
    }
  }

  #grow(need: number): void {
    const grown = new Float64Array(Math.max(this.#values.length * 2, need));
    grown.set(this.#values.subarray(0, this.#n));
    this.#values = grown;
    this.#words = new Uint32Array(grown.buffer);
  }

  appendSeries(
    labels: Labels,
    timestamps: ArrayLike<number>,
    values: Float64Array,
  ): void {
    const n = Math.min(timestamps.length, values.length);
    if (n === 0) return;
    if (this.#n + n > this.#values.length) this.#grow(this.#n + n);
    for (let i = 0; i < n; i++) this.#ts.push(timestamps[i]);
    if (n === 1) {
      // Two 32-bit words: exact bits, no subarray object per sample.
      // Callers pass one-sample views of the same big array: keep one word
      // view per underlying buffer.
      if (values.buffer !== this.#lastBuf) {
        this.#lastBuf = values.buffer;
        this.#lastWords = new Uint32Array(
          values.buffer,
          0,
          values.buffer.byteLength >> 2,
        );
      }
      const src = this.#lastWords!;
      const o = values.byteOffset >> 2;
      this.#words[2 * this.#n] = src[o];
      this.#words[2 * this.#n + 1] = src[o + 1];
    } else {
      this.#values.set(values.subarray(0, n), this.#n);
    }
    this.#n += n;
    this.#labels.push(labels);
    this.#runs.push(this.#labels.length - 1, n);
  }

  rollback(): void {
    this.#values = new Float64Array(64);
    this.#words = new Uint32Array(this.#values.buffer);
    this.#labels = [];
    this.#ts = [];
    this.#n = 0;
    this.#runs = [];
  }

  /**
   * Applies the queued samples to the head and logs them synchronously (so
   * the WAL holds records in head order), then awaits the WAL write, which
   * concurrent commits share.
   */
  async commit(): Promise<AppendResult> {
    const labels = this.#labels;
    const ts = Float64Array.from(this.#ts);
    const values = this.#values.slice(0, this.#n);
    const runs = this.#runs;
    const n = this.#n;
    this.rollback();
    const result = this.#apply(labels, ts, values, runs, n);
    await this.log.commit();
    return result;
  }

  #apply(
    labels: Labels[],
    ts: Float64Array,
    values: Float64Array,
    runs: number[],
    n: number,
  ): AppendResult {
    const result: AppendResult = {
      samplesAccepted: 0,
      samplesDeduplicated: 0,
      rejected: [],
    };
    const reject = (index: number, reason: RejectReason, message: string) =>
      result.rejected.push({ index, reason, message });
    // One pass: resolve each run's series (new ones are logged first) and
    // gather the valid samples into the batch; values move as 32-bit words
    // so their bits are exact.
    const batch: SampleBatch = {
      series: new Array(n),
      ts: new Float64Array(n),
      values: new Float64Array(n),
      count: 0,
    };
    const origin = new Int32Array(n);
    const src = new Uint32Array(values.buffer, values.byteOffset, n * 2);
    const dst = new Uint32Array(batch.values.buffer);
    let at = 0;
    let m = 0;
    for (let r = 0; r < runs.length; r += 2) {
      const ls = labels[runs[r]];
      const count = runs[r + 1];
      let s: HeadSeries | null = null;
      if (ls.length > 0) {
        const before = this.head.numSeries;
        s = this.head.getOrCreate(ls);
        if (s && this.head.numSeries > before) {
          this.log.logSeries(this.tenant, s.ref, ls);
        }
      }
      for (let i = at; i < at + count; i++) {
        const t = ts[i];
        if (!s) {
          if (ls.length === 0) {
            reject(i, "invalid labels", "sample has no labels");
          } else {
            reject(
              i,
              "too many series",
              `the tenant's series limit (${this.head.options.maxSeries}) is reached`,
            );
          }
        } else if (!(t >= MIN_TIME && t <= MAX_TIME) || Math.trunc(t) !== t) {
          reject(
            i,
            "out of bounds",
            `timestamp ${t} is not an integer millisecond within ±2^53`,
          );
        } else if (t < this.head.minValidTime) {
          reject(
            i,
            "out of bounds",
            `timestamp ${t} is older than the stored blocks allow (${this.head.minValidTime})`,
          );
        } else {
          batch.series[m] = s;
          batch.ts[m] = t;
          dst[2 * m] = src[2 * i];
          dst[2 * m + 1] = src[2 * i + 1];
          origin[m] = i;
          m++;
        }
      }
      at += count;
    }
    batch.count = m;
    const fates: SampleFate[] = new Array(m);
    this.head.appendBatch(batch, fates);
    // Log the accepted samples, compacted in place.
    const refs = new Uint32Array(m);
    let k2 = 0;
    for (let k = 0; k < m; k++) {
      const fate = fates[k];
      if (fate === "ok") {
        refs[k2] = batch.series[k].ref;
        batch.ts[k2] = batch.ts[k];
        dst[2 * k2] = dst[2 * k];
        dst[2 * k2 + 1] = dst[2 * k + 1];
        k2++;
      } else if (fate === "dedup") {
        result.samplesDeduplicated++;
      } else {
        reject(origin[k], fate, `${fate} (t=${batch.ts[k]})`);
      }
    }
    result.samplesAccepted = k2;
    if (k2 > 0) {
      this.log.logSamples(this.tenant, refs, batch.ts, batch.values, k2);
    }
    result.rejected.sort((a, b) => a.index - b.index);
    return result;
  }
}
