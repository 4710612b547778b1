/**
 * Test helpers for the PromQL front end: a fully parenthesized "shape" of
 * a tree (written independently of the printer, so precedence tests do not
 * trust the printer), a position-free structural copy for round-trip
 * equality, and a reader of the eval commands of Prometheus' .test files.
 */
import type { DurationExpr, Expr } from "../src/promql/ast.ts";

/** `(op lhs rhs)`-style rendering of a tree; durations in seconds. */
export function shape(e: Expr): string {
  switch (e.type) {
    case "NumberLiteral":
      return numberShape(e.value);
    case "StringLiteral":
      return JSON.stringify(e.value);
    case "VectorSelector": {
      const ms = e.matchers
        .filter((_m, i) => !(e.name && i === e.matchers.length - 1))
        .map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`);
      let s = e.name + (ms.length ? `{${ms.join(",")}}` : "");
      if (e.anchored) s += " anchored";
      if (e.smoothed) s += " smoothed";
      if (e.at !== null) s += ` @${e.at}`;
      if (e.offset) s += ` offset:${durationShape(e.offset)}`;
      return s;
    }
    case "MatrixSelector":
      return `(range ${shape(e.selector)} ${durationShape(e.range)})`;
    case "SubqueryExpr": {
      let s = `(subquery ${shape(e.expr)} ${durationShape(e.range)} ${
        e.step ? durationShape(e.step) : "default"
      }`;
      if (e.at !== null) s += ` @${e.at}`;
      if (e.offset) s += ` offset:${durationShape(e.offset)}`;
      return s + ")";
    }
    case "ParenExpr":
      return `(paren ${shape(e.expr)})`;
    case "UnaryExpr":
      return `(${e.op === "-" ? "neg" : "pos"} ${shape(e.expr)})`;
    case "BinaryExpr": {
      let op = e.op as string;
      if (e.returnBool) op += " bool";
      const m = e.matching;
      if (m) {
        if (m.on || m.labels.length) {
          op += ` ${m.on ? "on" : "ignoring"}(${m.labels.join(",")})`;
        }
        if (m.card === "many-to-one") op += ` group_left(${m.include})`;
        if (m.card === "one-to-many") op += ` group_right(${m.include})`;
        if (m.fillLeft !== null) op += ` fill_left(${m.fillLeft})`;
        if (m.fillRight !== null) op += ` fill_right(${m.fillRight})`;
      }
      return `(${op} ${shape(e.lhs)} ${shape(e.rhs)})`;
    }
    case "AggregateExpr": {
      let head: string = e.op;
      if (e.without) head += ` without(${e.grouping.join(",")})`;
      else if (e.grouping.length) head += ` by(${e.grouping.join(",")})`;
      const args = e.param ? [e.param, e.expr] : [e.expr];
      return `(${head} ${args.map(shape).join(" ")})`;
    }
    case "Call":
      return `(${[e.func.name, ...e.args.map(shape)].join(" ")})`;
  }
}

function numberShape(v: number): string {
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/** Duration trees: `(+ 60 (* 2 30))`, `(step)`, `(neg x)`. */
export function durationShape(d: DurationExpr): string {
  switch (d.type) {
    case "NumberLiteral":
      return numberShape(d.value);
    case "DurationBinary":
      return `(${d.op} ${durationShape(d.lhs)} ${durationShape(d.rhs)})`;
    case "DurationNegation":
      return `(neg ${durationShape(d.expr)})`;
    case "DurationParen":
      return `(paren ${durationShape(d.expr)})`;
    case "DurationCall":
      return `(${[d.func, ...d.args.map(durationShape)].join(" ")})`;
  }
}

/**
 * A copy without positions, with matchers as sorted strings and functions
 * by name: two parses of equivalent text give deep-equal copies.
 */
export function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (node === null || typeof node !== "object") return node;
  const o = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "start" || k === "end") continue;
    if (k === "matchers") {
      out[k] = (v as { type: string; name: string; value: string }[])
        .map((m) => `${m.name}\u0000${m.type}\u0000${m.value}`).sort();
    } else if (k === "func" && typeof v === "object") {
      out[k] = (v as { name: string }).name;
    } else out[k] = strip(v);
  }
  return out;
}

/** One `eval` command of a Prometheus .test file. */
export interface EvalCase {
  file: string;
  line: number;
  expr: string;
  /** `eval_fail` or an `expect fail` line. */
  expectFail: boolean;
}

const EVAL =
  /^\s*(eval(?:_fail|_warn|_info|_ordered)?)\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.+?)\s*$/;

/** The eval commands of one .test file's text. */
export function evalCases(file: string, text: string): EvalCase[] {
  const lines = text.split("\n");
  const out: EvalCase[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = EVAL.exec(lines[i]);
    if (!m) continue;
    let expectFail = m[1] === "eval_fail";
    for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]); j++) {
      if (/^\s*expect fail\b/.test(lines[j])) expectFail = true;
    }
    out.push({ file, line: i + 1, expr: m[2], expectFail });
  }
  return out;
}
