/**
 * Prints a syntax tree as canonical PromQL: `format` is Prometheus'
 * single-line `String()` form, `pretty` its multi-line `Prettify()` form
 * (what `/api/v1/format_query` returns). Parsing either output gives back
 * an equal tree (positions aside).
 * @module
 */
import { compareStrings, METRIC_NAME } from "../model/labels.ts";
import type {
  AggregateExpr,
  AtModifier,
  BinaryExpr,
  DurationExpr,
  Expr,
  LabelMatcher,
  VectorMatching,
  VectorSelector,
} from "./ast.ts";
import { goQuote } from "./errors.ts";

/** Lines longer than this are split by `pretty`. */
export const MAX_LINE = 100;

/** The expression on one line, as Prometheus' `String()` prints it. */
export function format(e: Expr): string {
  switch (e.type) {
    case "NumberLiteral":
      return e.duration ? formatDuration(e.value) : formatNumber(e.value);
    case "StringLiteral":
      return goQuote(e.value);
    case "VectorSelector":
      return formatSelector(e) + formatExtended(e) + formatAt(e.at) +
        formatOffset(e.offset);
    case "MatrixSelector": {
      const vs = e.selector;
      return formatSelector(vs) + "[" + formatDurationSlot(e.range) + "]" +
        formatExtended(vs) + formatAt(vs.at) + formatOffset(vs.offset);
    }
    case "SubqueryExpr":
      return format(e.expr) + subquerySuffix(e);
    case "ParenExpr":
      return "(" + format(e.expr) + ")";
    case "UnaryExpr":
      return e.op + format(e.expr);
    case "BinaryExpr":
      return powerBase(e) + " " + operatorString(e) + " " + format(e.rhs);
    case "AggregateExpr":
      return aggregateHead(e) + "(" +
        (e.param ? format(e.param) + ", " : "") + format(e.expr) + ")";
    case "Call":
      return e.func.name + "(" + e.args.map(format).join(", ") + ")";
  }
}

/**
 * The expression split over lines, as Prometheus' prettifier does: a node
 * whose one-line form is longer than `maxLine` characters puts its operands
 * or arguments on their own lines, indented two spaces per level.
 */
export function pretty(e: Expr, maxLine = MAX_LINE): string {
  return prettyAt(e, 0, maxLine);
}

function prettyAt(e: Expr, level: number, maxLine: number): string {
  const ind = "  ".repeat(level);
  const flat = format(e);
  if (flat.length <= maxLine) return ind + flat;
  const sub = (x: Expr, l: number) => prettyAt(x, l, maxLine);
  switch (e.type) {
    case "AggregateExpr":
      return ind + aggregateHead(e) + "(\n" +
        (e.param ? sub(e.param, level + 1) + ",\n" : "") +
        sub(e.expr, level + 1) + "\n" + ind + ")";
    case "BinaryExpr":
      return sub(e.lhs, level + 1) + "\n" + ind + operatorString(e) + "\n" +
        sub(e.rhs, level + 1);
    case "Call":
      return ind + e.func.name + "(\n" +
        e.args.map((a) => sub(a, level + 1)).join(",\n") + "\n" + ind + ")";
    case "ParenExpr":
      return ind + "(\n" + sub(e.expr, level + 1) + "\n" + ind + ")";
    case "SubqueryExpr":
      return sub(e.expr, level) + subquerySuffix(e);
    case "UnaryExpr":
      return ind + e.op + sub(e.expr, level).trim();
    default:
      return ind + flat;
  }
}

/**
 * The left operand. A signed literal before `^` would re-parse as a sign
 * applied to the power (`-2 ^ 2` is `-(2 ^ 2)`), so +Inf prints as `Inf`
 * there and a negative number gets parentheses (parsing never produces
 * either; hand-built trees can).
 */
function powerBase(e: BinaryExpr): string {
  const l = e.lhs;
  if (e.op !== "^" || l.type !== "NumberLiteral") return format(l);
  if (l.value === Infinity) return "Inf";
  if (l.value < 0 || Object.is(l.value, -0)) return "(" + format(l) + ")";
  return format(l);
}

function aggregateHead(e: AggregateExpr): string {
  if (e.without) return `${e.op} without (${formatLabels(e.grouping)}) `;
  if (e.grouping.length > 0) return `${e.op} by (${formatLabels(e.grouping)}) `;
  return e.op;
}

function operatorString(e: BinaryExpr): string {
  return e.op + (e.returnBool ? " bool" : "") + matchingString(e.matching);
}

function matchingString(m: VectorMatching | null): string {
  if (!m) return "";
  let s = "";
  const grouped = m.card === "many-to-one" || m.card === "one-to-many";
  if (m.labels.length > 0 || m.on || grouped) {
    s += ` ${m.on ? "on" : "ignoring"} (${formatLabels(m.labels)})`;
  }
  if (grouped) {
    const side = m.card === "many-to-one" ? "left" : "right";
    s += ` group_${side} (${formatLabels(m.include)})`;
  }
  if (
    m.fillLeft !== null && m.fillRight !== null && m.fillLeft === m.fillRight
  ) {
    s += ` fill (${formatG(m.fillLeft)})`;
  } else {
    if (m.fillLeft !== null) s += ` fill_left (${formatG(m.fillLeft)})`;
    if (m.fillRight !== null) s += ` fill_right (${formatG(m.fillRight)})`;
  }
  return s;
}

function subquerySuffix(
  e: Expr & { type: "SubqueryExpr" },
): string {
  const step = e.step ? formatDurationSlot(e.step) : "";
  return "[" + formatDurationSlot(e.range) + ":" + step + "]" +
    formatAt(e.at) + formatOffset(e.offset);
}

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label names, quoted when they are not legacy (`[a-zA-Z_][a-zA-Z0-9_]*`) names. */
export function formatLabels(names: readonly string[]): string {
  return names.map((n) => LEGACY_LABEL.test(n) ? n : goQuote(n)).join(", ");
}

/** One matcher: `name="value"`, the name quoted unless legacy. */
export function formatMatcher(m: LabelMatcher): string {
  const name = LEGACY_LABEL.test(m.name) ? m.name : goQuote(m.name);
  return name + m.type + goQuote(m.value);
}

function formatSelector(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    const isName = m.name === METRIC_NAME && m.type === "=" &&
      m.value === vs.name && m.value !== "";
    if (!isName) parts.push(formatMatcher(m));
  }
  parts.sort(compareStrings);
  return vs.name + (parts.length ? "{" + parts.join(",") + "}" : "");
}

function formatExtended(vs: VectorSelector): string {
  if (vs.anchored) return " anchored";
  if (vs.smoothed) return " smoothed";
  return "";
}

function formatAt(at: AtModifier | null): string {
  if (at === null) return "";
  if (at === "start" || at === "end") return ` @ ${at}()`;
  return " @ " + (at / 1000).toFixed(3);
}

function formatOffset(d: DurationExpr | null): string {
  return d ? " offset " + formatDurationSlot(d) : "";
}

/** A range, step or offset: a bare number is printed as a duration. */
function formatDurationSlot(d: DurationExpr): string {
  if (d.type === "NumberLiteral") {
    const ns = Math.round(d.value * 1e9);
    return d.value < 0
      ? "-" + formatDurationMs(nsToMs(-ns))
      : formatDurationMs(nsToMs(ns));
  }
  return formatDurationExpr(d);
}

/** A duration expression as written (literals keep their number/duration form). */
export function formatDurationExpr(d: DurationExpr): string {
  switch (d.type) {
    case "NumberLiteral":
      return format(d);
    case "DurationParen":
      return "(" + formatDurationExpr(d.expr) + ")";
    case "DurationNegation":
      return "-" + formatDurationExpr(d.expr);
    case "DurationBinary":
      return formatDurationExpr(d.lhs) + " " + d.op + " " +
        formatDurationExpr(d.rhs);
    case "DurationCall":
      return d.func + "(" + d.args.map(formatDurationExpr).join(", ") + ")";
  }
}

function nsToMs(ns: number): number {
  return Number(BigInt(Math.trunc(ns)) / 1000000n);
}

/** Seconds as Prometheus prints a duration number (`-5m`, `1h30m`, `0s`). */
export function formatDuration(seconds: number): string {
  const ns = Math.trunc(seconds * 1e9);
  return seconds < 0
    ? "-" + formatDurationMs(nsToMs(-ns))
    : formatDurationMs(nsToMs(ns));
}

const UNITS: [string, number, boolean][] = [
  ["y", 365 * 24 * 3600 * 1000, true],
  ["w", 7 * 24 * 3600 * 1000, true],
  ["d", 24 * 3600 * 1000, false],
  ["h", 3600 * 1000, false],
  ["m", 60 * 1000, false],
  ["s", 1000, false],
  ["ms", 1, false],
];

/**
 * Milliseconds in Prometheus' duration notation: largest units first,
 * years and weeks only when they divide the whole remainder exactly.
 */
export function formatDurationMs(ms: number): string {
  if (ms <= 0) return "0s";
  let out = "";
  for (const [unit, mult, exact] of UNITS) {
    if (exact && ms % mult !== 0) continue;
    const v = Math.floor(ms / mult);
    if (v > 0) {
      out += v + unit;
      ms -= v * mult;
    }
  }
  return out;
}

/** A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, no exponent. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const neg = s[0] === "-";
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const [ip, fp = ""] = mantissa.split(".");
  const digits = ip + fp;
  const point = ip.length + exp;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) {
    out = digits + "0".repeat(point - digits.length);
  } else out = digits.slice(0, point) + "." + digits.slice(point);
  return (neg ? "-" : "") + out;
}

/** A float as Go's `%v` (`%g` with shortest digits: `1e+06`, `0.0001`, `1e-05`). */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const [m, e] = v.toExponential().split("e");
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    return m + "e" + (exp < 0 ? "-" : "+") +
      String(Math.abs(exp)).padStart(2, "0");
  }
  return formatNumber(v);
}
