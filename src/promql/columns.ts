/**
 * A columnar instant vector: a fixed list of series and, per step and
 * series, a value and a presence flag in flat typed arrays (step-major:
 * cell `step * series + s`). Selectors and range functions produce it so
 * that aggregations and the final result can work per series (labels
 * grouped or keyed once per series, not once per step) and no object is
 * made per sample. `steps` (one `Sample[]` per step, series order) is built
 * on first use for every consumer that needs it, so the two forms always
 * hold the same samples in the same order.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import type { Sample } from "./eval_types.ts";

/** Most cells (series × steps) a columnar vector may hold; beyond it producers build steps directly. */
export const MAX_COLUMN_CELLS = 16_000_000;

/** The columns of one vector. */
export interface VectorColumns {
  /** Per series, its labels. */
  readonly metrics: Labels[];
  /** Per series, whether its name is to be dropped. */
  readonly dropName: Uint8Array;
  readonly nSteps: number;
  /** Value of series s at step i: `values[i * metrics.length + s]`. */
  readonly values: Float64Array;
  /** 1 where the series has a sample at that step. */
  readonly present: Uint8Array;
}

/** An instant vector at every step, held as columns; `steps` materialized lazily. */
export class ColumnarVector {
  readonly type = "vector";
  #steps: Sample[][] | null = null;

  constructor(readonly cols: VectorColumns) {}

  /** The per-step form: for each step, the present series' samples in series order. */
  get steps(): Sample[][] {
    if (this.#steps) return this.#steps;
    const { metrics, dropName, nSteps, values, present } = this.cols;
    const nSeries = metrics.length;
    const steps: Sample[][] = new Array(nSteps);
    for (let i = 0; i < nSteps; i++) {
      const out: Sample[] = [];
      const base = i * nSeries;
      for (let s = 0; s < nSeries; s++) {
        if (present[base + s] === 0) continue;
        out.push({
          metric: metrics[s],
          v: values[base + s],
          dropName: dropName[s] === 1,
        });
      }
      steps[i] = out;
    }
    this.#steps = steps;
    return steps;
  }
}

/** Whether a columnar vector of this size may be built. */
export function columnsFit(nSeries: number, nSteps: number): boolean {
  return nSeries * nSteps <= MAX_COLUMN_CELLS;
}

/** The columns behind a vector value, when it has them. */
export function columnsOf(v: { steps: Sample[][] }): VectorColumns | null {
  return v instanceof ColumnarVector ? v.cols : null;
}
