/**
 * The write transaction of one tenant: samples are queued, then `commit`
 * resolves series, lets the head decide each sample's fate, logs the
 * accepted ones (and new series) to the WAL, and resolves once the WAL
 * write is done: the acknowledgement point.
 * @module
 */
import { type Labels, labelsKey } from "../model/labels.ts";
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
  #n = 0;
  // Runs of samples per label set: [labelsIndex, count].
  #runs: number[] = [];

  constructor(
    private readonly tenant: string,
    private readonly head: TenantHead,
    private readonly log: CommitLog,
  ) {}

  append(labels: Labels, t: number, v: number): void {
    const one = new Float64Array(1);
    one[0] = v;
    this.appendSeries(labels, [t], one);
  }

  appendSeries(
    labels: Labels,
    timestamps: ArrayLike<number>,
    values: Float64Array,
  ): void {
    const n = Math.min(timestamps.length, values.length);
    if (n === 0) return;
    if (this.#n + n > this.#values.length) {
      const grown = new Float64Array(
        Math.max(this.#values.length * 2, this.#n + n),
      );
      grown.set(this.#values.subarray(0, this.#n));
      this.#values = grown;
    }
    for (let i = 0; i < n; i++) this.#ts.push(timestamps[i]);
    this.#values.set(values.subarray(0, n), this.#n);
    this.#n += n;
    this.#labels.push(labels);
    this.#runs.push(this.#labels.length - 1, n);
  }

  rollback(): void {
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
    // Resolve series; new ones are logged before their samples.
    const series: HeadSeries[] = new Array(n);
    const valid = new Uint8Array(n);
    let at = 0;
    const seen = new Map<string, HeadSeries | null>();
    for (let r = 0; r < runs.length; r += 2) {
      const ls = labels[runs[r]];
      const count = runs[r + 1];
      const key = labelsKey(ls);
      let s = seen.get(key);
      if (s === undefined) {
        const before = this.head.numSeries;
        s = ls.length === 0 ? null : this.head.getOrCreate(ls);
        if (s && this.head.numSeries > before) {
          this.log.logSeries(this.tenant, s.ref, ls);
        }
        seen.set(key, s);
      }
      for (let i = at; i < at + count; i++) {
        if (!s) {
          reject(
            i,
            ls.length === 0 ? "invalid labels" : "too many series",
            ls.length === 0
              ? "sample has no labels"
              : `the tenant's series limit (${this.head.options.maxSeries}) is reached`,
          );
        } else if (
          !(ts[i] >= MIN_TIME && ts[i] <= MAX_TIME) || !Number.isInteger(ts[i])
        ) {
          reject(
            i,
            "out of bounds",
            `timestamp ${ts[i]} is not an integer millisecond within ±2^53`,
          );
        } else {
          series[i] = s;
          valid[i] = 1;
        }
      }
      at += count;
    }
    // Let the head decide the rest.
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (valid[i]) idx.push(i);
    const batch: SampleBatch = {
      series: idx.map((i) => series[i]),
      ts: Float64Array.from(idx, (i) => ts[i]),
      values: new Float64Array(idx.length),
      count: idx.length,
    };
    idx.forEach((i, k) => batch.values.set(values.subarray(i, i + 1), k));
    const fates: SampleFate[] = new Array(idx.length);
    this.head.appendBatch(batch, fates);
    // Log the accepted samples.
    const refs = new Uint32Array(idx.length);
    const lts = new Float64Array(idx.length);
    const lvals = new Float64Array(idx.length);
    let m = 0;
    for (let k = 0; k < idx.length; k++) {
      const fate = fates[k];
      if (fate === "ok") {
        refs[m] = batch.series[k].ref;
        lts[m] = batch.ts[k];
        lvals.set(batch.values.subarray(k, k + 1), m);
        m++;
      } else if (fate === "dedup") {
        result.samplesDeduplicated++;
      } else {
        reject(idx[k], fate, `${fate} (t=${batch.ts[k]})`);
      }
    }
    result.samplesAccepted = m;
    if (m > 0) this.log.logSamples(this.tenant, refs, lts, lvals, m);
    result.rejected.sort((a, b) => a.index - b.index);
    return result;
  }
}
