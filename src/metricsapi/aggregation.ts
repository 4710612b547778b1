/**
 * Aggregations of the query route: which fit which type, how a comma list
 * is parsed, and the value of one aggregation over a merged rollup.
 * @module
 */
import type { Rollup } from "./rollup.ts";
import type { MetricType } from "./types.ts";

/** Named aggregations allowed per type (distributions also take pNN / pNN.N). */
export const ALLOWED: Readonly<Record<MetricType, readonly string[]>> = {
  gauge: ["last", "avg", "min", "max"],
  counter: ["sum", "rate"],
  distribution: [
    "avg",
    "sum",
    "min",
    "max",
    "count",
    "p50",
    "p90",
    "p95",
    "p99",
  ],
  set: ["count"],
  event: ["count", "sum"],
};

/** The aggregation used when none is asked for. */
export const DEFAULT_AGGREGATION: Readonly<Record<MetricType, string>> = {
  gauge: "last",
  counter: "sum",
  distribution: "avg",
  set: "count",
  event: "count",
};

const PERCENTILE = /^p(\d{1,2})(\.\d)?$/;

/** The quantile in [0, 1) of `pNN` / `pNN.N`, or null. */
export function percentileOf(agg: string): number | null {
  const m = PERCENTILE.exec(agg);
  return m ? Number(m[1] + (m[2] ?? "")) / 100 : null;
}

/** The text listing what a type allows (for the 400 message). */
export function allowedText(type: MetricType): string {
  const names = ALLOWED[type].join(", ");
  return type === "distribution" ? `${names} (or any pNN / pNN.N)` : names;
}

/**
 * Splits a comma list and checks each against the type; returns the list,
 * or the first misfit.
 */
export function parseAggregations(
  text: string,
  type: MetricType,
): { ok: true; list: string[] } | { ok: false; bad: string } {
  const list = text.split(",").map((s) => s.trim());
  for (const a of list) {
    const fits = ALLOWED[type].includes(a) ||
      (type === "distribution" && percentileOf(a) !== null);
    if (!fits) return { ok: false, bad: a };
  }
  return { ok: true, list: [...new Set(list)] };
}

/**
 * One aggregation of a merged interval bucket. Sums, counts and rates of an
 * empty bucket are 0; the others are null.
 */
export function aggregate(
  agg: string,
  type: MetricType,
  b: Rollup,
  intervalMs: number,
): number | null {
  const empty = b.count === 0;
  switch (agg) {
    case "count":
      if (type === "set") return b.distinct ? b.distinct.count() : 0;
      return b.count;
    case "sum":
      return b.sum;
    case "rate":
      return b.sum / (intervalMs / 1000);
    case "avg":
      return empty ? null : b.sum / b.count;
    case "min":
      return empty ? null : b.min;
    case "max":
      return empty ? null : b.max;
    case "last":
      return empty ? null : b.last;
  }
  const q = percentileOf(agg);
  if (q === null || empty || !b.sketch) return null;
  return b.sketch.quantile(q);
}
