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
 *   or before the series' newest sample is written 1 ms after it. Within one
 *   batch, increments at or before the newest sample, or in the same 10 s
 *   as it, fold into one sample (as a 10 s scrape would see them).
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
import { sameTags } from "./series.ts";
import type { Observation, Tags } from "./types.ts";

/** Cumulative series get at most one sample per this many ms per batch. */
export const FOLD_MS = 10_000;

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
  /** name + tags as sent → series: skips building labels per observation. */
  readonly #byText = new Map<string, ViewSeries>();

  // Recent lookups: a batch mostly repeats a few series.
  #recent: { name: string; tags: Tags; s: ViewSeries }[] = [];

  #get(name: string, tags: Tags): ViewSeries {
    for (const r of this.#recent) {
      if (r.name === name && sameTags(r.tags, tags)) return r.s;
    }
    const s = this.#find(name, tags);
    this.#recent.unshift({ name, tags, s });
    if (this.#recent.length > 4) this.#recent.pop();
    return s;
  }

  #find(name: string, tags: Tags): ViewSeries {
    const text = `${name}\u0000${JSON.stringify(tags)}`;
    let s = this.#byText.get(text);
    if (s) return s;
    const labels = viewLabels(name, tags);
    const key = labelsKey(labels);
    s = this.#series.get(key);
    if (!s) {
      s = { labels, lastT: -Infinity, total: 0, pending: null };
      this.#series.set(key, s);
    }
    if (this.#byText.size > 1_000_000) this.#byText.clear();
    this.#byText.set(text, s);
    return s;
  }

  /** Per-series state for snapshots: labels, newest time, running total. */
  save(): [Labels, number, number][] {
    return [...this.#series.values()].map((s) => [s.labels, s.lastT, s.total]);
  }

  /** Restores what `save` gave. */
  load(saved: readonly [Labels, number, number][]): void {
    for (const [labels, lastT, total] of saved) {
      this.#series.set(labelsKey(labels), {
        labels,
        lastT,
        total,
        pending: null,
      });
    }
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
      if (
        monotonic && s.pending !== null && t > s.lastT &&
        Math.floor(t / FOLD_MS) === Math.floor(s.pending.t / FOLD_MS)
      ) {
        // Same 10 s as this batch's newest sample: move it forward.
        s.pending.t = s.lastT = t;
        s.pending.v = v;
      } else if (t > s.lastT) {
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
    const counter = (name: string, tags: Tags, t: number, inc: number) => {
      const s = this.#get(name, tags);
      if (s.lastT === -Infinity) {
        // A sample of its own (never folded): increase() sees the first increment.
        out.push({ labels: s.labels, t: t - 1, v: 0 });
        s.lastT = t - 1;
      }
      s.total += inc;
      emit(s, t, s.total, true);
    };
    for (const o of observations) {
      if (o.type === "gauge") {
        emit(
          this.#get(o.name, o.tags),
          o.t,
          o.value as number,
          false,
        );
      } else if (o.type === "counter") {
        counter(o.name, o.tags, o.t, o.value as number);
      } else if (o.type === "distribution") {
        counter(`${o.name}_count`, o.tags, o.t, 1);
        counter(`${o.name}_sum`, o.tags, o.t, o.value as number);
        const key = `${o.name}\u0000${JSON.stringify(o.tags)}`;
        const seen = dists.get(key);
        if (!seen || o.t > seen.t) dists.set(key, { o, t: o.t });
      }
    }
    for (const { o, t } of dists.values()) {
      const sk = minute(o.name, o.tags, t)?.sketch;
      if (!sk) continue;
      for (const q of VIEW_QUANTILES) {
        const s = this.#get(o.name, { ...o.tags, quantile: String(q) });
        emit(s, t, sk.quantile(q), false);
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

/**
 * Queues view samples on a Db appender, one run per series (samples of a
 * series keep their order), which the head appends far faster than one
 * run per sample.
 */
export function appendView(
  app: {
    appendSeries(l: Labels, ts: ArrayLike<number>, v: Float64Array): void;
  },
  samples: readonly ViewSample[],
): void {
  const runs = new Map<Labels, { ts: number[]; vs: number[] }>();
  for (const s of samples) {
    let r = runs.get(s.labels);
    if (!r) runs.set(s.labels, r = { ts: [], vs: [] });
    r.ts.push(s.t);
    r.vs.push(s.v);
  }
  for (const [labels, r] of runs) {
    app.appendSeries(labels, r.ts, Float64Array.from(r.vs));
  }
}
