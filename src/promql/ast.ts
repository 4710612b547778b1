/**
 * The PromQL syntax tree: a discriminated union on `type`. Every node has
 * `start`/`end` offsets (UTF-16 indices into the query, end exclusive) and a
 * `valueType` filled in by the checker (./checker.ts) once parsing succeeds.
 *
 * Durations (ranges, subquery steps, offsets) are `DurationExpr` trees in
 * seconds: a bare literal (`5m`, `300`) or Prometheus 3's arithmetic
 * (`5m * 2`, `step()`, `min_of(a, b)`), see `evalDuration`.
 * @module
 */
import type { EqualMatcher, RegexMatcher } from "../model/matcher.ts";
import type { FunctionSignature } from "./functions.ts";

/** The four PromQL value types. */
export type ValueType = "scalar" | "vector" | "matrix" | "string";

/** Offsets of a node in the query (UTF-16 indices, end exclusive). */
export interface PositionRange {
  start: number;
  end: number;
}

/** Fields every expression node has. */
interface NodeBase extends PositionRange {
  /** Set by the checker; undefined only on a tree that failed to check. */
  valueType?: ValueType;
}

/** A number. `duration` marks one written with units (`5m`), printed so. */
export interface NumberLiteral extends NodeBase {
  type: "NumberLiteral";
  value: number;
  duration: boolean;
}

/** A string (already unquoted). */
export interface StringLiteral extends NodeBase {
  type: "StringLiteral";
  value: string;
}

/** A label matcher as the parser builds it. */
export type LabelMatcher = EqualMatcher | RegexMatcher;

/** `@` modifier: a timestamp in milliseconds, or the query's start/end. */
export type AtModifier = number | "start" | "end";

/** `metric{a="b"} @ t offset d`. */
export interface VectorSelector extends NodeBase {
  type: "VectorSelector";
  /** The metric name written before the braces, or "". */
  name: string;
  /**
   * All matchers, in source order; a name before the braces is the last one
   * (`__name__="name"`).
   */
  matchers: LabelMatcher[];
  /** Offset in seconds (negative looks ahead); null when absent or zero. */
  offset: DurationExpr | null;
  at: AtModifier | null;
  /** Prometheus 3.9's experimental `anchored` / `smoothed` modifiers. */
  anchored: boolean;
  smoothed: boolean;
  /** Set for `info()`'s second argument, which may match the empty string. */
  bypassEmptyMatcherCheck: boolean;
}

/** `selector[range]`; offset and @ live on the inner selector. */
export interface MatrixSelector extends NodeBase {
  type: "MatrixSelector";
  selector: VectorSelector;
  range: DurationExpr;
}

/** `expr[range:step] @ t offset d`. */
export interface SubqueryExpr extends NodeBase {
  type: "SubqueryExpr";
  expr: Expr;
  range: DurationExpr;
  /** null: the default evaluation interval. */
  step: DurationExpr | null;
  offset: DurationExpr | null;
  at: AtModifier | null;
}

/** `( expr )`. */
export interface ParenExpr extends NodeBase {
  type: "ParenExpr";
  expr: Expr;
}

/** `-expr` / `+expr` (a sign on a number literal is folded into it). */
export interface UnaryExpr extends NodeBase {
  type: "UnaryExpr";
  op: "+" | "-";
  expr: Expr;
}

/** Arithmetic operators. */
export type ArithmeticOp = "+" | "-" | "*" | "/" | "%" | "^" | "atan2";
/** Comparison operators (filter, or 0/1 with `bool`). */
export type ComparisonOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
/** Set operators (vectors only, many-to-many). */
export type SetOp = "and" | "or" | "unless";
/** Prometheus 3.9's native-histogram trim operators. */
export type TrimOp = "</" | ">/";
/** Every binary operator. */
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp | TrimOp;

/** How two vectors' elements pair up. */
export type Cardinality =
  | "one-to-one"
  | "many-to-one"
  | "one-to-many"
  | "many-to-many";

/** Vector matching of a binary expression between two instant vectors. */
export interface VectorMatching {
  card: Cardinality;
  /** `on(...)` when true, else `ignoring(...)` (or no clause). */
  on: boolean;
  labels: string[];
  /** `group_left(...)` / `group_right(...)` extra labels. */
  include: string[];
  /** Experimental `fill(...)`, `fill_left(...)`, `fill_right(...)`. */
  fillLeft: number | null;
  fillRight: number | null;
}

/** `lhs op bool? matching rhs`. */
export interface BinaryExpr extends NodeBase {
  type: "BinaryExpr";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /**
   * Matching as written; the checker sets it to null when an operand is not
   * an instant vector and makes set operators many-to-many.
   */
  matching: VectorMatching | null;
}

/** Aggregation operators. */
export type AggregateOp =
  | "sum"
  | "avg"
  | "count"
  | "min"
  | "max"
  | "group"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "count_values"
  | "quantile"
  | "limitk"
  | "limit_ratio";

/** `op by|without (labels) (param, expr)`. */
export interface AggregateExpr extends NodeBase {
  type: "AggregateExpr";
  op: AggregateOp;
  expr: Expr;
  /** The first argument of topk, bottomk, quantile, count_values, limitk, limit_ratio. */
  param: Expr | null;
  grouping: string[];
  without: boolean;
}

/** `fn(args...)`. */
export interface Call extends NodeBase {
  type: "Call";
  func: FunctionSignature;
  args: Expr[];
}

/** Any PromQL expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

/** Operators of duration arithmetic. */
export type DurationOp = "+" | "-" | "*" | "/" | "%" | "^";

/** `lhs op rhs` inside a duration. */
export interface DurationBinary extends PositionRange {
  type: "DurationBinary";
  op: DurationOp;
  lhs: DurationExpr;
  rhs: DurationExpr;
}

/** `-d` (unary plus is dropped; a sign on a literal is folded into it). */
export interface DurationNegation extends PositionRange {
  type: "DurationNegation";
  expr: DurationExpr;
}

/** `( d )`. */
export interface DurationParen extends PositionRange {
  type: "DurationParen";
  expr: DurationExpr;
}

/** `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`. */
export interface DurationCall extends PositionRange {
  type: "DurationCall";
  func: "step" | "range" | "min_of" | "max_of";
  args: DurationExpr[];
}

/** A duration in seconds, possibly computed. */
export type DurationExpr =
  | NumberLiteral
  | DurationBinary
  | DurationNegation
  | DurationParen
  | DurationCall;

/** Any node of the tree. */
export type Node =
  | Expr
  | DurationBinary
  | DurationNegation
  | DurationParen
  | DurationCall;

/** What `step()` and `range()` stand for, in seconds. */
export interface DurationContext {
  /** The range query's step (0 for an instant query). */
  step: number;
  /** end - start of the query (0 for an instant query). */
  range: number;
}

/**
 * Evaluates a duration expression to seconds. Division and modulo follow
 * float semantics (Prometheus rejects a literal zero divisor at parse time).
 */
export function evalDuration(
  d: DurationExpr,
  ctx: DurationContext = { step: 0, range: 0 },
): number {
  switch (d.type) {
    case "NumberLiteral":
      return d.value;
    case "DurationParen":
      return evalDuration(d.expr, ctx);
    case "DurationNegation":
      return -evalDuration(d.expr, ctx);
    case "DurationCall":
      switch (d.func) {
        case "step":
          return ctx.step;
        case "range":
          return ctx.range;
        case "min_of":
          return Math.min(
            evalDuration(d.args[0], ctx),
            evalDuration(d.args[1], ctx),
          );
        case "max_of":
          return Math.max(
            evalDuration(d.args[0], ctx),
            evalDuration(d.args[1], ctx),
          );
      }
      break;
    case "DurationBinary": {
      const a = evalDuration(d.lhs, ctx);
      const b = evalDuration(d.rhs, ctx);
      switch (d.op) {
        case "+":
          return a + b;
        case "-":
          return a - b;
        case "*":
          return a * b;
        case "/":
          return a / b;
        case "%":
          return a % b;
        case "^":
          return a ** b;
      }
    }
  }
  throw new Error(`unknown duration node ${(d as { type: string }).type}`);
}

/** Whether the duration uses step() or range() (so varies per query). */
export function durationDependsOnQuery(d: DurationExpr): boolean {
  switch (d.type) {
    case "NumberLiteral":
      return false;
    case "DurationParen":
    case "DurationNegation":
      return durationDependsOnQuery(d.expr);
    case "DurationBinary":
      return durationDependsOnQuery(d.lhs) || durationDependsOnQuery(d.rhs);
    case "DurationCall":
      return d.func === "step" || d.func === "range" ||
        d.args.some(durationDependsOnQuery);
  }
}

/** The direct child expressions of `e`, in source order (not durations). */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case "NumberLiteral":
    case "StringLiteral":
    case "VectorSelector":
      return [];
    case "MatrixSelector":
      return [e.selector];
    case "SubqueryExpr":
    case "ParenExpr":
    case "UnaryExpr":
      return [e.expr];
    case "BinaryExpr":
      return [e.lhs, e.rhs];
    case "AggregateExpr":
      return e.param ? [e.param, e.expr] : [e.expr];
    case "Call":
      return e.args;
  }
}

/**
 * Visits `e` and its descendants depth-first, parents before children;
 * `path` holds the ancestors. Return false from `visit` to skip a subtree.
 */
export function walk(
  e: Expr,
  visit: (node: Expr, path: readonly Expr[]) => boolean | void,
  path: Expr[] = [],
): void {
  if (visit(e, path) === false) return;
  path.push(e);
  for (const c of children(e)) walk(c, visit, path);
  path.pop();
}
