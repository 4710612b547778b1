/**
 * The PromQL front end: lexer, parser, type checker, printer and the
 * function table (Prometheus 3.9 semantics).
 *
 * @example
 * ```ts
 * import { format, parse } from "./mod.ts";
 * format(parse("sum by(job)(rate(x[5m]))")); // "sum by (job) (rate(x[5m]))"
 * ```
 * @module
 */
export * from "./ast.ts";
export { ParseError } from "./errors.ts";
export {
  FUNCTIONS,
  type FunctionSignature,
  getFunction,
  maxArgs,
  minArgs,
} from "./functions.ts";
export { documentedType, isComparison, isSetOperator } from "./checker.ts";
export { lex, type Token, type TokenKind } from "./lexer.ts";
export {
  parse,
  parseDurationText,
  parseMetricSelector,
  type ParseOptions,
} from "./parser.ts";
export {
  format,
  formatDuration,
  formatDurationExpr,
  formatMatcher,
  formatNumber,
  pretty,
} from "./printer.ts";
export {
  PromQLEngine,
  type PromQLEngineOptions,
  type QueryOptions,
} from "./engine.ts";
export { formatValue } from "./format_value.ts";
export {
  type MatrixSeries,
  QueryError,
  type QueryErrorType,
  type QueryResult,
  type QueryValue,
  type VectorSample,
} from "./value.ts";
