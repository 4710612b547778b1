/**
 * The PromQL function table (Prometheus 3.9): each function's argument
 * types, how many trailing arguments may repeat or be omitted, and its
 * return type. Data only; the engine implements the functions.
 * @module
 */
import type { ValueType } from "./ast.ts";

/** A function's signature. */
export interface FunctionSignature {
  readonly name: string;
  /** Types of the declared arguments, in order. */
  readonly argTypes: readonly ValueType[];
  /**
   * 0: exactly `argTypes.length` arguments. n > 0: the last declared
   * argument is optional and, with the repeats, at most n of its kind may be
   * given (so between `argTypes.length - 1` and `argTypes.length - 1 + n`
   * arguments). -1: the last argument may repeat without bound (and may be
   * omitted).
   */
  readonly variadic: number;
  readonly returnType: ValueType;
  /** Behind Prometheus' `promql-experimental-functions` feature flag. */
  readonly experimental: boolean;
}

function fn(
  name: string,
  argTypes: ValueType[],
  returnType: ValueType,
  variadic: number,
  experimental = false,
): FunctionSignature {
  return Object.freeze({
    name,
    argTypes: Object.freeze(argTypes),
    variadic,
    returnType,
    experimental,
  });
}

const TABLE: readonly FunctionSignature[] = [
  fn("abs", ["vector"], "vector", 0),
  fn("absent", ["vector"], "vector", 0),
  fn("absent_over_time", ["matrix"], "vector", 0),
  fn("acos", ["vector"], "vector", 0),
  fn("acosh", ["vector"], "vector", 0),
  fn("asin", ["vector"], "vector", 0),
  fn("asinh", ["vector"], "vector", 0),
  fn("atan", ["vector"], "vector", 0),
  fn("atanh", ["vector"], "vector", 0),
  fn("avg_over_time", ["matrix"], "vector", 0),
  fn("ceil", ["vector"], "vector", 0),
  fn("changes", ["matrix"], "vector", 0),
  fn("clamp", ["vector", "scalar", "scalar"], "vector", 0),
  fn("clamp_max", ["vector", "scalar"], "vector", 0),
  fn("clamp_min", ["vector", "scalar"], "vector", 0),
  fn("cos", ["vector"], "vector", 0),
  fn("cosh", ["vector"], "vector", 0),
  fn("count_over_time", ["matrix"], "vector", 0),
  fn("day_of_month", ["vector"], "vector", 1),
  fn("day_of_week", ["vector"], "vector", 1),
  fn("day_of_year", ["vector"], "vector", 1),
  fn("days_in_month", ["vector"], "vector", 1),
  fn("deg", ["vector"], "vector", 0),
  fn("delta", ["matrix"], "vector", 0),
  fn("deriv", ["matrix"], "vector", 0),
  fn(
    "double_exponential_smoothing",
    ["matrix", "scalar", "scalar"],
    "vector",
    0,
    true,
  ),
  fn("end", [], "scalar", 0, true),
  fn("exp", ["vector"], "vector", 0),
  fn("first_over_time", ["matrix"], "vector", 0),
  fn("floor", ["vector"], "vector", 0),
  fn("histogram_avg", ["vector"], "vector", 0),
  fn("histogram_count", ["vector"], "vector", 0),
  fn("histogram_fraction", ["scalar", "scalar", "vector"], "vector", 0),
  fn("histogram_quantile", ["scalar", "vector"], "vector", 0),
  fn(
    "histogram_quantiles",
    ["vector", "string", "scalar", "scalar"],
    "vector",
    9,
    true,
  ),
  fn("histogram_stddev", ["vector"], "vector", 0),
  fn("histogram_stdvar", ["vector"], "vector", 0),
  fn("histogram_sum", ["vector"], "vector", 0),
  fn("hour", ["vector"], "vector", 1),
  fn("idelta", ["matrix"], "vector", 0),
  fn("increase", ["matrix"], "vector", 0),
  fn("info", ["vector", "vector"], "vector", 1, true),
  fn("irate", ["matrix"], "vector", 0),
  fn("label_join", ["vector", "string", "string", "string"], "vector", -1),
  fn(
    "label_replace",
    ["vector", "string", "string", "string", "string"],
    "vector",
    0,
  ),
  fn("last_over_time", ["matrix"], "vector", 0),
  fn("ln", ["vector"], "vector", 0),
  fn("log10", ["vector"], "vector", 0),
  fn("log2", ["vector"], "vector", 0),
  fn("mad_over_time", ["matrix"], "vector", 0, true),
  fn("max_of", ["scalar", "scalar"], "scalar", 0, true),
  fn("max_over_time", ["matrix"], "vector", 0),
  fn("min_of", ["scalar", "scalar"], "scalar", 0, true),
  fn("min_over_time", ["matrix"], "vector", 0),
  fn("minute", ["vector"], "vector", 1),
  fn("month", ["vector"], "vector", 1),
  fn("pi", [], "scalar", 0),
  fn("predict_linear", ["matrix", "scalar"], "vector", 0),
  fn("present_over_time", ["matrix"], "vector", 0),
  fn("quantile_over_time", ["scalar", "matrix"], "vector", 0),
  fn("rad", ["vector"], "vector", 0),
  fn("range", [], "scalar", 0, true),
  fn("rate", ["matrix"], "vector", 0),
  fn("resets", ["matrix"], "vector", 0),
  fn("round", ["vector", "scalar"], "vector", 1),
  fn("scalar", ["vector"], "scalar", 0),
  fn("sgn", ["vector"], "vector", 0),
  fn("sin", ["vector"], "vector", 0),
  fn("sinh", ["vector"], "vector", 0),
  fn("sort", ["vector"], "vector", 0),
  fn("sort_by_label", ["vector", "string"], "vector", -1, true),
  fn("sort_by_label_desc", ["vector", "string"], "vector", -1, true),
  fn("sort_desc", ["vector"], "vector", 0),
  fn("sqrt", ["vector"], "vector", 0),
  fn("start", [], "scalar", 0, true),
  fn("start_timestamp", ["vector"], "vector", 0, true),
  fn("stddev_over_time", ["matrix"], "vector", 0),
  fn("stdvar_over_time", ["matrix"], "vector", 0),
  fn("step", [], "scalar", 0, true),
  fn("sum_over_time", ["matrix"], "vector", 0),
  fn("tan", ["vector"], "vector", 0),
  fn("tanh", ["vector"], "vector", 0),
  fn("time", [], "scalar", 0),
  fn("timestamp", ["vector"], "vector", 0),
  fn("ts_of_first_over_time", ["matrix"], "vector", 0, true),
  fn("ts_of_last_over_time", ["matrix"], "vector", 0, true),
  fn("ts_of_max_over_time", ["matrix"], "vector", 0, true),
  fn("ts_of_min_over_time", ["matrix"], "vector", 0, true),
  fn("vector", ["scalar"], "vector", 0),
  fn("year", ["vector"], "vector", 1),
];

/** Every function by name (names are case-sensitive). */
export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(
  TABLE.map((f) => [f.name, f]),
);

/** The signature of `name`, or undefined for an unknown function. */
export function getFunction(name: string): FunctionSignature | undefined {
  return FUNCTIONS.get(name);
}

/** Smallest number of arguments a call to `f` takes. */
export function minArgs(f: FunctionSignature): number {
  return f.variadic === 0 ? f.argTypes.length : f.argTypes.length - 1;
}

/** Largest number of arguments a call to `f` takes (Infinity if unbounded). */
export function maxArgs(f: FunctionSignature): number {
  if (f.variadic === 0) return f.argTypes.length;
  if (f.variadic < 0) return Infinity;
  return f.argTypes.length - 1 + f.variadic;
}
