/**
 * The PromQL engine: instant and range queries over a `Storage`, with
 * Prometheus 3 semantics (5-minute lookback, left-open range windows,
 * delayed metric-name removal, subqueries aligned to absolute steps).
 * Series are read ahead of evaluation, with event-loop turns in between
 * (prepare.ts), so a query can be canceled while it reads and other
 * requests are served meanwhile; evaluation itself is synchronous.
 *
 * @example
 * ```ts
 * const engine = new PromQLEngine(db);
 * const r = await engine.instantQuery("tenant", "sum(rate(x[5m]))", Date.now());
 * ```
 * @module
 */
import { type Labels, labelsKey } from "../model/labels.ts";
import type { Storage, TenantId } from "../storage/interface.ts";
import type { Expr } from "./ast.ts";
import { ParseError } from "./errors.ts";
import { compareLabels, withoutName } from "./eval_labels.ts";
import type { EvalContext, EvalValue } from "./eval_types.ts";
import { Evaluator } from "./evaluator.ts";
import { prepareSelectors } from "./prepare.ts";
import { sampleSlabs, type SlabPool } from "./sample_slabs.ts";
import { parse } from "./parser.ts";
import { columnsOf, type VectorColumns } from "./columns.ts";
import {
  type MatrixSeries,
  QueryError,
  type QueryResult,
  type VectorSample,
} from "./value.ts";

/** Engine limits and defaults. */
export interface PromQLEngineOptions {
  /** How far back an instant selector looks for a sample (ms). */
  lookbackDeltaMs?: number;
  /** Wall-clock limit of one query (ms). */
  timeoutMs?: number;
  /** Most samples one query may hold in memory. */
  maxSamples?: number;
  /** Most steps of a range query. */
  maxPointsPerSeries?: number;
  /** Subquery step when none is written (ms). */
  defaultSubqueryStepMs?: number;
  /**
   * Read every selector's series before evaluating, with event-loop turns
   * in between (default true); false reads them synchronously during
   * evaluation (the results are the same).
   */
  prepare?: boolean;
  /** Longest stretch of reading (ms) between two event-loop turns. */
  yieldEveryMs?: number;
  /** Where queries take sample slabs from (default: the process's pool). */
  slabPool?: SlabPool;
}

/** Per-query options. */
export interface QueryOptions {
  /** Wall-clock limit of this query (ms); at most the engine's timeout. */
  timeoutMs?: number;
  /**
   * Aborts the query: checked before evaluation starts, before each
   * selector reads storage, every few series while series are read ahead
   * (other callbacks run in between, so an abort arriving then is seen)
   * and where the deadline is checked; an aborted query fails with
   * QueryError "canceled".
   */
  signal?: AbortSignal;
}

/** Evaluates PromQL queries against a store. */
export class PromQLEngine {
  readonly #opts: Required<PromQLEngineOptions>;

  constructor(readonly storage: Storage, opts: PromQLEngineOptions = {}) {
    this.#opts = {
      lookbackDeltaMs: opts.lookbackDeltaMs ?? 300_000,
      timeoutMs: opts.timeoutMs ?? 120_000,
      maxSamples: opts.maxSamples ?? 50_000_000,
      maxPointsPerSeries: opts.maxPointsPerSeries ?? 11_000,
      defaultSubqueryStepMs: opts.defaultSubqueryStepMs ?? 60_000,
      prepare: opts.prepare ?? true,
      yieldEveryMs: opts.yieldEveryMs ?? 20,
      slabPool: opts.slabPool ?? sampleSlabs,
    };
  }

  /** Evaluates `query` at `timeMs`. */
  instantQuery(
    tenant: TenantId,
    query: string,
    timeMs: number,
    qopts: QueryOptions = {},
  ): Promise<QueryResult> {
    return Promise.resolve().then(async () => {
      const expr = parseQuery(query);
      const ev = this.#evaluator(tenant, timeMs, timeMs, 0, qopts);
      try {
        const value = await this.#evaluate(ev, expr, {
          times: Float64Array.of(timeMs),
          interval: 0,
        });
        return {
          value: instantValue(value, timeMs),
          warnings: [...ev.warnings],
          infos: [...ev.infos],
        };
      } finally {
        // Also on errors and cancellation: the result holds copies only.
        ev.release();
      }
    });
  }

  /** Evaluates `query` at start, start + step, … up to end (inclusive). */
  rangeQuery(
    tenant: TenantId,
    query: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    qopts: QueryOptions = {},
  ): Promise<QueryResult> {
    return Promise.resolve().then(async () => {
      if (!(stepMs > 0)) {
        throw new QueryError(
          "bad_data",
          "zero or negative query resolution step widths are not accepted. Try a positive integer",
        );
      }
      if (endMs < startMs) {
        throw new QueryError(
          "bad_data",
          "end timestamp must not be before start time",
        );
      }
      // Prometheus' check and wording: (end - start) / step steps at most.
      if ((endMs - startMs) / stepMs > this.#opts.maxPointsPerSeries) {
        throw new QueryError(
          "bad_data",
          `exceeded maximum resolution of ${
            this.#opts.maxPointsPerSeries.toLocaleString("en-US")
          } points per timeseries. Try decreasing the query resolution (?step=XX)`,
        );
      }
      const n = Math.floor((endMs - startMs) / stepMs) + 1;
      const expr = parseQuery(query);
      if (expr.valueType !== "scalar" && expr.valueType !== "vector") {
        throw new QueryError(
          "bad_data",
          `invalid expression type "${
            expr.valueType === "matrix" ? "range vector" : expr.valueType
          }" for range query, must be Scalar or instant Vector`,
        );
      }
      const times = new Float64Array(n);
      for (let i = 0; i < n; i++) times[i] = startMs + i * stepMs;
      const ev = this.#evaluator(tenant, startMs, endMs, stepMs, qopts);
      try {
        const value = await this.#evaluate(ev, expr, {
          times,
          interval: stepMs,
        });
        return {
          value: { type: "matrix", series: rangeMatrix(value, times) },
          warnings: [...ev.warnings],
          infos: [...ev.infos],
        };
      } finally {
        ev.release();
      }
    });
  }

  /** Reads the selectors ahead (yielding), then evaluates synchronously. */
  async #evaluate(
    ev: Evaluator,
    expr: Expr,
    ctx: EvalContext,
  ): Promise<EvalValue> {
    if (this.#opts.prepare) {
      await prepareSelectors(ev, expr, ctx, {
        sliceMs: this.#opts.yieldEveryMs,
      });
      ev.checkDeadline(true);
    }
    return ev.eval(expr, ctx);
  }

  #evaluator(
    tenant: TenantId,
    start: number,
    end: number,
    step: number,
    qopts: QueryOptions,
  ): Evaluator {
    const ev = new Evaluator(
      this.storage,
      tenant,
      {
        lookbackDeltaMs: this.#opts.lookbackDeltaMs,
        maxSamples: this.#opts.maxSamples,
        deadline: Date.now() +
          Math.min(qopts.timeoutMs ?? Infinity, this.#opts.timeoutMs),
        defaultSubqueryStepMs: this.#opts.defaultSubqueryStepMs,
        signal: qopts.signal,
        slabPool: this.#opts.slabPool,
      },
      start,
      end,
      step,
    );
    ev.checkDeadline(true);
    return ev;
  }
}

function parseQuery(query: string): Expr {
  try {
    return parse(query);
  } catch (e) {
    if (e instanceof ParseError) throw new QueryError("bad_data", e.message);
    throw e;
  }
}

const DUPLICATE = "vector cannot contain metrics with the same labelset";

function instantValue(v: EvalValue, t: number): QueryResult["value"] {
  switch (v.type) {
    case "scalar":
      return { type: "scalar", t, v: v.v[0] };
    case "string":
      return { type: "string", t, v: v.v };
    case "vector": {
      const seen = new Set<string>();
      const keys = new OutputKeys();
      const samples: VectorSample[] = v.steps[0].map((s) => {
        const { metric, key } = keys.get(s.metric, s.dropName);
        if (seen.has(key)) throw new QueryError("execution", DUPLICATE);
        seen.add(key);
        return { metric, t, v: s.v };
      });
      return { type: "vector", samples };
    }
    case "matrix": {
      const byKey = new Map<string, MatrixSeries>();
      for (const s of v.series) {
        const metric = s.dropName ? withoutName(s.metric) : s.metric;
        const key = labelsKey(metric);
        if (byKey.has(key)) throw new QueryError("execution", DUPLICATE);
        byKey.set(key, { metric, ts: s.ts, values: s.vs });
      }
      return { type: "matrix", series: sortSeries([...byKey.values()]) };
    }
  }
}

function sortSeries(series: MatrixSeries[]): MatrixSeries[] {
  return series.sort((a, b) => compareLabels(a.metric, b.metric));
}

/**
 * The output label set and its key of a sample, remembered per input label
 * set (samples of one series share it across steps).
 */
class OutputKeys {
  readonly #kept = new Map<Labels, { metric: Labels; key: string }>();
  readonly #dropped = new Map<Labels, { metric: Labels; key: string }>();

  get(metric: Labels, dropName: boolean): { metric: Labels; key: string } {
    const cache = dropName ? this.#dropped : this.#kept;
    let got = cache.get(metric);
    if (!got) {
      const out = dropName ? withoutName(metric) : metric;
      got = { metric: out, key: labelsKey(out) };
      cache.set(metric, got);
    }
    return got;
  }
}

function rangeMatrix(v: EvalValue, times: Float64Array): MatrixSeries[] {
  if (v.type === "scalar") {
    return [{ metric: [], ts: times.slice(), values: v.v.slice() }];
  }
  if (v.type !== "vector") {
    throw new QueryError("bad_data", `invalid expression type for range query`);
  }
  const cols = columnsOf(v);
  if (cols) {
    const fromColumns = columnsMatrix(cols, times);
    if (fromColumns) return fromColumns;
  }
  const keys = new OutputKeys();
  const acc = new Map<string, { metric: Labels; ts: number[]; vs: number[] }>();
  for (let i = 0; i < times.length; i++) {
    for (const s of v.steps[i]) {
      const { metric, key } = keys.get(s.metric, s.dropName);
      let a = acc.get(key);
      if (!a) {
        a = { metric, ts: [], vs: [] };
        acc.set(key, a);
      }
      if (a.ts.length > 0 && a.ts[a.ts.length - 1] === times[i]) {
        throw new QueryError("execution", DUPLICATE);
      }
      a.ts.push(times[i]);
      a.vs.push(s.v);
    }
  }
  return sortSeries(
    [...acc.values()].map((a) => ({
      metric: a.metric,
      ts: Float64Array.from(a.ts),
      values: Float64Array.from(a.vs),
    })),
  );
}

/**
 * A range result straight from columns: one output series per column.
 * Null when two columns end up with the same labels (the per-step path
 * then merges them or reports the duplicate).
 */
function columnsMatrix(
  cols: VectorColumns,
  times: Float64Array,
): MatrixSeries[] | null {
  const nSeries = cols.metrics.length;
  const { nSteps, present, values } = cols;
  const seen = new Set<string>();
  const out: MatrixSeries[] = [];
  for (let k = 0; k < nSeries; k++) {
    let n = 0;
    for (let i = 0; i < nSteps; i++) n += present[i * nSeries + k];
    if (n === 0) continue;
    const metric = cols.dropName[k]
      ? withoutName(cols.metrics[k])
      : cols.metrics[k];
    const key = labelsKey(metric);
    if (seen.has(key)) return null;
    seen.add(key);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < nSteps; i++) {
      const cell = i * nSeries + k;
      if (present[cell] === 0) continue;
      ts[j] = times[i];
      vs[j++] = values[cell];
    }
    out.push({ metric, ts, values: vs });
  }
  return sortSeries(out);
}
