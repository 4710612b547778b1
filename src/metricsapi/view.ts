/**
 * The PromQL view of typed metrics: the samples a batch of observations
 * adds to the Db, derived deterministically from the log (so replaying a
 * record derives the same samples, which the Db then deduplicates).
 *
 * - gauge `g{tags}`: each value at its timestamp.
 * - counter `c{tags}`: the running total of increments in log order, a
 *   Prometheus counter (`rate()`, `increase()` work). A 0 is written 1 ms
 *   before the first increment so that the first increment counts in
 *   `increase()`. The series' timestamps only move forward: an increment at
 *   or before the series' newest sample is written 1 ms after it (within
 *   one batch, same-millisecond increments fold into one sample instead).
 * - distribution `d_count{tags}`, `d_sum{tags}`: running count and sum
 *   (counters, as above); `d{tags,quantile="0.5"|"0.9"|"0.95"|"0.99"}`:
 *   the quantiles of the observations of the current minute, written at
 *   the batch's newest timestamp of the series.
 * - set, event: not mapped (no numeric series a PromQL user would want).
 *
 * Gauges keep the store's rule for late samples: a value at a millisecond
 * the series already has from an earlier batch goes 1 ms after it when it
 * is the newest, else it is left to the Db (which may refuse a duplicate).
 * @module
 */
import { type Labels, labelsFrom, labelsKey } from "../model/labels.ts";
import type { Rollup } from "./rollup.ts";
import type { Observation, Tags } from "./types.ts";

/** Quantiles exposed for distributions. */
export const VIEW_QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

/** One sample for the Db. */
export interface ViewSample {
  readonly labels: Labels;
  t: number;
  v: number;
}

interface ViewSeries {
  readonly labels: Labels;
  /** Newest timestamp written (-Infinity before any). */
  lastT: number;
  /** Running total (counters). */
  total: number;
  /** The sample this batch wrote last for the series, if any. */
  pending: ViewSample | null;
}

/** Finds the minute bucket of a distribution series (for quantiles). */
export type MinuteBucket = (name: string, tags: Tags, t: number) =>
  | Rollup
  | undefined;

/** Derives view samples, keeping per-series state across batches. */
export class ViewState {
  readonly #series = new Map<string, ViewSeries>();

  #get(labels: Labels): ViewSeries {
    const key = labelsKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, lastT: -Infinity, total: 0, pending: null };
      this.#series.set(key, s);
    }
    return s;
  }

  /**
   * The samples of one batch (one log record), in order. `minute` gives the
   * quantile source; call after the batch is folded into the rollups.
   */
  derive(
    observations: readonly Observation[],
    minute: MinuteBucket,
  ): ViewSample[] {
    const out: ViewSample[] = [];
    const touched: ViewSeries[] = [];
    const dists = new Map<string, { o: Observation; t: number }>();
    const emit = (s: ViewSeries, t: number, v: number, monotonic: boolean) => {
      if (s.pending === null) touched.push(s);
      if (t > s.lastT) {
        s.pending = { labels: s.labels, t, v };
        out.push(s.pending);
        s.lastT = t;
      } else if (
        s.pending !== null && s.pending.t === s.lastT &&
        (monotonic || t === s.lastT)
      ) {
        s.pending.v = v; // fold into this batch's newest sample
      } else if (monotonic || t === s.lastT) {
        s.lastT += 1;
        s.pending = { labels: s.labels, t: s.lastT, v };
        out.push(s.pending);
      } else {
        out.push({ labels: s.labels, t, v }); // a late gauge value
      }
    };
    const counter = (labels: Labels, t: number, inc: number) => {
      const s = this.#get(labels);
      if (s.lastT === -Infinity) emit(s, t - 1, 0, true);
      s.total += inc;
      emit(s, t, s.total, true);
    };
    for (const o of observations) {
      if (o.type === "gauge") {
        emit(
          this.#get(viewLabels(o.name, o.tags)),
          o.t,
          o.value as number,
          false,
        );
      } else if (o.type === "counter") {
        counter(viewLabels(o.name, o.tags), o.t, o.value as number);
      } else if (o.type === "distribution") {
        counter(viewLabels(`${o.name}_count`, o.tags), o.t, 1);
        counter(viewLabels(`${o.name}_sum`, o.tags), o.t, o.value as number);
        const key = `${o.name}\u0000${JSON.stringify(o.tags)}`;
        const seen = dists.get(key);
        if (!seen || o.t > seen.t) dists.set(key, { o, t: o.t });
      }
    }
    for (const { o, t } of dists.values()) {
      const sk = minute(o.name, o.tags, t)?.sketch;
      if (!sk) continue;
      for (const q of VIEW_QUANTILES) {
        const labels = viewLabels(o.name, { ...o.tags, quantile: String(q) });
        emit(this.#get(labels), t, sk.quantile(q), false);
      }
    }
    for (const s of touched) s.pending = null;
    return out;
  }
}

/** The Db labels of a typed series: `__name__` is the name, dots kept. */
export function viewLabels(name: string, tags: Tags): Labels {
  return labelsFrom({ ...tags, __name__: name });
}
