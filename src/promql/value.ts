/**
 * What a PromQL evaluation returns: the four value types, and a query's
 * result with its annotations. Times are integer milliseconds.
 * @module
 */
import type { Labels } from "../model/labels.ts";

/** One element of an instant vector. */
export interface VectorSample {
  metric: Labels;
  t: number;
  v: number;
}

/** One series of a range vector (matrix): parallel arrays, time ascending. */
export interface MatrixSeries {
  metric: Labels;
  ts: Float64Array;
  values: Float64Array;
}

/** A PromQL value. */
export type QueryValue =
  | { type: "scalar"; t: number; v: number }
  | { type: "string"; t: number; v: string }
  | { type: "vector"; samples: VectorSample[] }
  | { type: "matrix"; series: MatrixSeries[] };

/** A query's value with Prometheus' warnings and infos. */
export interface QueryResult {
  value: QueryValue;
  warnings: string[];
  infos: string[];
}

/** Errors an evaluation can end with, as the HTTP API maps them. */
export type QueryErrorType = "bad_data" | "execution" | "timeout" | "canceled";

/** A query that could not run (the API answers with its errorType). */
export class QueryError extends Error {
  constructor(readonly errorType: QueryErrorType, message: string) {
    super(message);
    this.name = "QueryError";
  }
}
