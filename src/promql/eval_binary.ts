/**
 * Binary operators: scalar/scalar, vector/scalar and vector/vector with
 * on/ignoring matching, group_left/group_right, `bool`, and the set
 * operators and/or/unless.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import { getLabel } from "../model/labels.ts";
import type { BinaryExpr, BinaryOp, VectorMatching } from "./ast.ts";
import { dropLabels, keepLabels, setLabel, signature } from "./eval_labels.ts";
import { goMod, goPow } from "./eval_math.ts";
import type { EvalContext, EvalValue, Sample } from "./eval_types.ts";
import type { Evaluator } from "./evaluator.ts";
import { labelsKey } from "../model/labels.ts";
import { QueryError } from "./value.ts";

const ARITHMETIC = new Set<BinaryOp>(["+", "-", "*", "/", "%", "^", "atan2"]);
const COMPARISON = new Set<BinaryOp>(["==", "!=", "<", "<=", ">", ">="]);

/** `[value, keep]` of `l op r` (comparisons keep `l` when true). */
function apply(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case "+":
      return [l + r, true];
    case "-":
      return [l - r, true];
    case "*":
      return [l * r, true];
    case "/":
      return [l / r, true];
    case "%":
      return [goMod(l, r), true];
    case "^":
      return [goPow(l, r), true];
    case "atan2":
      return [Math.atan2(l, r), true];
    case "==":
      return [l, l === r];
    case "!=":
      return [l, l !== r];
    case "<":
      return [l, l < r];
    case "<=":
      return [l, l <= r];
    case ">":
      return [l, l > r];
    case ">=":
      return [l, l >= r];
  }
  throw new QueryError("execution", `operator ${op} not supported for floats`);
}

/** Evaluates a binary expression. */
export function evalBinary(
  ev: Evaluator,
  e: BinaryExpr,
  ctx: EvalContext,
): EvalValue {
  const l = ev.eval(e.lhs, ctx);
  const r = ev.eval(e.rhs, ctx);
  const op = e.op;
  const dropsName = ARITHMETIC.has(op) || e.returnBool;
  if (l.type === "scalar" && r.type === "scalar") {
    const out = new Float64Array(l.v.length);
    for (let i = 0; i < out.length; i++) {
      const [v, keep] = apply(op, l.v[i], r.v[i]);
      out[i] = COMPARISON.has(op) ? (keep ? 1 : 0) : v;
    }
    return { type: "scalar", v: out };
  }
  if (l.type === "vector" && r.type === "scalar") {
    return vectorScalar(l.steps, r.v, op, false, e.returnBool, dropsName);
  }
  if (l.type === "scalar" && r.type === "vector") {
    return vectorScalar(r.steps, l.v, op, true, e.returnBool, dropsName);
  }
  if (l.type !== "vector" || r.type !== "vector") {
    throw new QueryError(
      "execution",
      `binary ${op} on ${l.type} and ${r.type}`,
    );
  }
  const matching: VectorMatching = e.matching ??
    {
      card: "one-to-one",
      on: false,
      labels: [],
      include: [],
      fillLeft: null,
      fillRight: null,
    };
  const names = new Set(matching.labels);
  const steps = l.steps.map((ls, i) => {
    ev.checkDeadline();
    const rs = r.steps[i];
    switch (op) {
      case "and": {
        const right = new Set(
          rs.map((s) => signature(s.metric, matching.on, names)),
        );
        return ls.filter((s) =>
          right.has(signature(s.metric, matching.on, names))
        );
      }
      case "or": {
        const left = new Set(
          ls.map((s) => signature(s.metric, matching.on, names)),
        );
        return ls.concat(
          rs.filter((s) => !left.has(signature(s.metric, matching.on, names))),
        );
      }
      case "unless": {
        const right = new Set(
          rs.map((s) => signature(s.metric, matching.on, names)),
        );
        return ls.filter((s) =>
          !right.has(signature(s.metric, matching.on, names))
        );
      }
    }
    return vectorVector(ls, rs, op, matching, names, e.returnBool, dropsName);
  });
  return { type: "vector", steps };
}

function vectorScalar(
  steps: Sample[][],
  scalar: Float64Array,
  op: BinaryOp,
  swap: boolean,
  returnBool: boolean,
  dropsName: boolean,
): EvalValue {
  const comparison = COMPARISON.has(op);
  return {
    type: "vector",
    steps: steps.map((samples, i) => {
      const out: Sample[] = [];
      const s = scalar[i];
      for (const x of samples) {
        let [v, keep] = swap ? apply(op, s, x.v) : apply(op, x.v, s);
        if (comparison && swap) v = x.v;
        if (returnBool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (!keep) continue;
        out.push({ metric: x.metric, v, dropName: dropsName || x.dropName });
      }
      return out;
    }),
  };
}

function vectorVector(
  lhs: Sample[],
  rhs: Sample[],
  op: BinaryOp,
  matching: VectorMatching,
  names: ReadonlySet<string>,
  returnBool: boolean,
  dropsName: boolean,
): Sample[] {
  if (matching.card === "many-to-many") {
    throw new QueryError(
      "execution",
      "many-to-many only allowed for set operators",
    );
  }
  const swapped = matching.card === "one-to-many";
  if (swapped) [lhs, rhs] = [rhs, lhs];
  const right = new Map<string, Sample>();
  for (const s of rhs) {
    const sig = signature(s.metric, matching.on, names);
    const dup = right.get(sig);
    if (dup) {
      const matched = matching.on
        ? keepLabels(s.metric, names)
        : dropLabels(s.metric, new Set([...names, "__name__"]));
      throw new QueryError(
        "execution",
        `found duplicate series for the match group ${
          labelsString(matched)
        } on the ${swapped ? "left" : "right"} hand-side of the operation: [${
          [labelsString(s.metric), labelsString(dup.metric)].sort().join(", ")
        }];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(sig, s);
  }
  const matched = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const ls of lhs) {
    const sig = signature(ls.metric, matching.on, names);
    const rs = right.get(sig);
    if (!rs) continue;
    const seen = matched.get(sig);
    if (matching.card === "one-to-one") {
      if (seen !== undefined) {
        throw new QueryError(
          "execution",
          "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
        );
      }
      matched.set(sig, null);
    }
    const [fl, fr] = swapped ? [rs.v, ls.v] : [ls.v, rs.v];
    let [v, keep] = apply(op, fl, fr);
    if (returnBool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    const metric = resultMetric(ls.metric, rs.metric, matching);
    if (matching.card !== "one-to-one") {
      const key = labelsKey(metric);
      if (!seen) matched.set(sig, new Set([key]));
      else if (seen.has(key)) {
        throw new QueryError(
          "execution",
          "multiple matches for labels: grouping labels must ensure unique results",
        );
      } else seen.add(key);
    }
    out.push({ metric, v, dropName: dropsName || ls.dropName });
  }
  return out;
}

function resultMetric(
  lhs: Labels,
  rhs: Labels,
  matching: VectorMatching,
): Labels {
  let m = lhs;
  if (matching.card === "one-to-one") {
    const names = new Set(matching.labels);
    m = matching.on ? keepLabels(m, names) : dropLabels(m, names);
  }
  for (const name of matching.include) {
    m = setLabel(m, name, getLabel(rhs, name));
  }
  return m;
}

/** Go's labels.Labels.String(): `{a="b", c="d"}`, the name as a label. */
function labelsString(l: Labels): string {
  return `{${l.map((x) => `${x.name}=${JSON.stringify(x.value)}`).join(", ")}}`;
}
