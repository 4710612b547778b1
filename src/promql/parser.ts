/**
 * A hand-written precedence-climbing parser for PromQL with Prometheus 3.9
 * semantics. Binary operators, loosest first: `or`; `and unless`;
 * comparisons (and the trim operators `</ >/`); `+ -`; `* / % atan2`; `^`
 * (right-associative). Unary `+ -` binds like `*`: its operand may contain
 * `^`, so `-2^2` is `-(2^2)`. Selector suffixes (`[range]`, `[range:step]`,
 * `offset`, `@`) bind tightest of all.
 *
 * `parse` runs the type checker (./checker.ts) on the result, so a returned
 * tree is valid and has every `valueType` set.
 * @module
 */
import { MatcherError, type MatchType, newMatcher } from "../model/matcher.ts";
import { METRIC_NAME } from "../model/labels.ts";
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  DurationExpr,
  DurationOp,
  Expr,
  LabelMatcher,
  NumberLiteral,
  PositionRange,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from "./ast.ts";
import { check } from "./checker.ts";
import { goQuote, ParseError } from "./errors.ts";
import { getFunction } from "./functions.ts";
import { lex, type Token, unquote } from "./lexer.ts";

/** Switches for Prometheus' experimental syntax; all on by default. */
export interface ParseOptions {
  /** Experimental functions and `limitk`/`limit_ratio` (promql-experimental-functions). */
  experimentalFunctions?: boolean;
  /** Arithmetic, step(), range(), min_of(), max_of() in durations (promql-duration-expr). */
  durationExpressions?: boolean;
  /** `anchored` and `smoothed` (promql-extended-range-selectors). */
  extendedRangeSelectors?: boolean;
  /** `fill()`, `fill_left()`, `fill_right()` on binary operators (promql-binop-fill-modifiers). */
  fillModifiers?: boolean;
}

type Options = Required<ParseOptions>;

function withDefaults(o: ParseOptions): Options {
  return {
    experimentalFunctions: o.experimentalFunctions ?? true,
    durationExpressions: o.durationExpressions ?? true,
    extendedRangeSelectors: o.extendedRangeSelectors ?? true,
    fillModifiers: o.fillModifiers ?? true,
  };
}

/**
 * Parses and type-checks a PromQL expression. Throws ParseError.
 *
 * @example
 * ```ts
 * const e = parse('sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))');
 * e.type; // "AggregateExpr"
 * e.valueType; // "vector"
 * ```
 */
export function parse(input: string, options: ParseOptions = {}): Expr {
  const p = new Parser(input, withDefaults(options));
  const expr = p.parseQuery();
  check(expr, input);
  return expr;
}

/**
 * Parses a series selector such as the `match[]` of the HTTP API
 * (`up{job="x"}` or `{__name__=~"a.*"}`) into its matchers. Offsets, `@`
 * and ranges are rejected; at least one matcher must not match "".
 */
export function parseMetricSelector(input: string): LabelMatcher[] {
  const p = new Parser(input, withDefaults({}));
  const vs = p.parseSelectorOnly();
  check(vs, input);
  return vs.matchers;
}

/** Binding power of each binary operator (higher binds tighter). */
const PRECEDENCE: Record<BinaryOp, number> = {
  "or": 1,
  "and": 2,
  "unless": 2,
  "==": 3,
  "!=": 3,
  "<": 3,
  "<=": 3,
  ">": 3,
  ">=": 3,
  "</": 3,
  ">/": 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  "atan2": 5,
  "^": 6,
};
/** What a unary sign's operand may contain: only `^` binds tighter than it. */
const UNARY_OPERAND = 6;

const DURATION_PRECEDENCE: Record<DurationOp, number> = {
  "+": 1,
  "-": 1,
  "*": 2,
  "/": 2,
  "%": 2,
  "^": 3,
};

const MATCH_OPS = new Set(["=", "!=", "=~", "!~"]);
const PARAM_AGGREGATORS = new Set([
  "topk",
  "bottomk",
  "count_values",
  "quantile",
  "limitk",
  "limit_ratio",
]);
/** Keywords that may also be a metric name (Prometheus' metric_identifier). */
const KEYWORD_METRIC_NAMES = new Set([
  "by",
  "without",
  "offset",
  "fill",
  "fill_left",
  "fill_right",
  "anchored",
  "smoothed",
]);

/** Largest |seconds| a Go time.Duration holds. */
const MAX_DURATION_SECONDS = 2 ** 63 / 1e9;

class Parser {
  readonly input: string;
  readonly opts: Options;
  readonly tokens: Token[];
  i = 0;
  /** Context for "unexpected ..." errors inside a duration, as Prometheus words them. */
  durationContext: [string, string] | null = null;

  constructor(input: string, opts: Options) {
    this.input = input;
    this.opts = opts;
    this.tokens = lex(input);
  }

  // --- token helpers ---
  peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }
  next(): Token {
    const t = this.peek();
    if (t.kind === "error") throw this.fail(t.text, t);
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  /** End offset of the last consumed token. */
  lastEnd(): number {
    return this.i > 0 ? this.tokens[this.i - 1].end : 0;
  }
  isPunct(t: Token, p: string): boolean {
    return t.kind === "punct" && t.text === p;
  }
  isOp(t: Token, op: string): boolean {
    return t.kind === "op" && t.key === op;
  }
  isKeyword(t: Token, k: string): boolean {
    return t.kind === "keyword" && t.key === k;
  }
  expectPunct(p: string, context = "", expected = ""): Token {
    const t = this.peek();
    if (!this.isPunct(t, p)) throw this.unexpected(t, context, expected);
    return this.next();
  }

  fail(detail: string, range: PositionRange): ParseError {
    return new ParseError(
      detail,
      { start: range.start, end: range.end },
      this.input,
    );
  }
  /** Prometheus' "unexpected <token> in <context>, expected <what>". */
  unexpected(t: Token, context = "", expected = ""): ParseError {
    if (t.kind === "error") return this.fail(t.text, t);
    if (!context && this.durationContext) {
      [context, expected] = this.durationContext;
    }
    let msg = "unexpected " + describe(t);
    if (context) msg += " in " + context;
    if (expected) msg += ", expected " + expected;
    return this.fail(msg, t);
  }

  // --- entry points ---
  parseQuery(): Expr {
    if (this.peek().kind === "eof") {
      throw this.fail("no expression found in input", { start: 0, end: 0 });
    }
    const e = this.parseExpr(0);
    const t = this.peek();
    if (t.kind !== "eof") throw this.unexpected(t);
    return e;
  }

  parseSelectorOnly(): VectorSelector {
    const t = this.peek();
    let vs: VectorSelector;
    if (this.isPunct(t, "{")) vs = this.parseSelector("", t.start);
    else if (this.canBeMetricName(t)) {
      this.next();
      vs = this.parseSelector(t.text, t.start);
    } else throw this.unexpected(t);
    const end = this.peek();
    if (end.kind !== "eof") throw this.unexpected(end);
    return vs;
  }

  // --- expressions ---
  parseExpr(minPrec: number): Expr {
    let lhs = this.parseUnary();
    while (true) {
      const t = this.peek();
      if (t.kind !== "op" || !(t.key in PRECEDENCE)) break;
      const op = t.key as BinaryOp;
      const prec = PRECEDENCE[op];
      if (prec < minPrec) break;
      this.next();
      const modifiers = this.parseBinaryModifiers();
      const rhs = this.parseExpr(op === "^" ? prec : prec + 1);
      const bin: BinaryExpr = {
        type: "BinaryExpr",
        op,
        lhs,
        rhs,
        returnBool: modifiers.returnBool,
        matching: modifiers.matching,
        start: lhs.start,
        end: rhs.end,
      };
      if (
        !this.opts.fillModifiers &&
        (modifiers.matching.fillLeft !== null ||
          modifiers.matching.fillRight !== null)
      ) {
        throw this.fail(
          "binop fill modifiers are experimental and not enabled",
          bin,
        );
      }
      lhs = bin;
    }
    return lhs;
  }

  parseUnary(): Expr {
    const t = this.peek();
    if (this.isOp(t, "+") || this.isOp(t, "-")) {
      this.next();
      const operand = this.parseExpr(UNARY_OPERAND);
      if (operand.type === "NumberLiteral") {
        if (t.key === "-") operand.value = -operand.value;
        operand.start = t.start;
        return operand;
      }
      return {
        type: "UnaryExpr",
        op: t.key as "+" | "-",
        expr: operand,
        start: t.start,
        end: operand.end,
      };
    }
    return this.parseSuffixes(this.parsePrimary());
  }

  parseBinaryModifiers(): { returnBool: boolean; matching: VectorMatching } {
    const matching: VectorMatching = {
      card: "one-to-one",
      on: false,
      labels: [],
      include: [],
      fillLeft: null,
      fillRight: null,
    };
    let returnBool = false;
    if (this.isKeyword(this.peek(), "bool")) {
      this.next();
      returnBool = true;
    }
    const t = this.peek();
    if (this.isKeyword(t, "on") || this.isKeyword(t, "ignoring")) {
      this.next();
      matching.on = t.key === "on";
      matching.labels = this.parseGroupingLabels();
      const g = this.peek();
      if (this.isKeyword(g, "group_left") || this.isKeyword(g, "group_right")) {
        this.next();
        matching.card = g.key === "group_left" ? "many-to-one" : "one-to-many";
        if (this.isPunct(this.peek(), "(")) {
          matching.include = this.parseGroupingLabels();
        }
      }
    }
    const f = this.peek();
    if (this.isKeyword(f, "fill")) {
      this.next();
      matching.fillLeft = matching.fillRight = this.parseFillValue();
    } else if (this.isKeyword(f, "fill_left")) {
      this.next();
      matching.fillLeft = this.parseFillValue();
      if (this.isKeyword(this.peek(), "fill_right")) {
        this.next();
        matching.fillRight = this.parseFillValue();
      }
    } else if (this.isKeyword(f, "fill_right")) {
      this.next();
      matching.fillRight = this.parseFillValue();
      if (this.isKeyword(this.peek(), "fill_left")) {
        this.next();
        matching.fillLeft = this.parseFillValue();
      }
    }
    return { returnBool, matching };
  }

  parseFillValue(): number {
    this.expectPunct("(");
    let sign = 1;
    const s = this.peek();
    if (this.isOp(s, "+") || this.isOp(s, "-")) {
      this.next();
      if (s.key === "-") sign = -1;
    }
    const t = this.peek();
    if (t.kind !== "number" && t.kind !== "duration") {
      throw this.unexpected(t);
    }
    const lit = this.parseNumberToken();
    this.expectPunct(")");
    return sign * lit.value;
  }

  /** `(a, b, "c.d")`; a trailing comma is allowed. */
  parseGroupingLabels(): string[] {
    const open = this.peek();
    if (!this.isPunct(open, "(")) {
      throw this.unexpected(open, "grouping opts", '"("');
    }
    this.next();
    const labels: string[] = [];
    if (this.isPunct(this.peek(), ")")) {
      this.next();
      return labels;
    }
    while (true) {
      const t = this.peek();
      if (t.kind === "string") {
        const name = unquote(t.text);
        if (name === "" || !name.isWellFormed()) {
          throw this.fail(
            `invalid label name for grouping: ${goQuote(name)}`,
            t,
          );
        }
        labels.push(name);
      } else if (this.canBeLabelName(t)) {
        labels.push(t.text);
      } else {
        throw this.unexpected(t, "grouping opts", "label");
      }
      this.next();
      const sep = this.peek();
      if (this.isPunct(sep, ")")) {
        this.next();
        return labels;
      }
      if (!this.isPunct(sep, ",")) {
        throw this.unexpected(sep, "grouping opts", '"," or ")"');
      }
      this.next();
      if (this.isPunct(this.peek(), ")")) {
        this.next();
        return labels;
      }
    }
  }

  canBeLabelName(t: Token): boolean {
    switch (t.kind) {
      case "identifier":
      case "metricIdentifier":
      case "keyword":
      case "aggregator":
      case "preprocessor":
        return true;
      case "op":
        return t.key === "and" || t.key === "or" || t.key === "unless" ||
          t.key === "atan2";
      default:
        return false;
    }
  }

  canBeMetricName(t: Token): boolean {
    switch (t.kind) {
      case "identifier":
      case "metricIdentifier":
      case "aggregator":
      case "preprocessor":
        return true;
      case "keyword":
        return KEYWORD_METRIC_NAMES.has(t.key);
      case "op":
        return t.key === "and" || t.key === "or" || t.key === "unless";
      default:
        return false;
    }
  }

  parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "number":
      case "duration":
        return this.parseNumberToken();
      case "string":
        this.next();
        return {
          type: "StringLiteral",
          value: unquote(t.text),
          start: t.start,
          end: t.end,
        };
      case "punct":
        if (t.text === "(") {
          this.next();
          const inner = this.parseExpr(0);
          const close = this.expectPunct(")");
          return {
            type: "ParenExpr",
            expr: inner,
            start: t.start,
            end: close.end,
          };
        }
        if (t.text === "{") return this.parseSelector("", t.start);
        break;
      case "aggregator": {
        const n = this.peek(1);
        if (
          this.isPunct(n, "(") || this.isKeyword(n, "by") ||
          this.isKeyword(n, "without")
        ) {
          return this.parseAggregation();
        }
        break;
      }
      case "identifier":
      case "preprocessor":
        if (this.isPunct(this.peek(1), "(")) return this.parseCall();
        break;
    }
    if (this.canBeMetricName(t)) {
      this.next();
      return this.parseSelector(t.text, t.start);
    }
    throw this.unexpected(t);
  }

  parseNumberToken(): NumberLiteral {
    const t = this.next();
    if (t.kind === "duration") {
      const seconds = parseDurationText(t.text);
      if (typeof seconds === "string") throw this.fail(seconds, t);
      return {
        type: "NumberLiteral",
        value: seconds,
        duration: true,
        start: t.start,
        end: t.end,
      };
    }
    const value = parseNumberText(t.text);
    if (typeof value === "string") throw this.fail(value, t);
    return {
      type: "NumberLiteral",
      value,
      duration: false,
      start: t.start,
      end: t.end,
    };
  }

  /** The braces (if any) after a metric name, or a bare `{...}`. */
  parseSelector(name: string, start: number): VectorSelector {
    const matchers: LabelMatcher[] = [];
    let end = this.lastEnd();
    if (this.isPunct(this.peek(), "{")) {
      this.next();
      this.parseMatchers(matchers);
      end = this.lastEnd();
    }
    if (name !== "") matchers.push(newMatcher("=", METRIC_NAME, name));
    return {
      type: "VectorSelector",
      name,
      matchers,
      offset: null,
      at: null,
      anchored: false,
      smoothed: false,
      bypassEmptyMatcherCheck: false,
      start,
      end,
    };
  }

  /** Matchers up to and including the closing brace. */
  parseMatchers(out: LabelMatcher[]): void {
    if (this.isPunct(this.peek(), "}")) {
      this.next();
      return;
    }
    while (true) {
      const t = this.peek();
      if (t.kind === "identifier" || t.kind === "string") {
        this.next();
        const name = t.kind === "string" ? unquote(t.text) : t.text;
        const op = this.peek();
        if (op.kind === "op" || op.kind === "punct") {
          const type = op.kind === "punct" ? op.text : op.key;
          if (MATCH_OPS.has(type)) {
            this.next();
            const v = this.peek();
            if (v.kind !== "string") {
              throw this.unexpected(v, "label matching", "string");
            }
            this.next();
            out.push(this.matcher(type as MatchType, name, unquote(v.text), {
              start: t.start,
              end: v.end,
            }));
          } else if (t.kind === "identifier") {
            throw this.unexpected(
              op,
              "label matching",
              "label matching operator",
            );
          } else {
            out.push(this.matcher("=", METRIC_NAME, name, t));
          }
        } else if (t.kind === "identifier") {
          throw this.unexpected(
            op,
            "label matching",
            "label matching operator",
          );
        } else {
          out.push(this.matcher("=", METRIC_NAME, name, t));
        }
      } else {
        throw this.unexpected(t, "label matching", 'identifier or "}"');
      }
      const sep = this.peek();
      if (this.isPunct(sep, "}")) {
        this.next();
        return;
      }
      if (!this.isPunct(sep, ",")) {
        throw this.unexpected(sep, "label matching", '"," or "}"');
      }
      this.next();
      if (this.isPunct(this.peek(), "}")) {
        this.next();
        return;
      }
    }
  }

  matcher(
    type: MatchType,
    name: string,
    value: string,
    range: PositionRange,
  ): LabelMatcher {
    try {
      return newMatcher(type, name, value);
    } catch (e) {
      if (e instanceof MatcherError) throw this.fail(e.message, range);
      throw e;
    }
  }

  /** `(a, b)` after a function or aggregation name. */
  parseCallArgs(): Expr[] {
    this.expectPunct("(");
    const args: Expr[] = [];
    if (this.isPunct(this.peek(), ")")) {
      this.next();
      return args;
    }
    while (true) {
      args.push(this.parseExpr(0));
      const t = this.peek();
      if (this.isPunct(t, ")")) {
        this.next();
        return args;
      }
      if (!this.isPunct(t, ",")) throw this.unexpected(t);
      this.next();
      if (this.isPunct(this.peek(), ")")) {
        throw this.fail("trailing commas not allowed in function call args", t);
      }
    }
  }

  parseCall(): Call {
    const name = this.next();
    const args = this.parseCallArgs();
    const func = getFunction(name.text);
    if (!func) {
      throw this.fail(`unknown function with name ${goQuote(name.text)}`, name);
    }
    if (func.experimental && !this.opts.experimentalFunctions) {
      throw this.fail(`function ${goQuote(name.text)} is not enabled`, name);
    }
    return {
      type: "Call",
      func,
      args,
      start: name.start,
      end: this.lastEnd(),
    };
  }

  parseAggregation(): AggregateExpr {
    const opTok = this.next();
    const op = opTok.key as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let modifierSeen = false;
    const modifier = () => {
      const t = this.peek();
      if (this.isKeyword(t, "by") || this.isKeyword(t, "without")) {
        this.next();
        without = t.key === "without";
        grouping = this.parseGroupingLabels();
        modifierSeen = true;
      }
    };
    modifier();
    const body = this.peek();
    if (!this.isPunct(body, "(")) throw this.unexpected(body, "aggregation");
    const args = this.parseCallArgs();
    if (!modifierSeen) modifier();
    const range = { start: opTok.start, end: this.lastEnd() };
    if (args.length === 0) {
      throw this.fail("no arguments for aggregate expression provided", range);
    }
    let wanted = 1;
    let param: Expr | null = null;
    if (PARAM_AGGREGATORS.has(op)) {
      if (
        !this.opts.experimentalFunctions &&
        (op === "limitk" || op === "limit_ratio")
      ) {
        throw this.fail(
          `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`,
          range,
        );
      }
      wanted = 2;
      param = args[0];
    }
    if (args.length !== wanted) {
      throw this.fail(
        `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`,
        range,
      );
    }
    return {
      type: "AggregateExpr",
      op,
      expr: args[wanted - 1],
      param,
      grouping,
      without,
      ...range,
    };
  }

  // --- selector suffixes: [range], [range:step], offset, @, anchored, smoothed ---
  parseSuffixes(e: Expr): Expr {
    while (true) {
      const t = this.peek();
      if (this.isPunct(t, "[")) {
        e = this.parseRangeOrSubquery(e);
      } else if (this.isKeyword(t, "offset")) {
        this.next();
        const offset = this.withDurationContext(
          ["offset", "number, duration, step(), or range()"],
          () => this.parseOffsetDuration(),
        );
        this.applyOffset(e, offset);
      } else if (this.isOp(t, "@")) {
        this.next();
        this.applyAt(e, this.parseAtValue(e));
      } else if (
        this.isKeyword(t, "anchored") || this.isKeyword(t, "smoothed")
      ) {
        this.next();
        this.applyExtended(e, t.key as "anchored" | "smoothed");
      } else return e;
    }
  }

  parseRangeOrSubquery(e: Expr): Expr {
    const open = this.next();
    if (!this.startsDuration(this.peek())) {
      throw this.unexpected(
        this.peek(),
        "subquery or range selector",
        "number, duration, step(), or range()",
      );
    }
    const range = this.withDurationContext(
      ["subquery or range selector", "number, duration, step(), or range()"],
      () => this.parsePositiveDuration(),
    );
    const t = this.peek();
    if (this.isPunct(t, "]")) {
      this.next();
      let problem = "";
      if (e.type !== "VectorSelector") {
        problem = "ranges only allowed for vector selectors";
      } else if (e.offset !== null) {
        problem = "no offset modifiers allowed before range";
      } else if (e.at !== null) {
        problem = "no @ modifiers allowed before range";
      }
      if (problem) throw this.fail(problem, { start: open.start, end: t.end });
      const vs = e as VectorSelector;
      return {
        type: "MatrixSelector",
        selector: vs,
        range,
        start: vs.start,
        end: t.end,
      };
    }
    if (!this.isPunct(t, ":")) {
      throw this.unexpected(t, "subquery or range", '":" or "]"');
    }
    this.next();
    let step: DurationExpr | null = null;
    if (!this.isPunct(this.peek(), "]")) {
      if (!this.startsDuration(this.peek())) {
        throw this.unexpected(
          this.peek(),
          "subquery selector",
          'number, duration, step(), range(), or "]"',
        );
      }
      step = this.withDurationContext(
        ["subquery selector", 'number, duration, step(), range(), or "]"'],
        () => this.parsePositiveDuration(),
      );
    }
    const close = this.peek();
    if (!this.isPunct(close, "]")) {
      throw this.unexpected(close, "subquery selector", '"]"');
    }
    this.next();
    const sq: SubqueryExpr = {
      type: "SubqueryExpr",
      expr: e,
      range,
      step,
      offset: null,
      at: null,
      start: e.start,
      end: close.end,
    };
    return sq;
  }

  applyOffset(e: Expr, offset: DurationExpr): void {
    const target = e.type === "MatrixSelector" ? e.selector : e;
    if (target.type !== "VectorSelector" && target.type !== "SubqueryExpr") {
      throw this.fail(
        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        e,
      );
    }
    if (target.offset !== null) {
      throw this.fail("offset may not be set multiple times", e);
    }
    // A literal zero offset is no offset (Prometheus keeps none either).
    const isZero = offset.type === "NumberLiteral" && offset.value === 0;
    target.offset = isZero ? null : offset;
    e.end = this.lastEnd();
  }

  parseAtValue(e: Expr): AtModifier {
    const t = this.peek();
    if (t.kind === "preprocessor" && (t.key === "start" || t.key === "end")) {
      this.next();
      this.expectPunct("(");
      this.expectPunct(")");
      return t.key;
    }
    let sign = 1;
    let lit = t;
    if (this.isOp(t, "+") || this.isOp(t, "-")) {
      lit = this.peek(1);
      if (lit.kind === "number" || lit.kind === "duration") {
        this.next();
        if (t.key === "-") sign = -1;
      }
    }
    if (lit.kind !== "number" && lit.kind !== "duration") {
      throw this.unexpected(this.peek(), "@", "timestamp");
    }
    const seconds = sign * this.parseNumberToken().value;
    if (
      !Number.isFinite(seconds) || seconds >= 2 ** 63 || seconds <= -(2 ** 63)
    ) {
      throw this.fail(
        `timestamp out of bounds for @ modifier: ${goFloatF(seconds)}`,
        e,
      );
    }
    return Math.round(seconds * 1000);
  }

  applyAt(e: Expr, at: AtModifier): void {
    const target = e.type === "MatrixSelector" ? e.selector : e;
    if (target.type !== "VectorSelector" && target.type !== "SubqueryExpr") {
      throw this.fail(
        "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        e,
      );
    }
    if (target.at !== null) {
      throw this.fail("@ <timestamp> may not be set multiple times", e);
    }
    target.at = at;
    e.end = this.lastEnd();
  }

  applyExtended(e: Expr, which: "anchored" | "smoothed"): void {
    if (!this.opts.extendedRangeSelectors) {
      throw this.fail(
        `${which} modifier is experimental and not enabled`,
        e,
      );
    }
    if (e.type === "SubqueryExpr") {
      throw this.fail(`${which} modifier is not supported for subqueries`, e);
    }
    const target = e.type === "MatrixSelector" ? e.selector : e;
    if (target.type !== "VectorSelector") {
      throw this.fail(`${which} modifier not implemented`, e);
    }
    target[which] = true;
    if (target.anchored && target.smoothed) {
      throw this.fail(
        "anchored and smoothed modifiers cannot be used together",
        e,
      );
    }
    e.end = this.lastEnd();
  }

  // --- durations ---
  withDurationContext<T>(context: [string, string], parse: () => T): T {
    this.durationContext = context;
    try {
      return parse();
    } finally {
      this.durationContext = null;
    }
  }

  startsDuration(t: Token): boolean {
    return t.kind === "number" || t.kind === "duration" ||
      this.isPunct(t, "(") || this.isOp(t, "+") || this.isOp(t, "-") ||
      (t.kind === "preprocessor" && t.key !== "start" && t.key !== "end");
  }

  /** A range or subquery step: a literal must be > 0. */
  parsePositiveDuration(): DurationExpr {
    const d = this.parseDuration(0);
    if (d.type === "NumberLiteral") {
      if (d.value <= 0) throw this.fail("duration must be greater than 0", d);
      d.duration = true; // canonical form prints a bare literal as a duration
    }
    return d;
  }

  /**
   * After `offset`: a literal, signed literal, step(), range(), min_of(),
   * max_of() or signed parentheses ends the offset (`x offset 5m * 2` is
   * `(x offset 5m) * 2`); a leading `(` starts full duration arithmetic.
   */
  parseOffsetDuration(): DurationExpr {
    let t = this.peek();
    let sign: Token | null = null;
    if (this.isOp(t, "+") || this.isOp(t, "-")) {
      const n = this.peek(1);
      if (
        n.kind === "number" || n.kind === "duration" ||
        n.kind === "preprocessor" || this.isPunct(n, "(")
      ) {
        sign = this.next();
        t = n;
      }
    }
    const negate = sign !== null && sign.key === "-" ? sign : null;
    let d: DurationExpr;
    if (t.kind === "number" || t.kind === "duration") {
      d = this.parseNumberToken();
      if (negate) d.value = -d.value;
      d.duration = true;
      if (sign) d.start = sign.start;
      this.checkDurationLiteral(d);
      return d;
    } else if (
      t.kind === "preprocessor" && t.key !== "start" && t.key !== "end"
    ) {
      d = this.parseDurationPrimary();
    } else if (this.isPunct(t, "(") && sign) {
      d = this.parseDurationPrimary();
    } else if (this.startsDuration(t)) {
      return this.parseDuration(0);
    } else {
      throw this.unexpected(
        t,
        "offset",
        "number, duration, step(), or range()",
      );
    }
    if (negate) {
      d = this.durationNode({
        type: "DurationNegation",
        expr: d,
        start: negate.start,
        end: d.end,
      });
    }
    return d;
  }

  parseDuration(minPrec: number): DurationExpr {
    let lhs = this.parseDurationUnary();
    while (true) {
      const t = this.peek();
      if (t.kind !== "op" || !(t.key in DURATION_PRECEDENCE)) break;
      const op = t.key as DurationOp;
      const prec = DURATION_PRECEDENCE[op];
      if (prec < minPrec) break;
      this.next();
      const rhs = this.parseDuration(op === "^" ? prec : prec + 1);
      if (rhs.type === "NumberLiteral" && rhs.value === 0) {
        if (op === "/") throw this.fail("division by zero", t);
        if (op === "%") throw this.fail("modulo by zero", t);
      }
      lhs = this.durationNode({
        type: "DurationBinary",
        op,
        lhs,
        rhs,
        start: lhs.start,
        end: rhs.end,
      });
    }
    return lhs;
  }

  parseDurationUnary(): DurationExpr {
    const t = this.peek();
    if (this.isOp(t, "+") || this.isOp(t, "-")) {
      this.next();
      const operand = this.parseDuration(DURATION_PRECEDENCE["^"]);
      if (operand.type === "NumberLiteral") {
        if (t.key === "-") operand.value = -operand.value;
        operand.start = t.start;
        this.checkDurationLiteral(operand);
        return operand;
      }
      if (t.key === "+") return operand;
      return this.durationNode({
        type: "DurationNegation",
        expr: operand,
        start: t.start,
        end: operand.end,
      });
    }
    return this.parseDurationPrimary();
  }

  parseDurationPrimary(): DurationExpr {
    const t = this.peek();
    if (t.kind === "number" || t.kind === "duration") {
      const lit = this.parseNumberToken();
      this.checkDurationLiteral(lit);
      return lit;
    }
    if (this.isPunct(t, "(")) {
      this.next();
      const inner = this.parseDuration(0);
      const close = this.expectPunct(")");
      return this.durationNode({
        type: "DurationParen",
        expr: inner,
        start: t.start,
        end: close.end,
      });
    }
    if (t.kind === "preprocessor") {
      if (t.key === "step" || t.key === "range") {
        this.next();
        this.expectPunct("(");
        const close = this.expectPunct(")");
        return this.durationNode({
          type: "DurationCall",
          func: t.key,
          args: [],
          start: t.start,
          end: close.end,
        });
      }
      if (t.key === "min_of" || t.key === "max_of") {
        this.next();
        this.expectPunct("(");
        const a = this.parseDuration(0);
        this.expectPunct(",");
        const b = this.parseDuration(0);
        const close = this.expectPunct(")");
        return this.durationNode({
          type: "DurationCall",
          func: t.key,
          args: [a, b],
          start: t.start,
          end: close.end,
        });
      }
    }
    throw this.unexpected(t);
  }

  checkDurationLiteral(d: NumberLiteral): void {
    if (Math.abs(d.value) > MAX_DURATION_SECONDS) {
      throw this.fail("duration out of range", d);
    }
  }

  durationNode<T extends DurationExpr>(d: T): T {
    if (!this.opts.durationExpressions) {
      throw this.fail("experimental duration expression is not enabled", d);
    }
    return d;
  }
}

/** How Prometheus names a token in "unexpected ..." messages. */
export function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of input";
    case "error":
      return t.text;
    case "identifier":
      return `identifier ${goQuote(t.text)}`;
    case "metricIdentifier":
      return `metric identifier ${goQuote(t.text)}`;
    case "keyword":
      return `<${t.text}>`;
    case "aggregator":
      return `<aggr:${t.text}>`;
    case "op":
      return `<op:${t.text}>`;
    case "preprocessor":
    case "punct":
      return goQuote(t.text);
    case "number":
    case "duration":
    case "string": {
      const what = t.kind;
      if (new TextEncoder().encode(t.text).length > 10) {
        const head = [...t.text].slice(0, 10).join("");
        return `${what} ${goQuote(head)}...`;
      }
      return `${what} ${goQuote(t.text)}`;
    }
  }
}

/**
 * The value of a number token (decimal, `0x` hex, leading-zero octal,
 * floats, `_` separators, Inf, NaN) as Go's ParseInt-then-ParseFloat gives
 * it; a string is an error message.
 */
export function parseNumberText(text: string): number | string {
  const lower = text.toLowerCase();
  if (lower === "inf") return Infinity;
  if (lower === "nan") return NaN;
  const s = text.replaceAll("_", "");
  const int = /^0[xX][0-9a-fA-F]+$/.test(s)
    ? BigInt(s)
    : /^0[0-7]+$/.test(s)
    ? BigInt("0o" + s.slice(1))
    : null;
  if (int !== null) {
    if (int < 2n ** 63n) return Number(int);
    return `error parsing number: strconv.ParseFloat: parsing ${
      goQuote(text)
    }: invalid syntax`;
  }
  if (/^0[xX]/.test(s)) {
    return `error parsing number: strconv.ParseFloat: parsing ${
      goQuote(text)
    }: invalid syntax`;
  }
  const v = Number(s);
  if (Number.isNaN(v)) {
    return `error parsing number: strconv.ParseFloat: parsing ${
      goQuote(text)
    }: invalid syntax`;
  }
  if (!Number.isFinite(v)) {
    return `error parsing number: strconv.ParseFloat: parsing ${
      goQuote(text)
    }: value out of range`;
  }
  return v;
}

const UNIT_MS: Record<string, [order: number, ms: number]> = {
  y: [7, 365 * 24 * 3600 * 1000],
  w: [6, 7 * 24 * 3600 * 1000],
  d: [5, 24 * 3600 * 1000],
  h: [4, 3600 * 1000],
  m: [3, 60 * 1000],
  s: [2, 1000],
  ms: [1, 1],
};

/**
 * Prometheus' duration syntax (`1y2w3d4h5m6s7ms`, units largest first, each
 * at most once) to seconds; a string is an error message.
 */
export function parseDurationText(text: string): number | string {
  if (text === "0") return 0;
  if (text === "") return "empty duration string";
  const invalid = `not a valid duration string: ${goQuote(text)}`;
  let rest = text;
  let lastOrder = Infinity;
  let totalMs = 0n;
  while (rest !== "") {
    const m = /^([0-9]+)([^0-9]*)/.exec(rest);
    if (!m || m[2] === "") return invalid;
    const unit = UNIT_MS[m[2]];
    if (!unit) {
      return `unknown unit ${goQuote(m[2])} in duration ${goQuote(text)}`;
    }
    if (unit[0] >= lastOrder) return invalid;
    lastOrder = unit[0];
    totalMs += BigInt(m[1]) * BigInt(unit[1]);
    if (totalMs * 1000000n >= 2n ** 63n) return "duration out of range";
    rest = rest.slice(m[0].length);
  }
  return Number(totalMs) / 1000;
}

/** Go's `%f` (six decimals; `+Inf`, `-Inf`, `NaN`). */
function goFloatF(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return v.toFixed(6);
}
