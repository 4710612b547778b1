/**
 * The evaluator: walks a checked syntax tree and computes each node at all
 * steps of the query at once. Selectors read each series once into
 * Float64Arrays and answer every step from them (binary search for the
 * lookback sample or window bounds); nothing goes back to storage per step.
 *
 * Selector reads are generators that pause every few series: run to the
 * end at once (`runSteps`) they are the synchronous path; driven by
 * `prepareSelectors` (prepare.ts) they are read ahead, with event-loop turns
 * between pauses, and kept per syntax-tree node (`preload`) for `eval` to
 * take instead of reading.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import type { Matcher } from "../model/matcher.ts";
import type { Storage, TenantId } from "../storage/interface.ts";
import {
  type AtModifier,
  type DurationExpr,
  evalDuration,
  type Expr,
  type MatrixSelector,
  type SubqueryExpr,
  type VectorSelector,
} from "./ast.ts";
import { evalAggregate } from "./eval_aggregations.ts";
import { evalBinary } from "./eval_binary.ts";
import { evalCall } from "./eval_functions.ts";
import { labelsKey } from "../model/labels.ts";
import type {
  EvalContext,
  EvalValue,
  RangeSeries,
  Sample,
  Windows,
} from "./eval_types.ts";
import { QueryError } from "./value.ts";
import {
  markStale,
  readSamples,
  type SampleAlloc,
} from "../storage/chunk_iterator.ts";
import { SampleLimitError } from "../storage/limits.ts";
import { ColumnarVector, columnsFit } from "./columns.ts";
import { SampleArena, type SlabPool } from "./sample_slabs.ts";

/** Limits and defaults of one evaluation. */
export interface EvaluatorOptions {
  lookbackDeltaMs: number;
  maxSamples: number;
  deadline: number;
  /** Subquery step when none is written. */
  defaultSubqueryStepMs: number;
  /** Cancels the evaluation (QueryError "canceled"). */
  signal?: AbortSignal;
  /** Where sample slabs come from (default: the process's pool). */
  slabPool?: SlabPool;
}

/** Raw samples of one series, stale markers flagged. */
interface RawSeries {
  metric: Labels;
  ts: Float64Array;
  vs: Float64Array;
  /** Per sample, 1 for a stale marker; empty when nStale is 0. */
  stale: Uint8Array;
  nStale: number;
}

const NO_STALE = new Uint8Array(0);

/** A selector read in steps: it pauses (yields) every few series. */
export type ReadSteps<T> = Generator<void, T, void>;

/** Runs a read to its end without pausing. */
export function runSteps<T>(g: ReadSteps<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** Series read between two pauses of a selector read. */
const SERIES_PER_PAUSE = 8;

/**
 * What a selector node evaluates to, by how it is asked: `vector` (an
 * instant selector's value), `timestamps` (its per-step sample times, for
 * `timestamp()`), `windows` (a range selector's data and windows).
 */
export type PreloadKind = "vector" | "timestamps" | "windows";

/** A selector's value read ahead for evaluation at `times`. */
interface Preloaded {
  kind: PreloadKind;
  times: Float64Array;
  value: EvalValue | Sample[][] | Windows;
}

/** Counts of read-ahead values: made, taken by evaluation, asked for but absent. */
export interface PreloadStats {
  loaded: number;
  used: number;
  missed: number;
}

function sameTimes(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reusable arrays for one series at a time (grown as needed). */
class ScratchSamples {
  #ts = new Float64Array(256);
  #vs = new Float64Array(256);

  readonly alloc = (n: number): { ts: Float64Array; vs: Float64Array } => {
    if (n > this.#ts.length) {
      const cap = Math.max(n, this.#ts.length * 2);
      this.#ts = new Float64Array(cap);
      this.#vs = new Float64Array(cap);
    }
    return { ts: this.#ts.subarray(0, n), vs: this.#vs.subarray(0, n) };
  };
}

/** First index in ts[lo..hi) with ts[i] > t. */
export function upperBound(
  ts: Float64Array,
  t: number,
  lo = 0,
  hi = ts.length,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Evaluates expressions of one query. */
export class Evaluator {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();
  #samples = 0;
  #checks = 0;
  readonly #preloaded = new Map<Expr, Preloaded>();
  #preparing = false;
  readonly preloadStats: PreloadStats = { loaded: 0, used: 0, missed: 0 };
  /**
   * Slabs of every selector read of this query (reads take disjoint views);
   * given back by `release` when the query ends.
   */
  readonly #arena: SampleArena;

  constructor(
    readonly storage: Storage,
    readonly tenant: TenantId,
    readonly opts: EvaluatorOptions,
    /** The query's start and end (ms), for `@ start()` / `@ end()`. */
    readonly queryStart: number,
    readonly queryEnd: number,
    readonly stepMs: number,
  ) {
    this.#arena = new SampleArena(opts.slabPool);
  }

  /**
   * Gives the query's sample slabs back for reuse. Call once evaluation has
   * ended (however it ended) and nothing read from storage is used any more:
   * results must not hold views of selector reads (they hold copies).
   */
  release(): void {
    this.#arena.release();
  }

  /**
   * Throws "canceled" once the signal is aborted and "timeout" once the
   * deadline has passed; cheaply (every 64th call) unless `now`.
   */
  checkDeadline(now = false): void {
    if (!now && (++this.#checks & 63) !== 0) return;
    if (this.opts.signal?.aborted) {
      throw new QueryError("canceled", "query was canceled");
    }
    if (Date.now() > this.opts.deadline) {
      throw new QueryError(
        "timeout",
        "query timed out in expression evaluation",
      );
    }
  }

  /** From now on, a selector without a read-ahead value counts as missed. */
  startPreloading(): void {
    this.#preparing = true;
  }

  /**
   * Keeps `value`, read ahead for `node` evaluated at `times`: evaluation
   * takes it (once) instead of reading storage.
   */
  preload(
    node: Expr,
    kind: PreloadKind,
    times: Float64Array,
    value: Preloaded["value"],
  ): void {
    this.#preloaded.set(node, { kind, times, value });
    this.preloadStats.loaded++;
  }

  /** The value read ahead for `node` at `times`, removed; undefined if none. */
  #takePreloaded(
    node: Expr,
    kind: PreloadKind,
    times: Float64Array,
  ): Preloaded["value"] | undefined {
    if (!this.#preparing) return undefined;
    const got = this.#preloaded.get(node);
    if (!got || got.kind !== kind || !sameTimes(got.times, times)) {
      this.preloadStats.missed++;
      return undefined;
    }
    this.#preloaded.delete(node);
    this.preloadStats.used++;
    return got.value;
  }

  /** Accounts `n` samples held in memory; throws past the limit. */
  addSamples(n: number): void {
    this.#samples += n;
    if (this.#samples > this.opts.maxSamples) {
      throw new QueryError(
        "execution",
        "query processing would load too many samples into memory in query execution",
      );
    }
  }

  duration(d: DurationExpr): number {
    return evalDuration(d, {
      step: this.stepMs / 1000,
      range: (this.queryEnd - this.queryStart) / 1000,
    });
  }

  /** Seconds of a duration as integer milliseconds. */
  durationMs(d: DurationExpr | null): number {
    return d === null ? 0 : Math.round(this.duration(d) * 1000);
  }

  atTime(at: AtModifier): number {
    if (at === "start") return this.queryStart;
    if (at === "end") return this.queryEnd;
    return at;
  }

  /** Per step, the time a selector or subquery looks at. */
  effectiveTimes(
    ctx: EvalContext,
    at: AtModifier | null,
    offsetMs: number,
  ): Float64Array {
    const out = new Float64Array(ctx.times.length);
    const fixed = at === null ? null : this.atTime(at);
    for (let i = 0; i < out.length; i++) {
      out[i] = (fixed ?? ctx.times[i]) - offsetMs;
    }
    return out;
  }

  eval(e: Expr, ctx: EvalContext): EvalValue {
    this.checkDeadline();
    switch (e.type) {
      case "NumberLiteral":
        return {
          type: "scalar",
          v: new Float64Array(ctx.times.length).fill(e.value),
        };
      case "StringLiteral":
        return { type: "string", v: e.value };
      case "ParenExpr":
        return this.eval(e.expr, ctx);
      case "UnaryExpr": {
        const v = this.eval(e.expr, ctx);
        if (e.op === "+") return v;
        if (v.type === "scalar") {
          return {
            type: "scalar",
            v: v.v.map((x) => -x),
          };
        }
        if (v.type === "vector") {
          return {
            type: "vector",
            steps: v.steps.map((s) =>
              s.map((x) => ({ metric: x.metric, v: -x.v, dropName: true }))
            ),
          };
        }
        throw new QueryError("execution", `unary minus on ${v.type}`);
      }
      case "VectorSelector":
        return this.selectVector(e, ctx, false);
      case "MatrixSelector":
      case "SubqueryExpr": {
        const w = this.windows(e, ctx);
        // A range vector is only a query result at a single time.
        const end = w.ends[0];
        const series: RangeSeries[] = [];
        for (const s of w.series) {
          const lo = upperBound(s.ts, end - w.rangeMs);
          const hi = upperBound(s.ts, end, lo);
          if (hi > lo) {
            series.push({
              metric: s.metric,
              ts: s.ts.slice(lo, hi),
              vs: s.vs.slice(lo, hi),
              dropName: s.dropName,
            });
          }
        }
        return { type: "matrix", series };
      }
      case "BinaryExpr":
        return evalBinary(this, e, ctx);
      case "AggregateExpr":
        return evalAggregate(this, e, ctx);
      case "Call":
        return evalCall(this, e, ctx);
    }
  }

  /** Reads the series a selector matches within [mint, maxt]. */
  *loadSeries(
    vs: VectorSelector,
    mint: number,
    maxt: number,
  ): ReadSteps<RawSeries[]> {
    const out: RawSeries[] = [];
    const alloc = this.#arena.alloc;
    yield* this.scanSeries(
      vs,
      mint,
      maxt,
      () => alloc,
      (r) => out.push(r),
    );
    return out;
  }

  /**
   * Reads the series a selector matches within [mint, maxt], handing each
   * one with samples to `visit`. `allocFor(selected)` (told how many series
   * were selected) gives the arrays the samples are read into; they may be
   * reused after `visit` returns. Pauses after selecting and every few
   * series (the querier stays open: reads are snapshots).
   */
  *scanSeries(
    vs: VectorSelector,
    mint: number,
    maxt: number,
    allocFor: (selected: number) => SampleAlloc,
    visit: (r: RawSeries) => void,
  ): ReadSteps<void> {
    this.checkDeadline(true);
    const q = this.storage.querier(this.tenant, mint, maxt);
    try {
      const selected = q.select(vs.matchers as readonly Matcher[], {
        start: mint,
        end: maxt,
      });
      yield;
      const alloc = allocFor(selected.length);
      let read = 0;
      for (const s of selected) {
        if (++read % SERIES_PER_PAUSE === 0) yield;
        const it = s.iterator();
        const { ts, vs: vals } = readSamples(it, mint, maxt, alloc);
        const err = it.err();
        if (err instanceof SampleLimitError) {
          throw new QueryError("execution", err.message);
        }
        if (err) {
          throw new QueryError(
            "execution",
            `reading ${vs.name}: ${err.message}`,
          );
        }
        this.checkDeadline();
        const n = ts.length;
        if (n === 0) continue;
        this.addSamples(n);
        let nStale = markStale(vals);
        let stale = NO_STALE;
        if (nStale > 0) {
          stale = new Uint8Array(n);
          nStale = markStale(vals, stale);
        }
        visit({ metric: s.labels, ts, vs: vals, stale, nStale });
      }
    } finally {
      q.close();
    }
  }

  /**
   * An instant selector at every step: per series, the newest sample in
   * (t - lookback, t], none when that sample is a stale marker. With
   * `timestamps`, the value is the sample's time in seconds.
   */
  selectInstant(
    vs: VectorSelector,
    ctx: EvalContext,
    timestamps: boolean,
  ): Sample[][] {
    if (timestamps) {
      const pre = this.#takePreloaded(vs, "timestamps", ctx.times);
      if (pre) return pre as Sample[][];
    }
    return runSteps(this.selectInstantSteps(vs, ctx, timestamps));
  }

  /** `selectInstant` in steps. */
  *selectInstantSteps(
    vs: VectorSelector,
    ctx: EvalContext,
    timestamps: boolean,
  ): ReadSteps<Sample[][]> {
    const times = this.effectiveTimes(ctx, vs.at, this.durationMs(vs.offset));
    const steps: Sample[][] = Array.from({ length: times.length }, () => []);
    if (times.length === 0) return steps;
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const lookback = this.opts.lookbackDeltaMs;
    return instantSteps(
      yield* this.loadSeries(vs, lo - lookback + 1, hi),
      times,
      lookback,
      timestamps,
    );
  }

  /**
   * `selectInstant` as a vector value: columnar (one pass per series, a
   * cell per series and step) when it fits, else per-step samples.
   */
  selectVector(
    vs: VectorSelector,
    ctx: EvalContext,
    timestamps: boolean,
  ): EvalValue {
    if (!timestamps) {
      const pre = this.#takePreloaded(vs, "vector", ctx.times);
      if (pre) return pre as EvalValue;
    }
    return runSteps(this.selectVectorSteps(vs, ctx, timestamps));
  }

  /** `selectVector` in steps. */
  *selectVectorSteps(
    vs: VectorSelector,
    ctx: EvalContext,
    timestamps: boolean,
  ): ReadSteps<EvalValue> {
    const times = this.effectiveTimes(ctx, vs.at, this.durationMs(vs.offset));
    const nSteps = times.length;
    if (nSteps === 0) return { type: "vector", steps: [] };
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const lookback = this.opts.lookbackDeltaMs;
    // Each series is read into scratch arrays and turned into its column
    // right away; only when the columns would be too big are series kept.
    const scratch = new ScratchSamples();
    const arena = this.#arena;
    let fits = true;
    let values = new Float64Array(0);
    let present = new Uint8Array(0);
    const metrics: Labels[] = [];
    const kept: RawSeries[] = [];
    let cap = 0;
    yield* this.scanSeries(
      vs,
      lo - lookback + 1,
      hi,
      (selected) => {
        fits = columnsFit(selected, nSteps);
        if (!fits) return arena.alloc;
        cap = selected;
        values = new Float64Array(cap * nSteps);
        present = new Uint8Array(cap * nSteps);
        return scratch.alloc;
      },
      (s) => {
        if (!fits) {
          kept.push(s);
          return;
        }
        const k = metrics.length;
        metrics.push(s.metric);
        const sts = s.ts;
        let j = 0;
        let prev = -Infinity;
        for (let i = 0; i < nSteps; i++) {
          const t = times[i];
          // Steps usually ascend: continue the previous search.
          j = upperBound(sts, t, t >= prev ? j : 0);
          prev = t;
          const at = j - 1;
          if (
            at < 0 || sts[at] <= t - lookback ||
            (s.nStale > 0 && s.stale[at] === 1)
          ) continue;
          const cell = i * cap + k;
          present[cell] = 1;
          values[cell] = timestamps ? sts[at] / 1000 : s.vs[at];
        }
      },
    );
    if (!fits) {
      return {
        type: "vector",
        steps: instantSteps(kept, times, lookback, timestamps),
      };
    }
    this.checkDeadline();
    const nSeries = metrics.length;
    if (nSeries < cap) {
      // Series without samples in range: pack the columns.
      const v2 = new Float64Array(nSeries * nSteps);
      const p2 = new Uint8Array(nSeries * nSteps);
      for (let i = 0; i < nSteps; i++) {
        v2.set(values.subarray(i * cap, i * cap + nSeries), i * nSeries);
        p2.set(present.subarray(i * cap, i * cap + nSeries), i * nSeries);
      }
      values = v2;
      present = p2;
    }
    return new ColumnarVector({
      metrics,
      dropName: new Uint8Array(nSeries),
      nSteps,
      values,
      present,
    });
  }

  /** The data and per-step windows of a range selector or subquery. */
  windows(e: MatrixSelector | SubqueryExpr, ctx: EvalContext): Windows {
    if (e.type === "MatrixSelector") {
      const pre = this.#takePreloaded(e, "windows", ctx.times);
      if (pre) return pre as Windows;
      return runSteps(this.matrixWindows(e, ctx));
    }
    return this.subqueryWindows(e, ctx);
  }

  /** The data and per-step windows of a range selector, in steps. */
  *matrixWindows(e: MatrixSelector, ctx: EvalContext): ReadSteps<Windows> {
    const vs = e.selector;
    const rangeMs = this.durationMs(e.range);
    const ends = this.effectiveTimes(ctx, vs.at, this.durationMs(vs.offset));
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of ends) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const series: RangeSeries[] = [];
    if (ends.length > 0) {
      for (const s of yield* this.loadSeries(vs, lo - rangeMs + 1, hi)) {
        const n = s.nStale;
        if (n === 0) {
          series.push({
            metric: s.metric,
            ts: s.ts,
            vs: s.vs,
            dropName: false,
          });
          continue;
        }
        // Range windows never see stale markers.
        const ts = new Float64Array(s.ts.length - n);
        const vals = new Float64Array(s.ts.length - n);
        let k = 0;
        for (let i = 0; i < s.ts.length; i++) {
          if (s.stale[i]) continue;
          ts[k] = s.ts[i];
          vals[k++] = s.vs[i];
        }
        if (k > 0) {
          series.push({ metric: s.metric, ts, vs: vals, dropName: false });
        }
      }
    }
    return { series, ends, rangeMs };
  }

  subqueryWindows(e: SubqueryExpr, ctx: EvalContext): Windows {
    const { ends, rangeMs, inner } = this.subqueryContext(e, ctx);
    if (inner === null) return { series: [], ends, rangeMs };
    this.checkDeadline(true);
    const value = this.eval(e.expr, inner);
    this.checkDeadline(true);
    const series = toSeries(value, inner.times);
    this.checkDeadline(true);
    return { series, ends, rangeMs };
  }

  /**
   * A subquery's window ends and range, and the steps its expression is
   * evaluated at (null when there are no steps).
   */
  subqueryContext(
    e: SubqueryExpr,
    ctx: EvalContext,
  ): { ends: Float64Array; rangeMs: number; inner: EvalContext | null } {
    const rangeMs = this.durationMs(e.range);
    const stepMs = e.step === null
      ? this.opts.defaultSubqueryStepMs
      : this.durationMs(e.step);
    if (stepMs <= 0) {
      throw new QueryError("bad_data", "subquery step must be positive");
    }
    const ends = this.effectiveTimes(ctx, e.at, this.durationMs(e.offset));
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of ends) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    if (ends.length === 0) return { ends, rangeMs, inner: null };
    // Inner steps sit on absolute multiples of the step (Go's truncating division).
    const from = lo - rangeMs;
    let start = Math.trunc(from / stepMs) * stepMs;
    if (start <= from) start += stepMs;
    const n = start > hi ? 0 : Math.floor((hi - start) / stepMs) + 1;
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) times[i] = start + i * stepMs;
    return { ends, rangeMs, inner: { times, interval: stepMs } };
  }
}

/** Per step, the newest sample of each series in (t - lookback, t], stale markers excluded. */
function instantSteps(
  series: RawSeries[],
  times: Float64Array,
  lookback: number,
  timestamps: boolean,
): Sample[][] {
  const steps: Sample[][] = Array.from({ length: times.length }, () => []);
  for (const s of series) {
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      const j = upperBound(s.ts, t) - 1;
      if (
        j < 0 || s.ts[j] <= t - lookback || (s.nStale > 0 && s.stale[j] === 1)
      ) continue;
      steps[i].push({
        metric: s.metric,
        v: timestamps ? s.ts[j] / 1000 : s.vs[j],
        dropName: false,
      });
    }
  }
  return steps;
}

/** Turns per-step results into series (first-seen order). */
export function toSeries(v: EvalValue, times: Float64Array): RangeSeries[] {
  if (v.type === "scalar") {
    return [{
      metric: [],
      ts: times.slice(),
      vs: v.v.slice(),
      dropName: false,
    }];
  }
  if (v.type !== "vector") {
    throw new QueryError("execution", `cannot use ${v.type} as range data`);
  }
  const byKey = new Map<
    string,
    { metric: Labels; dropName: boolean; ts: number[]; vs: number[] }
  >();
  for (let i = 0; i < v.steps.length; i++) {
    for (const s of v.steps[i]) {
      const key = labelsKey(s.metric) + (s.dropName ? "\u0001" : "");
      let acc = byKey.get(key);
      if (!acc) {
        acc = { metric: s.metric, dropName: s.dropName, ts: [], vs: [] };
        byKey.set(key, acc);
      }
      acc.ts.push(times[i]);
      acc.vs.push(s.v);
    }
  }
  return [...byKey.values()].map((a) => ({
    metric: a.metric,
    dropName: a.dropName,
    ts: Float64Array.from(a.ts),
    vs: Float64Array.from(a.vs),
  }));
}
