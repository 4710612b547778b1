/**
 * Runs a PromQL test script against a fresh store and the engine, checking
 * results with Prometheus' tolerance (relative 1e-6, NaN equals NaN).
 * @module
 */
import {
  formatLabels,
  getLabel,
  type Labels,
  labelsFrom,
  labelsKey,
} from "../../src/model/labels.ts";
import { PromQLEngine } from "../../src/promql/engine.ts";
import { formatValue } from "../../src/promql/format_value.ts";
import { type Expr, walk } from "../../src/promql/ast.ts";
import { compareLabels } from "../../src/promql/eval_labels.ts";
import { parse } from "../../src/promql/parser.ts";
import { format } from "../../src/promql/printer.ts";
import {
  QueryError,
  type QueryResult,
  type VectorSample,
} from "../../src/promql/value.ts";
import { Db } from "../../src/storage/db.ts";
import {
  type Command,
  type Expect,
  parseScript,
  type SeriesLine,
} from "./parse.ts";

/** What became of one `eval`. */
export interface CaseResult {
  line: number;
  query: string;
  status: "pass" | "fail" | "skip";
  reason?: string;
}

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

const STALE_BITS =
  new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0];
const TENANT = "promqltest";

/** Prometheus' almostEqual with epsilon 1e-6. */
export function almostEqual(a: number, b: number, eps = 1e-6): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

class Store {
  db!: Db;
  dir = "";
  /** Label sets of the native-histogram series loaded (not stored: out of scope). */
  histogramSeries: Labels[] = [];

  async open(): Promise<void> {
    this.dir = await Deno.makeTempDir({ prefix: "promqltest-" });
    this.db = await Db.open({
      dataDir: this.dir,
      log: nullLog,
      outOfOrderWindow: Number.MAX_SAFE_INTEGER / 4,
    });
    this.histogramSeries = [];
  }

  async close(): Promise<void> {
    await this.db.close();
    await Deno.remove(this.dir, { recursive: true });
  }

  async load(
    intervalMs: number,
    series: SeriesLine[],
    nhcb: boolean,
  ): Promise<void> {
    const app = this.db.appender(TENANT);
    // Upstream keys a load's series by label set: a repeated one replaces the earlier.
    const byKey = new Map<string, SeriesLine>();
    for (const s of series) {
      const key = labelsKey(s.labels);
      byKey.delete(key);
      byKey.set(key, s);
    }
    for (const s of byKey.values()) {
      if (nhcb) {
        // load_with_nhcb also makes a native histogram of each classic one
        // (`_bucket`/`_count`/`_sum` series), named without the suffix.
        const name = getLabel(s.labels, "__name__");
        const m = /^(.*)_(bucket|count|sum)$/.exec(name);
        if (m) {
          this.histogramSeries.push(
            labelsFrom(
              s.labels.filter((l) => l.name !== "le")
                .map((l): [string, string] => [
                  l.name,
                  l.name === "__name__" ? m[1] : l.value,
                ]),
            ),
          );
        }
      }
      if (s.histogram) {
        this.histogramSeries.push(s.labels);
        continue;
      }
      const ts: number[] = [];
      const vs: number[] = [];
      s.points.forEach((p, i) => {
        if (p === "_") return;
        ts.push(i * intervalMs);
        vs.push(p === "stale" ? 0 : p);
      });
      const values = new Float64Array(vs);
      // Stale markers go in as bits: a JS number would lose the payload.
      const bits = new BigUint64Array(values.buffer);
      s.points.filter((p) => p !== "_").forEach((p, i) => {
        if (p === "stale") bits[i] = 0x7ff0000000000002n;
      });
      void STALE_BITS;
      app.appendSeries(s.labels, ts, values);
    }
    // Prometheus' test storage also drops duplicates; keep the first.
    await app.commit();
  }
}

function describe(r: QueryResult): string {
  const v = r.value;
  switch (v.type) {
    case "scalar":
      return `scalar ${formatValue(v.v)}`;
    case "string":
      return `string ${v.v}`;
    case "vector":
      return v.samples.map((s) =>
        `${formatLabels(s.metric)} ${formatValue(s.v)}`
      ).join("; ");
    case "matrix":
      return v.series.map((s) =>
        `${formatLabels(s.metric)} ${
          Array.from(s.values, formatValue).join(" ")
        }`
      )
        .join("; ");
  }
}

/** Upstream's expectCmd.CheckMatch: an exact message, a regex, or anything. */
function matches(e: Expect, message: string): boolean {
  if (!e.match) return true;
  return e.match.type === "msg"
    ? message === e.match.text
    : new RegExp(e.match.text).test(message);
}

function checkMessage(e: Expect, messages: string[]): boolean {
  return messages.some((m) => matches(e, m));
}

/**
 * Upstream's validateExpectedAnnotationsOfType: every expectation is met by
 * some annotation, and every annotation meets some expectation.
 */
function checkAnnotations(
  kind: "warn" | "info",
  expects: Expect[],
  got: string[],
): string | null {
  if (expects.length === 0) return null;
  if (got.length === 0) return `expected ${kind} annotations, got none`;
  for (const e of expects) {
    if (!checkMessage(e, got)) {
      return `expected a ${kind} matching ${e.match?.text}, got ${
        JSON.stringify(got)
      }`;
    }
  }
  for (const m of got) {
    if (!expects.some((e) => matches(e, m))) {
      return `unexpected ${kind} annotation ${JSON.stringify(m)}`;
    }
  }
  return null;
}

/** Compares a query result with the expectations; returns a mismatch or null. */
function compare(
  cmd: Extract<Command, { type: "eval" }>,
  r: QueryResult,
): string | null {
  const has = (k: Expect["kind"]) => cmd.expects.filter((e) => e.kind === k);
  const annotations = checkAnnotations("warn", has("warn"), r.warnings) ??
    checkAnnotations("info", has("info"), r.infos);
  if (annotations) return annotations;
  if (has("no_warn").length > 0 && r.warnings.length > 0) {
    return `unexpected warning ${r.warnings[0]}`;
  }
  if (has("no_info").length > 0 && r.infos.length > 0) {
    return `unexpected info ${r.infos[0]}`;
  }
  const v = r.value;
  const str = has("string")[0];
  if (str) {
    return v.type === "string" && v.v === str.text
      ? null
      : `expected string ${str.text}, got ${describe(r)}`;
  }
  if (cmd.scalar !== null) {
    if (v.type !== "scalar") {
      return `expected scalar, got ${v.type}: ${describe(r)}`;
    }
    return almostEqual(v.v, cmd.scalar)
      ? null
      : `expected ${cmd.scalar}, got ${v.v}`;
  }
  const range = has("range")[0]?.range;
  if (cmd.instant && !range) {
    if (v.type !== "vector") {
      if (v.type === "scalar" && cmd.results.length === 0) {
        return `expected empty vector, got scalar`;
      }
      return `expected vector, got ${v.type}: ${describe(r)}`;
    }
    if (v.samples.length !== cmd.results.length) {
      return `expected ${cmd.results.length} samples, got ${v.samples.length}: ${
        describe(r)
      }`;
    }
    const ordered = has("ordered").length > 0;
    const byKey = new Map(
      v.samples.map((s, i) => [labelsKey(s.metric), { s, i }]),
    );
    for (let i = 0; i < cmd.results.length; i++) {
      const exp = cmd.results[i];
      const got = byKey.get(labelsKey(exp.labels));
      if (!got) {
        return `missing ${formatLabels(exp.labels)}; got ${describe(r)}`;
      }
      if (ordered && got.i !== i) {
        return `order: ${formatLabels(exp.labels)} at ${got.i}, expected ${i}`;
      }
      const want = exp.points[0];
      if (typeof want !== "number" || exp.points.length !== 1) {
        return `bad expected line ${exp.line}`;
      }
      if (!almostEqual(got.s.v, want)) {
        return `${formatLabels(exp.labels)}: expected ${want}, got ${got.s.v}`;
      }
    }
    return null;
  }
  if (v.type !== "matrix") {
    return `expected matrix, got ${v.type}: ${describe(r)}`;
  }
  const from = range ? range.from : cmd.start;
  const step = range ? range.step : cmd.step;
  const expected = cmd.results.filter((e) => e.points.some((p) => p !== "_"));
  if (v.series.length !== expected.length) {
    return `expected ${expected.length} series, got ${v.series.length}: ${
      describe(r)
    }`;
  }
  const byKey = new Map(v.series.map((s) => [labelsKey(s.metric), s]));
  for (const exp of expected) {
    const got = byKey.get(labelsKey(exp.labels));
    if (!got) {
      return `missing series ${formatLabels(exp.labels)}; got ${describe(r)}`;
    }
    const wantTs: number[] = [];
    const wantVs: number[] = [];
    exp.points.forEach((p, i) => {
      if (p === "_") return;
      wantTs.push(from + i * step);
      wantVs.push(p === "stale" ? NaN : p);
    });
    if (wantTs.length !== got.ts.length) {
      return `${
        formatLabels(exp.labels)
      }: expected ${wantTs.length} points, got ${got.ts.length} (${
        Array.from(got.values, formatValue).join(" ")
      } at ${Array.from(got.ts).join(",")})`;
    }
    for (let i = 0; i < wantTs.length; i++) {
      if (got.ts[i] !== wantTs[i] || !almostEqual(got.values[i], wantVs[i])) {
        return `${formatLabels(exp.labels)}: point ${i}: expected ${
          wantVs[i]
        }@${wantTs[i]}, got ${got.values[i]}@${got.ts[i]}`;
      }
    }
  }
  return null;
}

/** Functions whose result varies with the evaluation time even under `@`. */
const AT_UNSAFE = new Set([
  "days_in_month",
  "day_of_month",
  "day_of_week",
  "day_of_year",
  "hour",
  "minute",
  "month",
  "year",
  "predict_linear",
  "time",
  "timestamp",
  // Query-context functions: their value is the evaluation time itself.
  "start",
  "end",
  "range",
  "step",
]);

/**
 * Upstream's atModifierTestCases: the query with `@ t` on every selector
 * and subquery lacking one (not inside a subquery that has one), to be
 * evaluated at other times with the same expected result; none when the
 * query uses a function that depends on the evaluation time.
 */
export function atModifierCases(
  query: string,
  t: number,
): { query: string; time: number }[] {
  let expr: Expr;
  try {
    expr = parse(query);
  } catch {
    return [];
  }
  let unsafe = false;
  walk(expr, (node, path) => {
    if (path.some((p) => p.type === "SubqueryExpr" && p.at !== null)) return;
    if (node.type === "VectorSelector" || node.type === "SubqueryExpr") {
      if (node.at === null) node.at = t;
    } else if (node.type === "Call" && AT_UNSAFE.has(node.func.name)) {
      unsafe = true;
    }
  });
  if (unsafe) return [];
  const text = format(expr);
  const times = t === 0 ? [-1000, 0, 1000] : [-10 * t, 0, t / 5, t, 10 * t];
  return times.map((time) => ({ query: text, time: Math.trunc(time) }));
}

const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

/**
 * Whether upstream re-checks an instant eval as a range query: not for
 * `expect range vector`/`expect string`, ordered results, or queries using
 * start()/end()/range()/step().
 */
function rangeModeApplies(cmd: Extract<Command, { type: "eval" }>): boolean {
  return cmd.instant &&
    !cmd.expects.some((e) =>
      e.kind === "range" || e.kind === "string" || e.kind === "ordered"
    ) &&
    !QUERY_CONTEXT_FUNCS.test(cmd.query);
}

/**
 * Upstream's range-mode check of an instant eval: the same query over
 * [t-1m, t+1m] step 1m must give a label-sorted matrix whose points at t
 * equal the expected result (annotations are not checked).
 */
async function checkRangeMode(
  engine: PromQLEngine,
  cmd: Extract<Command, { type: "eval" }>,
  instant: QueryResult,
): Promise<string | null> {
  const t = cmd.start;
  let r: QueryResult;
  try {
    r = await engine.rangeQuery(
      TENANT,
      cmd.query,
      t - 60_000,
      t + 60_000,
      60_000,
    );
  } catch (e) {
    return `range mode: error ${(e as Error).message}`;
  }
  if (r.value.type !== "matrix") {
    return `range mode: expected a matrix, got ${r.value.type}`;
  }
  const series = r.value.series;
  for (let i = 1; i < series.length; i++) {
    if (compareLabels(series[i - 1].metric, series[i].metric) > 0) {
      return `range mode: matrix not sorted by labels at ${i}`;
    }
  }
  const samples: VectorSample[] = [];
  for (const s of series) {
    const i = s.ts.indexOf(t);
    if (i >= 0) samples.push({ metric: s.metric, t, v: s.values[i] });
  }
  const value: QueryResult["value"] = instant.value.type === "scalar"
    ? { type: "scalar", t, v: samples[0]?.v ?? NaN }
    : { type: "vector", samples };
  const plain = {
    ...cmd,
    expects: cmd.expects.filter((e) =>
      e.kind !== "warn" && e.kind !== "info" && e.kind !== "no_warn" &&
      e.kind !== "no_info"
    ),
  };
  const mismatch = compare(plain, { value, warnings: [], infos: [] });
  return mismatch ? `range mode: ${mismatch}` : null;
}

/** Evaluates one form of an eval; returns a mismatch or null. */
async function evalOnce(
  engine: PromQLEngine,
  run: Extract<Command, { type: "eval" }> & { time: number },
): Promise<string | null> {
  const cmd = {
    ...run,
    start: run.time,
    end: run.instant ? run.time : run.end,
  };
  const fail = cmd.expects.find((e) => e.kind === "fail");
  let r: QueryResult | null = null;
  let err: unknown = null;
  try {
    r = cmd.instant
      ? await engine.instantQuery(TENANT, cmd.query, cmd.start)
      : await engine.rangeQuery(
        TENANT,
        cmd.query,
        cmd.start,
        cmd.end,
        cmd.step,
      );
  } catch (e) {
    err = e;
  }
  if (fail) {
    if (!err) return `expected an error, got ${describe(r!)}`;
    if (!(err instanceof QueryError)) return `crash: ${err}`;
    if (fail.match && !checkMessage(fail, [err.message])) {
      return `error message ${err.message}`;
    }
    return null;
  }
  if (err) {
    return `error: ${
      err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    }`;
  }
  const mismatch = compare(cmd, r!);
  if (mismatch || !rangeModeApplies(cmd)) return mismatch;
  return await checkRangeMode(engine, cmd, r!);
}

/** Options of a run. */
export interface RunOptions {
  /** Returns a reason to skip a case, or null. */
  skip?: (
    cmd: Extract<Command, { type: "eval" }>,
    histogramSeries: readonly Labels[],
  ) => string | null;
}

/** Runs a script; one result per eval. */
export async function runScript(
  text: string,
  opts: RunOptions = {},
): Promise<CaseResult[]> {
  const cmds = parseScript(text);
  const store = new Store();
  await store.open();
  const results: CaseResult[] = [];
  try {
    for (const cmd of cmds) {
      if (cmd.type === "clear") {
        await store.close();
        await store.open();
        continue;
      }
      if (cmd.type === "load") {
        await store.load(cmd.intervalMs, cmd.series, cmd.nhcb);
        continue;
      }
      const base = { line: cmd.line, query: cmd.query };
      const skip = opts.skip?.(cmd, store.histogramSeries) ?? null;
      if (skip) {
        results.push({ ...base, status: "skip", reason: skip });
        continue;
      }
      const engine = new PromQLEngine(store.db, { maxSamples: 50_000_000 });
      const runs = cmd.instant
        ? [
          { query: cmd.query, time: cmd.start },
          ...atModifierCases(cmd.query, cmd.start),
        ]
        : [{ query: cmd.query, time: cmd.start }];
      let mismatch: string | null = null;
      for (const run of runs) {
        mismatch = await evalOnce(engine, { ...cmd, ...run });
        if (mismatch) {
          if (run.query !== cmd.query || run.time !== cmd.start) {
            mismatch = `${run.query} at ${run.time}: ${mismatch}`;
          }
          break;
        }
      }
      results.push(
        mismatch
          ? { ...base, status: "fail", reason: mismatch }
          : { ...base, status: "pass" },
      );
    }
  } finally {
    await store.close();
  }
  return results;
}
