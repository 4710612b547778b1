/**
 * The JSON side of the decode check: the raw samples of a read fetched as
 * a Prometheus matrix, converted to the same shape as decoded chunks, and
 * compared sample by sample.
 * @module
 */
import type { RawSeries } from "./remote_read.ts";

/** A Prometheus matrix series as JSON. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values?: [number, string][];
}

/** A JSON sample value ("1.5", "NaN", "+Inf") as a number. */
export function parseSampleValue(s: string): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** Converts a JSON matrix to raw series (timestamps in ms). */
export function matrixToRaw(matrix: MatrixSeries[]): RawSeries[] {
  return matrix.map((s) => {
    const vals = s.values ?? [];
    return {
      labels: s.metric,
      timestamps: Float64Array.from(vals, (v) => Math.round(v[0] * 1000)),
      values: Float64Array.from(vals, (v) => parseSampleValue(v[1])),
    };
  });
}

/** A canonical key of a label set (order-independent). */
export function labelsKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(labels).sort().map((k) => [k, labels[k]]),
  );
}

/** The outcome of comparing decoded chunks with the JSON API. */
export interface Comparison {
  equal: boolean;
  series: number;
  samples: number;
  /** The first difference, when there is one. */
  difference?: string;
}

/**
 * Compares two sets of series exactly: same label sets, same timestamps,
 * same values (NaN equals NaN; JSON cannot carry NaN payloads).
 */
export function compareRaw(
  decoded: RawSeries[],
  json: RawSeries[],
): Comparison {
  const samples = decoded.reduce((n, s) => n + s.values.length, 0);
  const fail = (difference: string): Comparison => ({
    equal: false,
    series: decoded.length,
    samples,
    difference,
  });
  const byKey = new Map(json.map((s) => [labelsKey(s.labels), s]));
  if (byKey.size !== decoded.length) {
    return fail(`${decoded.length} series decoded, ${byKey.size} in JSON`);
  }
  for (const d of decoded) {
    const key = labelsKey(d.labels);
    const j = byKey.get(key);
    if (!j) return fail(`series ${key} missing from JSON`);
    if (j.values.length !== d.values.length) {
      return fail(
        `${key}: ${d.values.length} samples decoded, ${j.values.length} in JSON`,
      );
    }
    for (let i = 0; i < d.values.length; i++) {
      const same = d.timestamps[i] === j.timestamps[i] &&
        (Object.is(d.values[i], j.values[i]) ||
          (Number.isNaN(d.values[i]) && Number.isNaN(j.values[i])) ||
          d.values[i] === j.values[i]);
      if (!same) {
        return fail(
          `${key} sample ${i}: decoded (${d.timestamps[i]}, ${
            d.values[i]
          }), JSON (${j.timestamps[i]}, ${j.values[i]})`,
        );
      }
    }
  }
  return { equal: true, series: decoded.length, samples };
}
