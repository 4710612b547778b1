/**
 * Aggregation operators: samples grouped per step by their `by`/`without`
 * labels (the metric name always goes unless named in `by`).
 * @module
 */
import { type Labels, labelsKey, METRIC_NAME } from "../model/labels.ts";
import type { AggregateExpr } from "./ast.ts";
import { dropLabels, keepLabels, setLabel } from "./eval_labels.ts";
import { kahanSum, mean, quantile, variance } from "./eval_math.ts";
import {
  type EvalContext,
  type EvalValue,
  positionSuffix,
  type Sample,
} from "./eval_types.ts";
import type { Evaluator } from "./evaluator.ts";
import { formatValue } from "./format_value.ts";
import { labelsXxhash } from "./label_hash.ts";
import { QueryError } from "./value.ts";
import { columnsOf, type VectorColumns } from "./columns.ts";

interface Group {
  metric: Labels;
  samples: Sample[];
  /** Some member's name is to be dropped (only matters with `by (__name__)`). */
  dropName: boolean;
}

/** Evaluates `op by|without (...) ([param,] expr)`. */
export function evalAggregate(
  ev: Evaluator,
  e: AggregateExpr,
  ctx: EvalContext,
): EvalValue {
  const input = ev.eval(e.expr, ctx);
  if (input.type !== "vector") {
    throw new QueryError("execution", `cannot aggregate a ${input.type}`);
  }
  let param: Float64Array | null = null;
  let label = "";
  if (e.param) {
    const p = ev.eval(e.param, ctx);
    if (p.type === "scalar") param = p.v;
    else if (p.type === "string") label = p.v;
  }
  if (e.op === "count_values" && (label === "" || !label.isWellFormed())) {
    throw new QueryError(
      "execution",
      `invalid label name ${JSON.stringify(label)}`,
    );
  }
  const names = new Set(e.grouping);
  if (e.without) names.add(METRIC_NAME);
  const cols = columnsOf(input);
  if (cols && COLUMNAR_OPS.has(e.op)) {
    return { type: "vector", steps: aggregateColumns(ev, e, cols, names) };
  }
  if (cols && param && (e.op === "topk" || e.op === "bottomk")) {
    const steps = topkColumns(ev, e, cols, names, param);
    if (steps) return { type: "vector", steps };
  }
  const steps = input.steps.map((samples, i) => {
    ev.checkDeadline();
    const groups = new Map<string, Group>();
    for (const s of samples) {
      // The to-be-dropped name still partitions `by (__name__)` (as in Prometheus 3).
      const metric = e.without
        ? dropLabels(s.metric, names)
        : keepLabels(s.metric, names);
      const key = labelsKey(metric);
      let g = groups.get(key);
      if (!g) {
        g = { metric, samples: [], dropName: false };
        groups.set(key, g);
      }
      g.samples.push(s);
      if (s.dropName) g.dropName = true;
    }
    return aggregateStep(
      ev,
      e,
      [...groups.values()],
      param ? param[i] : NaN,
      label,
    );
  });
  return { type: "vector", steps };
}

/** Operators computed straight from columns (a value list per group and step). */
const COLUMNAR_OPS = new Set([
  "sum",
  "avg",
  "count",
  "group",
  "min",
  "max",
  "stddev",
  "stdvar",
]);

/** Each series' group (by its `by`/`without` labels), groups in first-seen order. */
function groupSeries(
  e: AggregateExpr,
  cols: VectorColumns,
  names: ReadonlySet<string>,
): { groupOf: Int32Array; groupMetrics: Labels[]; sizes: number[] } {
  const nSeries = cols.metrics.length;
  const groupOf = new Int32Array(nSeries);
  const groupMetrics: Labels[] = [];
  const sizes: number[] = [];
  const byKey = new Map<string, number>();
  for (let s = 0; s < nSeries; s++) {
    const metric = e.without
      ? dropLabels(cols.metrics[s], names)
      : keepLabels(cols.metrics[s], names);
    const key = labelsKey(metric);
    let g = byKey.get(key);
    if (g === undefined) {
      g = groupMetrics.length;
      byKey.set(key, g);
      groupMetrics.push(metric);
      sizes.push(0);
    }
    groupOf[s] = g;
    sizes[g]++;
  }
  return { groupOf, groupMetrics, sizes };
}

/** Largest k the columnar topk keeps by insertion (beyond it: the sort). */
const TOPK_INSERTION_MAX = 64;

/**
 * topk/bottomk from columns: per step and group, the first k samples of a
 * stable sort by value (NaN last), kept by insertion into a list of at most
 * k series, which yields the same samples in the same order as sorting.
 * Null when some step's k is too large for insertion.
 */
function topkColumns(
  ev: Evaluator,
  e: AggregateExpr,
  cols: VectorColumns,
  names: ReadonlySet<string>,
  param: Float64Array,
): Sample[][] | null {
  const { nSteps, values, present, metrics } = cols;
  const ks = new Array<number>(nSteps);
  for (let i = 0; i < nSteps; i++) {
    ks[i] = kOf(param[i]);
    if (ks[i] > TOPK_INSERTION_MAX) return null;
  }
  const nSeries = metrics.length;
  const { groupOf, groupMetrics } = groupSeries(e, cols, names);
  const nGroups = groupMetrics.length;
  const desc = e.op === "topk";
  // Series a sorts before series b (same rule as byValue; NaN last).
  const before = (a: number, b: number): boolean => {
    if (Number.isNaN(a)) return false;
    if (Number.isNaN(b)) return true;
    return (desc ? b - a : a - b) < 0;
  };
  const kept = new Int32Array(nGroups * TOPK_INSERTION_MAX);
  const count = new Int32Array(nGroups);
  const stamp = new Int32Array(nGroups).fill(-1);
  const order = new Int32Array(nGroups);
  const steps: Sample[][] = new Array(nSteps);
  for (let i = 0; i < nSteps; i++) {
    ev.checkDeadline();
    const k = ks[i];
    const out: Sample[] = [];
    steps[i] = out;
    if (k < 1) continue;
    const base = i * nSeries;
    let nOrder = 0;
    for (let s = 0; s < nSeries; s++) {
      if (present[base + s] === 0) continue;
      const g = groupOf[s];
      if (stamp[g] !== i) {
        stamp[g] = i;
        order[nOrder++] = g;
        count[g] = 0;
      }
      const list = g * TOPK_INSERTION_MAX;
      const v = values[base + s];
      const m = count[g];
      // After every kept sample that is not strictly after this one.
      let p = m;
      while (p > 0 && before(v, values[base + kept[list + p - 1]])) p--;
      if (p >= k) continue;
      const end = m < k ? m : k - 1;
      for (let j = end; j > p; j--) kept[list + j] = kept[list + j - 1];
      kept[list + p] = s;
      if (m < k) count[g] = m + 1;
    }
    for (let o = 0; o < nOrder; o++) {
      const g = order[o];
      const list = g * TOPK_INSERTION_MAX;
      for (let j = 0; j < count[g]; j++) {
        const s = kept[list + j];
        out.push({
          metric: metrics[s],
          v: values[base + s],
          dropName: cols.dropName[s] === 1,
        });
      }
    }
  }
  return steps;
}

/**
 * The columnar form of the per-step grouping above: each series' group is
 * found once; per step, the present members' values are gathered (series
 * order) into one scratch buffer and reduced with the same functions, and
 * groups come out in the order their first member appears at that step,
 * so results are those of the per-step path exactly.
 */
function aggregateColumns(
  ev: Evaluator,
  e: AggregateExpr,
  cols: VectorColumns,
  names: ReadonlySet<string>,
): Sample[][] {
  const nSeries = cols.metrics.length;
  const { groupOf, groupMetrics, sizes } = groupSeries(e, cols, names);
  const nGroups = groupMetrics.length;
  // Group g's values at a step go to buf[offset[g] ...].
  const offset = new Int32Array(nGroups);
  for (let g = 1; g < nGroups; g++) offset[g] = offset[g - 1] + sizes[g - 1];
  const buf = new Float64Array(nSeries);
  const count = new Int32Array(nGroups);
  const stamp = new Int32Array(nGroups).fill(-1);
  const dropName = new Uint8Array(nGroups);
  const order = new Int32Array(nGroups);
  const { values, present, nSteps } = cols;
  const steps: Sample[][] = new Array(nSteps);
  for (let i = 0; i < nSteps; i++) {
    ev.checkDeadline();
    let nOrder = 0;
    const base = i * nSeries;
    for (let s = 0; s < nSeries; s++) {
      if (present[base + s] === 0) continue;
      const g = groupOf[s];
      if (stamp[g] !== i) {
        stamp[g] = i;
        order[nOrder++] = g;
        count[g] = 0;
        dropName[g] = 0;
      }
      buf[offset[g] + count[g]++] = values[base + s];
      if (cols.dropName[s]) dropName[g] = 1;
    }
    const out: Sample[] = new Array(nOrder);
    for (let k = 0; k < nOrder; k++) {
      const g = order[k];
      const lo = offset[g];
      const hi = lo + count[g];
      let v: number;
      switch (e.op) {
        case "sum":
          v = kahanSum(buf, lo, hi);
          break;
        case "avg":
          v = mean(buf, lo, hi);
          break;
        case "count":
          v = hi - lo;
          break;
        case "group":
          v = 1;
          break;
        case "min":
        case "max": {
          const isMax = e.op === "max";
          v = buf[lo];
          for (let j = lo; j < hi; j++) {
            const x = buf[j];
            if ((isMax ? x > v : x < v) || Number.isNaN(v)) v = x;
          }
          break;
        }
        case "stddev":
          v = Math.sqrt(variance(buf, lo, hi));
          break;
        default:
          v = variance(buf, lo, hi);
      }
      out[k] = { metric: groupMetrics[g], v, dropName: dropName[g] === 1 };
    }
    steps[i] = out;
  }
  return steps;
}

function kOf(p: number): number {
  if (Number.isNaN(p)) {
    throw new QueryError("execution", "Parameter value is NaN");
  }
  if (p >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (p <= -Number.MAX_SAFE_INTEGER) return 0;
  return Math.trunc(p);
}

function byValue(desc: boolean) {
  return (a: Sample, b: Sample): number => {
    // NaN sorts after every number for topk and bottomk alike.
    if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
    if (Number.isNaN(b.v)) return -1;
    return desc ? b.v - a.v : a.v - b.v;
  };
}

function aggregateStep(
  ev: Evaluator,
  e: AggregateExpr,
  groups: Group[],
  param: number,
  label: string,
): Sample[] {
  const out: Sample[] = [];
  const values = (g: Group) => g.samples.map((s) => s.v);
  switch (e.op) {
    case "sum":
      for (const g of groups) {
        out.push({
          metric: g.metric,
          v: kahanSum(values(g)),
          dropName: g.dropName,
        });
      }
      break;
    case "avg":
      for (const g of groups) {
        out.push({
          metric: g.metric,
          v: mean(values(g)),
          dropName: g.dropName,
        });
      }
      break;
    case "count":
      for (const g of groups) {
        out.push({
          metric: g.metric,
          v: g.samples.length,
          dropName: g.dropName,
        });
      }
      break;
    case "group":
      for (const g of groups) {
        out.push({ metric: g.metric, v: 1, dropName: g.dropName });
      }
      break;
    case "min":
    case "max":
      for (const g of groups) {
        let m = g.samples[0].v;
        for (const s of g.samples) {
          if ((e.op === "max" ? s.v > m : s.v < m) || Number.isNaN(m)) m = s.v;
        }
        out.push({ metric: g.metric, v: m, dropName: g.dropName });
      }
      break;
    case "stddev":
    case "stdvar":
      for (const g of groups) {
        const v = variance(values(g));
        out.push({
          metric: g.metric,
          v: e.op === "stddev" ? Math.sqrt(v) : v,
          dropName: g.dropName,
        });
      }
      break;
    case "quantile":
      if (!(param >= 0 && param <= 1)) {
        ev.warnings.add(
          `PromQL warning: quantile value should be between 0 and 1, got ${
            formatValue(param)
          }${positionSuffix(e.param!)}`,
        );
      }
      for (const g of groups) {
        out.push({
          metric: g.metric,
          v: quantile(param, values(g)),
          dropName: g.dropName,
        });
      }
      break;
    case "count_values": {
      for (const g of groups) {
        const counts = new Map<string, number>();
        for (const s of g.samples) {
          const key = formatValue(s.v);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        for (const [value, count] of counts) {
          out.push({
            metric: setLabel(g.metric, label, value),
            v: count,
            dropName: g.dropName,
          });
        }
      }
      break;
    }
    case "topk":
    case "bottomk": {
      const k = kOf(param);
      if (groups.length === 0) break;
      if (k < 1) break;
      for (const g of groups) {
        const sorted = g.samples.slice().sort(byValue(e.op === "topk"));
        out.push(...sorted.slice(0, k));
      }
      break;
    }
    case "limitk": {
      const k = kOf(param);
      if (groups.length === 0) break;
      if (k < 1) break;
      for (const g of groups) out.push(...g.samples.slice(0, k));
      break;
    }
    case "limit_ratio": {
      if (Number.isNaN(param)) {
        throw new QueryError("execution", "Ratio value is NaN");
      }
      if (groups.length === 0) break;
      let r = param;
      if (r < -1 || r > 1) {
        ev.warnings.add(
          `PromQL warning: ratio value should be between -1 and 1, got ${
            formatValue(r)
          }, capping to ${r < 0 ? -1 : 1}${positionSuffix(e.param!)}`,
        );
        r = r < 0 ? -1 : 1;
      }
      for (const g of groups) {
        for (const s of g.samples) {
          const offset = labelsXxhash(s.metric) / 18446744073709551615;
          if ((r >= 0 && offset < r) || (r < 0 && offset >= 1 + r)) out.push(s);
        }
      }
      break;
    }
  }
  return out;
}
