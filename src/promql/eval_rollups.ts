/**
 * Range-vector functions (rate, increase, *_over_time, …): for every series
 * and step, the samples in the left-open window (end - range, end] are a
 * slice of the series' arrays found by binary search.
 * @module
 */
import type { Call, MatrixSelector, SubqueryExpr } from "./ast.ts";
import {
  type EvalContext,
  type EvalValue,
  positionSuffix,
  type Sample,
} from "./eval_types.ts";
import { type Evaluator, upperBound } from "./evaluator.ts";
import { kahanInc, kahanSum, mean, quantile, variance } from "./eval_math.ts";
import { QueryError } from "./value.ts";
import { ColumnarVector, columnsFit } from "./columns.ts";

/** A window function: returns null for "no sample at this step". */
type WindowFn = (
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  end: number,
  rangeMs: number,
  step: number,
) => number | null;

/** Functions that keep the metric name. */
const KEEPS_NAME = new Set(["last_over_time", "first_over_time"]);

function unwrapRange(e: Call["args"][number]): MatrixSelector | SubqueryExpr {
  let x = e;
  while (x.type === "ParenExpr") x = x.expr;
  if (x.type !== "MatrixSelector" && x.type !== "SubqueryExpr") {
    throw new QueryError("execution", `expected a range vector, got ${x.type}`);
  }
  return x;
}

function scalarArg(
  ev: Evaluator,
  call: Call,
  i: number,
  ctx: EvalContext,
): Float64Array {
  const v = ev.eval(call.args[i], ctx);
  if (v.type !== "scalar") {
    throw new QueryError(
      "execution",
      `argument ${i + 1} of ${call.func.name} must be a scalar`,
    );
  }
  return v.v;
}

/** Evaluates a call whose range-vector argument is windowed per step. */
export function evalRollup(
  ev: Evaluator,
  call: Call,
  ctx: EvalContext,
): EvalValue {
  const name = call.func.name;
  const matrixIndex = call.func.argTypes.indexOf("matrix");
  let fn: WindowFn;
  let params: Float64Array[] = [];
  switch (name) {
    case "quantile_over_time":
    case "predict_linear":
    case "double_exponential_smoothing":
      params = call.args.map((_, i) =>
        i === matrixIndex ? new Float64Array(0) : scalarArg(ev, call, i, ctx)
      );
  }
  switch (name) {
    case "rate":
      fn = (ts, vs, lo, hi, end, r) =>
        extrapolatedRate(ts, vs, lo, hi, end, r, true, true);
      break;
    case "increase":
      fn = (ts, vs, lo, hi, end, r) =>
        extrapolatedRate(ts, vs, lo, hi, end, r, true, false);
      break;
    case "delta":
      fn = (ts, vs, lo, hi, end, r) =>
        extrapolatedRate(ts, vs, lo, hi, end, r, false, false);
      break;
    case "irate":
    case "idelta":
      fn = (ts, vs, lo, hi) => {
        if (hi - lo < 2) return null;
        const last = vs[hi - 1];
        const prev = vs[hi - 2];
        if (name === "idelta") return last - prev;
        const dt = (ts[hi - 1] - ts[hi - 2]) / 1000;
        if (dt === 0) return null;
        return (last < prev ? last : last - prev) / dt;
      };
      break;
    case "resets":
      fn = (_ts, vs, lo, hi) => {
        let n = 0;
        for (let i = lo + 1; i < hi; i++) if (vs[i] < vs[i - 1]) n++;
        return n;
      };
      break;
    case "changes":
      fn = (_ts, vs, lo, hi) => {
        let n = 0;
        for (let i = lo + 1; i < hi; i++) {
          const a = vs[i - 1];
          const b = vs[i];
          if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) n++;
        }
        return n;
      };
      break;
    case "deriv":
      fn = (ts, vs, lo, hi) =>
        hi - lo < 2 ? null : linearRegression(ts, vs, lo, hi, ts[lo])[0];
      break;
    case "predict_linear":
      fn = (ts, vs, lo, hi, _end, _r, step) => {
        if (hi - lo < 2) return null;
        // The intercept is at the evaluation time, even under `@`.
        const [slope, intercept] = linearRegression(
          ts,
          vs,
          lo,
          hi,
          ctx.times[step],
        );
        return intercept + slope * params[1][step];
      };
      break;
    case "avg_over_time":
      fn = (_ts, vs, lo, hi) => mean(vs, lo, hi);
      break;
    case "sum_over_time":
      fn = (_ts, vs, lo, hi) => kahanSum(vs, lo, hi);
      break;
    case "count_over_time":
      fn = (_ts, _vs, lo, hi) => hi - lo;
      break;
    case "min_over_time":
    case "max_over_time":
      fn = (_ts, vs, lo, hi) => {
        let m = vs[lo];
        for (let i = lo + 1; i < hi; i++) {
          const v = vs[i];
          if ((name === "max_over_time" ? v > m : v < m) || Number.isNaN(m)) {
            m = v;
          }
        }
        return m;
      };
      break;
    case "last_over_time":
      fn = (_ts, vs, _lo, hi) => vs[hi - 1];
      break;
    case "first_over_time":
      fn = (_ts, vs, lo) => vs[lo];
      break;
    case "ts_of_last_over_time":
      fn = (ts, _vs, _lo, hi) => ts[hi - 1] / 1000;
      break;
    case "ts_of_first_over_time":
      fn = (ts, _vs, lo) => ts[lo] / 1000;
      break;
    case "ts_of_min_over_time":
    case "ts_of_max_over_time":
      fn = (ts, vs, lo, hi) => {
        let m = vs[lo];
        let at = ts[lo];
        for (let i = lo + 1; i < hi; i++) {
          const v = vs[i];
          if (
            (name === "ts_of_max_over_time" ? v >= m : v <= m) ||
            Number.isNaN(m)
          ) {
            m = v;
            at = ts[i];
          }
        }
        return at / 1000;
      };
      break;
    case "stddev_over_time":
      fn = (_ts, vs, lo, hi) => Math.sqrt(variance(vs, lo, hi));
      break;
    case "stdvar_over_time":
      fn = (_ts, vs, lo, hi) => variance(vs, lo, hi);
      break;
    case "quantile_over_time":
      for (const q of params[0]) {
        if (!(q >= 0 && q <= 1)) {
          ev.warnings.add(
            `PromQL warning: quantile value should be between 0 and 1, got ${q}${
              positionSuffix(call.args[0])
            }`,
          );
        }
      }
      fn = (_ts, vs, lo, hi, _e, _r, step) =>
        quantile(params[0][step], Array.from(vs.subarray(lo, hi)));
      break;
    case "mad_over_time":
      fn = (_ts, vs, lo, hi) => {
        const window = Array.from(vs.subarray(lo, hi));
        // A NaN makes the median, hence the deviation, undefined.
        if (window.some(Number.isNaN)) return NaN;
        const median = quantile(0.5, window);
        return quantile(0.5, window.map((v) => Math.abs(v - median)));
      };
      break;
    case "present_over_time":
      fn = () => 1;
      break;
    case "double_exponential_smoothing":
      fn = (_ts, vs, lo, hi, _e, _r, step) => {
        const sf = params[1][step];
        const tf = params[2][step];
        if (!(sf > 0 && sf < 1)) {
          throw new QueryError(
            "execution",
            `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`,
          );
        }
        if (!(tf > 0 && tf < 1)) {
          throw new QueryError(
            "execution",
            `invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`,
          );
        }
        if (hi - lo < 2) return null;
        let s1 = vs[lo];
        let b = vs[lo + 1] - vs[lo];
        let s0 = s1;
        for (let i = lo + 1; i < hi; i++) {
          if (i > lo + 1) b = tf * (s1 - s0) + (1 - tf) * b;
          s0 = s1;
          s1 = sf * vs[i] + (1 - sf) * (s0 + b);
        }
        return s1;
      };
      break;
    default:
      throw new QueryError("execution", `function ${name} is not supported`);
  }
  const range = unwrapRange(call.args[matrixIndex]);
  const w = ev.windows(range, ctx);
  const keep = KEEPS_NAME.has(name);
  const nSteps = ctx.times.length;
  const nSeries = w.series.length;
  const columnar = columnsFit(nSeries, nSteps);
  const values = columnar ? new Float64Array(nSeries * nSteps) : null;
  const present = columnar ? new Uint8Array(nSeries * nSteps) : null;
  const steps: Sample[][] | null = columnar
    ? null
    : Array.from({ length: nSteps }, () => []);
  for (let k = 0; k < nSeries; k++) {
    const s = w.series[k];
    let lo = 0;
    let hi = 0;
    let prevEnd = -Infinity;
    for (let i = 0; i < w.ends.length; i++) {
      const end = w.ends[i];
      if (end >= prevEnd) {
        // Windows move forward: continue the previous search.
        lo = upperBound(s.ts, end - w.rangeMs, lo);
        hi = upperBound(s.ts, end, Math.max(hi, lo));
      } else {
        lo = upperBound(s.ts, end - w.rangeMs);
        hi = upperBound(s.ts, end, lo);
      }
      prevEnd = end;
      if (hi <= lo) continue;
      const v = fn(s.ts, s.vs, lo, hi, end, w.rangeMs, i);
      if (v === null) continue;
      if (values && present) {
        values[i * nSeries + k] = v;
        present[i * nSeries + k] = 1;
      } else {
        steps![i].push({
          metric: s.metric,
          v,
          dropName: keep ? s.dropName : true,
        });
      }
    }
    ev.checkDeadline();
  }
  if (values && present) {
    const dropName = new Uint8Array(nSeries);
    for (let k = 0; k < nSeries; k++) {
      dropName[k] = keep && !w.series[k].dropName ? 0 : 1;
    }
    return new ColumnarVector({
      metrics: w.series.map((s) => s.metric),
      dropName,
      nSteps,
      values,
      present,
    });
  }
  return { type: "vector", steps: steps! };
}

/** Prometheus' rate/increase/delta with extrapolation to the window edges. */
function extrapolatedRate(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  end: number,
  rangeMs: number,
  isCounter: boolean,
  isRate: boolean,
): number | null {
  if (hi - lo < 2) return null;
  const first = vs[lo];
  let result = vs[hi - 1] - first;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      if (vs[i] < prev) result += prev;
      prev = vs[i];
    }
  }
  const rangeStart = end - rangeMs;
  let durationToStart = (ts[lo] - rangeStart) / 1000;
  let durationToEnd = (end - ts[hi - 1]) / 1000;
  const sampled = (ts[hi - 1] - ts[lo]) / 1000;
  const avgGap = sampled / (hi - lo - 1);
  const threshold = avgGap * 1.1;
  if (durationToStart >= threshold) durationToStart = avgGap / 2;
  if (isCounter && result > 0 && first >= 0) {
    const toZero = sampled * (first / result);
    if (toZero < durationToStart) durationToStart = toZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avgGap / 2;
  let factor = (sampled + durationToStart + durationToEnd) / sampled;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Least-squares slope and intercept, x in seconds relative to `interceptTime`. */
function linearRegression(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  interceptTime: number,
): [number, number] {
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = vs[lo];
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = vs[i];
    if (constY && i > lo && y !== initY) constY = false;
    n++;
    const x = (ts[i] - interceptTime) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(y, sumY, cY);
    [sumXY, cXY] = kahanInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - sumX * sumY / n;
  const varX = sumX2 - sumX * sumX / n;
  const slope = covXY / varX;
  return [slope, sumY / n - slope * sumX / n];
}
