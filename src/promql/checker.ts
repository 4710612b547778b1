/**
 * The type checker: computes every node's `valueType` and enforces
 * Prometheus' typing rules, in the order Prometheus checks them (so the
 * first error reported is the one Prometheus reports first).
 * @module
 */
import { METRIC_NAME } from "../model/labels.ts";
import type { BinaryExpr, Expr, PositionRange, ValueType } from "./ast.ts";
import { goQuote, ParseError } from "./errors.ts";

/** Prometheus' user-facing type names ("instant vector", "range vector"). */
export function documentedType(t: ValueType): string {
  switch (t) {
    case "vector":
      return "instant vector";
    case "matrix":
      return "range vector";
    default:
      return t;
  }
}

const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const SET_OPS = new Set(["and", "or", "unless"]);

/** Whether `op` is a comparison operator (the only ones allowing `bool`). */
export function isComparison(op: string): boolean {
  return COMPARISONS.has(op);
}
/** Whether `op` is `and`, `or` or `unless`. */
export function isSetOperator(op: string): boolean {
  return SET_OPS.has(op);
}

/**
 * Checks `e` (a freshly parsed tree) and sets `valueType` on each node;
 * throws ParseError. Returns the type of `e`. Also normalizes vector
 * matching: null when an operand is not an instant vector, many-to-many for
 * set operators.
 */
export function check(e: Expr, query: string): ValueType {
  return new Checker(query).check(e);
}

/** The type of `e` from its shape alone (children need not be checked). */
export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case "NumberLiteral":
      return "scalar";
    case "StringLiteral":
      return "string";
    case "VectorSelector":
    case "AggregateExpr":
      return "vector";
    case "MatrixSelector":
    case "SubqueryExpr":
      return "matrix";
    case "ParenExpr":
    case "UnaryExpr":
      return typeOf(e.expr);
    case "BinaryExpr":
      return typeOf(e.lhs) === "scalar" && typeOf(e.rhs) === "scalar"
        ? "scalar"
        : "vector";
    case "Call":
      return e.func.returnType;
  }
}

class Checker {
  readonly query: string;
  constructor(query: string) {
    this.query = query;
  }

  fail(detail: string, range: PositionRange): ParseError {
    return new ParseError(
      detail,
      { start: range.start, end: range.end },
      this.query,
    );
  }

  expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e);
    if (t !== want) {
      throw this.fail(
        `expected type ${documentedType(want)} in ${context}, got ${
          documentedType(t)
        }`,
        e,
      );
    }
  }

  check(e: Expr): ValueType {
    const type = typeOf(e);
    switch (e.type) {
      case "AggregateExpr":
        this.expectType(e.expr, "vector", "aggregation expression");
        if (e.param) {
          const want = e.op === "count_values" ? "string" : "scalar";
          this.expectType(e.param, want, "aggregation parameter");
        }
        break;
      case "BinaryExpr":
        this.checkBinary(e);
        break;
      case "Call":
        this.checkCall(e);
        break;
      case "ParenExpr":
        this.check(e.expr);
        break;
      case "UnaryExpr": {
        const t = this.check(e.expr);
        if (t !== "scalar" && t !== "vector") {
          throw this.fail(
            `unary expression only allowed on expressions of type scalar or instant vector, got ${
              goQuote(documentedType(t))
            }`,
            e,
          );
        }
        break;
      }
      case "SubqueryExpr": {
        const t = this.check(e.expr);
        if (t !== "vector") {
          throw this.fail(
            `subquery is only allowed on instant vector, got ${t} instead`,
            e,
          );
        }
        break;
      }
      case "MatrixSelector":
        this.check(e.selector);
        break;
      case "VectorSelector":
        if (e.name !== "") {
          // The last matcher is the name written before the braces.
          for (const m of e.matchers.slice(0, -1)) {
            if (m.name === METRIC_NAME) {
              throw this.fail(
                `metric name must not be set twice: ${goQuote(e.name)} or ${
                  goQuote(m.value)
                }`,
                e,
              );
            }
          }
        } else if (
          !e.bypassEmptyMatcherCheck && !e.matchers.some((m) => !m.matches(""))
        ) {
          throw this.fail(
            "vector selector must contain at least one non-empty matcher",
            e,
          );
        }
        break;
      case "NumberLiteral":
      case "StringLiteral":
        break;
    }
    e.valueType = type;
    return type;
  }

  checkBinary(e: BinaryExpr): void {
    const lt = this.check(e.lhs);
    const rt = this.check(e.rhs);
    const opRange = () => this.operatorRange(e);
    if (e.returnBool && !isComparison(e.op)) {
      throw this.fail(
        "bool modifier can only be used on comparison operators",
        opRange(),
      );
    }
    if (
      isComparison(e.op) && !e.returnBool && lt === "scalar" && rt === "scalar"
    ) {
      throw this.fail(
        "comparisons between scalars must use BOOL modifier",
        opRange(),
      );
    }
    const m = e.matching;
    if (m && isSetOperator(e.op) && m.card === "one-to-one") {
      m.card = "many-to-many";
    }
    if (m && m.on) {
      for (const l of m.labels) {
        if (m.include.includes(l)) {
          throw this.fail(
            `label ${goQuote(l)} must not occur in ON and GROUP clause at once`,
            opRange(),
          );
        }
      }
    }
    if (lt !== "scalar" && lt !== "vector") {
      throw this.fail(
        "binary expression must contain only scalar and instant vector types",
        e.lhs,
      );
    }
    if (rt !== "scalar" && rt !== "vector") {
      throw this.fail(
        "binary expression must contain only scalar and instant vector types",
        e.rhs,
      );
    }
    const hasFill = m !== null &&
      (m.fillLeft !== null || m.fillRight !== null);
    if ((lt !== "vector" || rt !== "vector") && m) {
      if (m.labels.length > 0) {
        throw this.fail(
          "vector matching only allowed between instant vectors",
          e,
        );
      }
      if (hasFill) {
        throw this.fail(
          "filling in missing series only allowed between instant vectors",
          e,
        );
      }
      e.matching = null;
    } else if (m && isSetOperator(e.op)) {
      if (m.card === "one-to-many" || m.card === "many-to-one") {
        throw this.fail(
          `no grouping allowed for ${goQuote(e.op)} operation`,
          e,
        );
      }
      if (m.card !== "many-to-many") {
        throw this.fail("set operations must always be many-to-many", e);
      }
      if (hasFill) {
        throw this.fail(
          "filling in missing series not allowed for set operators",
          e,
        );
      }
    }
    if ((lt === "scalar" || rt === "scalar") && isSetOperator(e.op)) {
      throw this.fail(
        `set operator ${goQuote(e.op)} not allowed in binary scalar expression`,
        e,
      );
    }
  }

  /** The operator and its modifiers: the text between the operands, trimmed. */
  operatorRange(e: BinaryExpr): PositionRange {
    let start = e.lhs.end;
    while (start < e.rhs.start && /\s/.test(this.query[start])) start++;
    let end = e.rhs.start;
    while (end > start && /\s/.test(this.query[end - 1])) end--;
    return { start, end };
  }

  checkCall(e: Expr & { type: "Call" }): void {
    const f = e.func;
    const declared = f.argTypes.length;
    const n = e.args.length;
    const name = goQuote(f.name);
    if (f.variadic === 0) {
      if (declared !== n) {
        throw this.fail(
          `expected ${declared} argument(s) in call to ${name}, got ${n}`,
          e,
        );
      }
    } else {
      const min = declared - 1;
      if (min > n) {
        throw this.fail(
          `expected at least ${min} argument(s) in call to ${name}, got ${n}`,
          e,
        );
      }
      const max = min + f.variadic;
      if (f.variadic > 0 && max < n) {
        throw this.fail(
          `expected at most ${max} argument(s) in call to ${name}, got ${n}`,
          e,
        );
      }
    }
    if (f.name === "info" && n > 1) {
      const labelsArg = e.args[1];
      const t = typeOf(labelsArg);
      if (t !== "vector") {
        throw this.fail(
          `expected type instant vector in call to function ${name}, got ${
            documentedType(t)
          }`,
          e,
        );
      }
      if (labelsArg.type === "VectorSelector") {
        if (labelsArg.name !== "") {
          throw this.fail(
            "expected label selectors only, got vector selector instead",
            labelsArg,
          );
        }
        labelsArg.bypassEmptyMatcherCheck = true;
      } else {
        throw this.fail("expected label selectors only", labelsArg);
      }
    }
    for (let i = 0; i < n; i++) {
      let k = i;
      if (k >= declared) {
        if (f.variadic === 0) break;
        k = declared - 1;
      }
      const t = this.check(e.args[i]);
      if (t !== f.argTypes[k]) {
        throw this.fail(
          `expected type ${
            documentedType(f.argTypes[k])
          } in call to function ${name}, got ${documentedType(t)}`,
          e.args[i],
        );
      }
    }
  }
}
