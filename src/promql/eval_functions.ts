/**
 * Instant-vector and scalar functions, and the dispatch of every call
 * (range-vector functions live in ./eval_rollups.ts, histograms in
 * ./eval_histograms.ts).
 * @module
 */
import {
  getLabel,
  type Labels,
  labelsKey,
  METRIC_NAME,
} from "../model/labels.ts";
import { compileRegex } from "../model/regex.ts";
import type { Call, Expr } from "./ast.ts";
import { compareLabels, setLabel, withoutName } from "./eval_labels.ts";
import { evalRollup } from "./eval_rollups.ts";
import {
  evalHistogramFraction,
  evalHistogramQuantile,
} from "./eval_histograms.ts";
import {
  type EvalContext,
  type EvalValue,
  positionSuffix,
  type Sample,
} from "./eval_types.ts";
import type { Evaluator } from "./evaluator.ts";
import { QueryError } from "./value.ts";
import { compareStrings } from "../model/labels.ts";

type Unary = (v: number) => number;

const MATH: Record<string, Unary> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (v) => v > 0 ? 1 : v < 0 ? -1 : v,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (v) => v * 180 / Math.PI,
  rad: (v) => v * Math.PI / 180,
};

function dateOf(v: number): Date {
  return new Date(Math.trunc(v) * 1000);
}

const TIME: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) =>
    new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

function vectorArg(ev: Evaluator, e: Expr, ctx: EvalContext): Sample[][] {
  const v = ev.eval(e, ctx);
  if (v.type !== "vector") {
    throw new QueryError(
      "execution",
      `expected an instant vector, got ${v.type}`,
    );
  }
  return v.steps;
}

function scalarArg(ev: Evaluator, e: Expr, ctx: EvalContext): Float64Array {
  const v = ev.eval(e, ctx);
  if (v.type !== "scalar") {
    throw new QueryError("execution", `expected a scalar, got ${v.type}`);
  }
  return v.v;
}

function stringArg(ev: Evaluator, e: Expr, ctx: EvalContext): string {
  const v = ev.eval(e, ctx);
  if (v.type !== "string") {
    throw new QueryError("execution", `expected a string, got ${v.type}`);
  }
  return v.v;
}

function mapValues(
  steps: Sample[][],
  f: (v: number, step: number) => number,
): EvalValue {
  return {
    type: "vector",
    steps: steps.map((s, i) =>
      s.map((x) => ({ metric: x.metric, v: f(x.v, i), dropName: true }))
    ),
  };
}

function unwrap(e: Expr): Expr {
  while (e.type === "ParenExpr") e = e.expr;
  return e;
}

/** Evaluates a function call. */
export function evalCall(
  ev: Evaluator,
  call: Call,
  ctx: EvalContext,
): EvalValue {
  const name = call.func.name;
  const n = ctx.times.length;
  const scalar = (f: (i: number) => number): EvalValue => {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = f(i);
    return { type: "scalar", v };
  };
  if (name in MATH) {
    return mapValues(vectorArg(ev, call.args[0], ctx), MATH[name]);
  }
  if (name in TIME) {
    const f = TIME[name];
    if (call.args.length === 0) {
      return {
        type: "vector",
        steps: Array.from(
          { length: n },
          (
            _,
            i,
          ) => [{
            metric: [],
            v: f(dateOf(ctx.times[i] / 1000)),
            dropName: false,
          }],
        ),
      };
    }
    const steps = vectorArg(ev, call.args[0], ctx);
    return {
      type: "vector",
      steps: steps.map((s) =>
        s.filter((x) => Number.isFinite(x.v)).map((x) => ({
          metric: x.metric,
          v: f(dateOf(x.v)),
          dropName: true,
        }))
      ),
    };
  }
  switch (name) {
    case "time":
      return scalar((i) => ctx.times[i] / 1000);
    case "pi":
      return scalar(() => Math.PI);
    case "start":
      return scalar(() => ev.queryStart / 1000);
    case "end":
      return scalar(() => ev.queryEnd / 1000);
    case "step":
      return scalar(() => ev.stepMs / 1000);
    case "range":
      return scalar(() => (ev.queryEnd - ev.queryStart) / 1000);
    case "min_of":
    case "max_of": {
      const a = scalarArg(ev, call.args[0], ctx);
      const b = scalarArg(ev, call.args[1], ctx);
      return scalar((i) =>
        name === "min_of" ? Math.min(a[i], b[i]) : Math.max(a[i], b[i])
      );
    }
    case "vector": {
      const v = scalarArg(ev, call.args[0], ctx);
      return {
        type: "vector",
        steps: Array.from(v, (x) => [{ metric: [], v: x, dropName: false }]),
      };
    }
    case "scalar": {
      const steps = vectorArg(ev, call.args[0], ctx);
      return scalar((i) => steps[i].length === 1 ? steps[i][0].v : NaN);
    }
    case "timestamp": {
      const arg = unwrap(call.args[0]);
      if (arg.type === "VectorSelector") {
        const steps = ev.selectInstant(arg, ctx, true);
        return {
          type: "vector",
          steps: steps.map((s) =>
            s.map((x) => ({ metric: x.metric, v: x.v, dropName: true }))
          ),
        };
      }
      return mapValues(
        vectorArg(ev, call.args[0], ctx),
        (_v, i) => ctx.times[i] / 1000,
      );
    }
    case "round": {
      const steps = vectorArg(ev, call.args[0], ctx);
      const to = call.args.length > 1
        ? scalarArg(ev, call.args[1], ctx)
        : new Float64Array(n).fill(1);
      return mapValues(steps, (v, i) => {
        const inv = 1 / to[i];
        return Math.floor(v * inv + 0.5) / inv;
      });
    }
    case "clamp": {
      const steps = vectorArg(ev, call.args[0], ctx);
      const lo = scalarArg(ev, call.args[1], ctx);
      const hi = scalarArg(ev, call.args[2], ctx);
      return {
        type: "vector",
        steps: steps.map((s, i) =>
          lo[i] > hi[i] ? [] : s.map((x) => ({
            metric: x.metric,
            v: Number.isNaN(lo[i]) || Number.isNaN(hi[i])
              ? NaN
              : Math.max(lo[i], Math.min(hi[i], x.v)),
            dropName: true,
          }))
        ),
      };
    }
    case "clamp_min":
    case "clamp_max": {
      const steps = vectorArg(ev, call.args[0], ctx);
      const b = scalarArg(ev, call.args[1], ctx);
      return mapValues(steps, (v, i) => {
        if (Number.isNaN(b[i]) || Number.isNaN(v)) return NaN;
        return name === "clamp_min" ? Math.max(b[i], v) : Math.min(b[i], v);
      });
    }
    case "sort":
    case "sort_desc": {
      sortWarning(ev, call);
      const steps = vectorArg(ev, call.args[0], ctx);
      const sign = name === "sort" ? 1 : -1;
      return {
        type: "vector",
        steps: steps.map((s) =>
          s.slice().sort((a, b) => {
            // NaN goes last in both directions.
            if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
            if (Number.isNaN(b.v)) return -1;
            return sign * (a.v - b.v) || 0;
          })
        ),
      };
    }
    case "sort_by_label":
    case "sort_by_label_desc": {
      sortWarning(ev, call);
      const steps = vectorArg(ev, call.args[0], ctx);
      const names = call.args.slice(1).map((a) => stringArg(ev, a, ctx));
      const sign = name === "sort_by_label" ? 1 : -1;
      return {
        type: "vector",
        steps: steps.map((s) =>
          s.slice().sort((a, b) => {
            for (const l of names) {
              const c = naturalCompare(
                getLabel(a.metric, l),
                getLabel(b.metric, l),
              );
              if (c !== 0) return sign * c;
            }
            return sign * compareLabels(a.metric, b.metric);
          })
        ),
      };
    }
    case "label_replace":
      return labelReplace(ev, call, ctx);
    case "label_join":
      return labelJoin(ev, call, ctx);
    case "absent": {
      const steps = vectorArg(ev, call.args[0], ctx);
      const metric = absentLabels(call.args[0]);
      return {
        type: "vector",
        steps: steps.map((s) =>
          s.length > 0 ? [] : [{ metric, v: 1, dropName: false }]
        ),
      };
    }
    case "absent_over_time": {
      const arg = unwrap(call.args[0]);
      if (arg.type !== "MatrixSelector" && arg.type !== "SubqueryExpr") {
        throw new QueryError(
          "execution",
          "absent_over_time needs a range vector",
        );
      }
      const w = ev.windows(arg, ctx);
      const metric = absentLabels(arg);
      const steps: Sample[][] = [];
      for (let i = 0; i < n; i++) {
        const end = w.ends[i];
        const any = w.series.some((s) => {
          // Any sample in (end - range, end]?
          let lo = 0;
          let hi = s.ts.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (s.ts[mid] <= end - w.rangeMs) lo = mid + 1;
            else hi = mid;
          }
          return lo < s.ts.length && s.ts[lo] <= end;
        });
        steps.push(any ? [] : [{ metric, v: 1, dropName: false }]);
      }
      return { type: "vector", steps };
    }
    case "histogram_quantile":
      return evalHistogramQuantile(
        ev,
        scalarArg(ev, call.args[0], ctx),
        vectorArg(ev, call.args[1], ctx),
        positionSuffix(call.args[0]),
        positionSuffix(call.args[1]),
      );
    case "histogram_fraction":
      return evalHistogramFraction(
        ev,
        scalarArg(ev, call.args[0], ctx),
        scalarArg(ev, call.args[1], ctx),
        vectorArg(ev, call.args[2], ctx),
        positionSuffix(call.args[2]),
      );
    case "histogram_count":
    case "histogram_sum":
    case "histogram_avg":
    case "histogram_stddev":
    case "histogram_stdvar": {
      // Only native histograms have these; float samples give nothing.
      vectorArg(ev, call.args[0], ctx);
      return { type: "vector", steps: Array.from({ length: n }, () => []) };
    }
  }
  if (call.func.argTypes.includes("matrix")) return evalRollup(ev, call, ctx);
  throw new QueryError("execution", `function ${name} is not supported`);
}

/** Labels absent() derives from the equality matchers of its selector. */
function absentLabels(e: Expr): Labels {
  e = unwrap(e);
  const vs = e.type === "VectorSelector"
    ? e
    : e.type === "MatrixSelector"
    ? e.selector
    : null;
  if (!vs) return [];
  const set = new Map<string, string>();
  const conflicting = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === "=" && !set.has(m.name)) set.set(m.name, m.value);
    else conflicting.add(m.name);
  }
  for (const name of conflicting) set.delete(name);
  let out: Labels = [];
  for (const [k, v] of set) out = setLabel(out, k, v);
  return out;
}

function checkLabelName(name: string, fn: string): void {
  // The lexer decodes invalid UTF-8 bytes of a string literal (e.g. "\xff")
  // to U+FFFD, so that character stands for an invalid name here.
  if (name === "" || !name.isWellFormed() || name.includes("\uFFFD")) {
    throw new QueryError(
      "execution",
      `invalid label name ${JSON.stringify(name)} in ${fn}`,
    );
  }
}

/** Rejects duplicate label sets in one step (label_replace/label_join). */
function checkUnique(steps: Sample[][]): void {
  for (const s of steps) {
    const seen = new Set<string>();
    for (const x of s) {
      const key = labelsKey(x.dropName ? withoutName(x.metric) : x.metric);
      if (seen.has(key)) {
        throw new QueryError(
          "execution",
          "vector cannot contain metrics with the same labelset",
        );
      }
      seen.add(key);
    }
  }
}

function labelReplace(ev: Evaluator, call: Call, ctx: EvalContext): EvalValue {
  const steps = vectorArg(ev, call.args[0], ctx);
  const dst = stringArg(ev, call.args[1], ctx);
  const repl = stringArg(ev, call.args[2], ctx);
  const src = stringArg(ev, call.args[3], ctx);
  const pattern = stringArg(ev, call.args[4], ctx);
  let re: RegExp;
  try {
    compileRegex(pattern); // validates RE2 syntax
    // Capture groups are needed here, so build the JS pattern directly.
    re = new RegExp(`^(?:${pattern.replace(/\(\?P</g, "(?<")})$`, "su");
  } catch (e) {
    throw new QueryError(
      "execution",
      `invalid regular expression in label_replace(): ${pattern}: ${
        (e as Error).message
      }`,
    );
  }
  checkLabelName(dst, "label_replace()");
  const cache = new Map<Labels, Sample>();
  const out = steps.map((s) =>
    s.map((x) => {
      const hit = re.exec(getLabel(x.metric, src));
      if (!hit) return x;
      let metric = cache.get(x.metric)?.metric;
      if (!metric) {
        const value = expandTemplate(repl, hit);
        metric = setLabel(x.metric, dst, value);
        cache.set(x.metric, { metric, v: 0, dropName: false });
      }
      return {
        metric,
        v: x.v,
        dropName: dst === METRIC_NAME ? false : x.dropName,
      };
    })
  );
  checkUnique(out);
  return { type: "vector", steps: out };
}

/** Go regexp's `$1`, `${1}`, `$name`, `${name}`, `$$` expansion. */
function expandTemplate(tpl: string, m: RegExpExecArray): string {
  return tpl.replace(
    /\$(\$|\{(\w+)\}|(\w+))/g,
    (_all, d: string, braced?: string, bare?: string) => {
      if (d === "$") return "$";
      const ref = braced ?? bare ?? "";
      if (/^\d+$/.test(ref)) return m[Number(ref)] ?? "";
      return m.groups?.[ref] ?? "";
    },
  );
}

function labelJoin(ev: Evaluator, call: Call, ctx: EvalContext): EvalValue {
  const steps = vectorArg(ev, call.args[0], ctx);
  const dst = stringArg(ev, call.args[1], ctx);
  const sep = stringArg(ev, call.args[2], ctx);
  const srcs = call.args.slice(3).map((a) => stringArg(ev, a, ctx));
  checkLabelName(dst, "label_join()");
  for (const s of srcs) checkLabelName(s, "label_join()");
  const out = steps.map((s) =>
    s.map((x) => ({
      metric: setLabel(
        x.metric,
        dst,
        srcs.map((l) => getLabel(x.metric, l)).join(sep),
      ),
      v: x.v,
      dropName: dst === METRIC_NAME ? false : x.dropName,
    }))
  );
  checkUnique(out);
  return { type: "vector", steps: out };
}

function sortWarning(ev: Evaluator, call: Call): void {
  if (ev.stepMs > 0) {
    ev.warnings.add(
      `PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:${
        call.start + 1
      })`,
    );
  }
}

/** Natural order (digit runs compared as numbers), as sort_by_label uses. */
function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  const re = /(\d+)|(\D+)/g;
  const xs = a.match(re) ?? [];
  const ys = b.match(re) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = ys[i];
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return compareStrings(x, y);
    }
    return compareStrings(x, y);
  }
  return xs.length - ys.length;
}
