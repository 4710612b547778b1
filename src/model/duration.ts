/**
 * Compound durations such as `90s`, `1h30m` or `2w`: fixed-length units
 * summed, in any order. One parser for every place that takes one (flags,
 * the Metrics API's intervals, the telemetry step); the Prometheus query
 * API keeps its own stricter grammar (units in descending order, float
 * seconds) in src/server/http/params.ts.
 * @module
 */

/** Milliseconds per unit; `y` is 365 days (only where a caller allows it). */
export const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const WITH_YEARS = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const WITHOUT_YEARS = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/**
 * The milliseconds of a compound duration, or null when `text` is not one
 * (years only with `years`). The sum may be 0 or beyond 2^53: callers check
 * the range they accept.
 */
export function parseCompoundDuration(
  text: string,
  years = false,
): number | null {
  if (!(years ? WITH_YEARS : WITHOUT_YEARS).test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(PART)) {
    total += Number(n) * UNIT_MS[unit];
  }
  return total;
}
