/**
 * The evaluator's internal values: every expression is evaluated at all
 * steps of a query at once (an instant query has one step).
 * @module
 */
import type { Labels } from "../model/labels.ts";

/** One element of an instant vector at one step. */
export interface Sample {
  metric: Labels;
  v: number;
  /**
   * Prometheus 3's delayed name removal: the metric name is dropped when the
   * result leaves the engine (or before grouping), not where it was decided.
   */
  dropName: boolean;
}

/** A series of a range vector: parallel arrays, time ascending, no stale markers. */
export interface RangeSeries {
  metric: Labels;
  ts: Float64Array;
  vs: Float64Array;
  dropName: boolean;
}

/** Timestamps (ms) of the steps an expression is evaluated at. */
export interface EvalContext {
  times: Float64Array;
  /** Step interval in ms (0 for an instant query). */
  interval: number;
}

/** A value at every step. */
export type EvalValue =
  | { type: "scalar"; v: Float64Array }
  | { type: "string"; v: string }
  | { type: "vector"; steps: Sample[][] }
  | { type: "matrix"; series: RangeSeries[] };

/** Range data with, per step, the window end (inclusive) and length. */
export interface Windows {
  series: RangeSeries[];
  /** Per step: the window's end (inclusive); the start is end - range (exclusive). */
  ends: Float64Array;
  rangeMs: number;
}

/** Prometheus' annotation position suffix (` (line:column)`) of a node. */
export function positionSuffix(node: { start: number }): string {
  return ` (1:${node.start + 1})`;
}
