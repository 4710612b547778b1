/**
 * Rollup resolutions and how long each is kept, and the choice of the
 * coarsest one that can answer a query interval.
 * @module
 */

/** One rollup resolution. */
export interface Resolution {
  readonly name: string;
  readonly ms: number;
  /** Buckets older than now minus this are dropped (Infinity: kept). */
  readonly horizonMs: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Finest first. The finest is the storage resolution: no interval below it. */
export const RESOLUTIONS: readonly Resolution[] = [
  { name: "1m", ms: MINUTE, horizonMs: 3 * DAY },
  { name: "1h", ms: HOUR, horizonMs: 120 * DAY },
  { name: "1d", ms: DAY, horizonMs: Infinity },
];

/** The storage resolution (smallest query interval). */
export const MIN_INTERVAL_MS = RESOLUTIONS[0].ms;

/**
 * The coarsest resolution whose buckets tile `intervalMs` and which still
 * holds data at `fromMs`; failing that, the coarsest that holds data at
 * `fromMs` and is no wider than the interval (its buckets are assigned to
 * the interval containing their start). Null when none holds `fromMs`.
 */
export function chooseResolution(
  intervalMs: number,
  fromMs: number,
  nowMs: number,
): Resolution | null {
  const holds = (r: Resolution) =>
    r.ms <= intervalMs && fromMs >= nowMs - r.horizonMs;
  for (let i = RESOLUTIONS.length - 1; i >= 0; i--) {
    const r = RESOLUTIONS[i];
    if (holds(r) && intervalMs % r.ms === 0) return r;
  }
  for (let i = RESOLUTIONS.length - 1; i >= 0; i--) {
    if (holds(RESOLUTIONS[i])) return RESOLUTIONS[i];
  }
  return null;
}

/** Intervals the default picks from, smallest first. */
const LADDER = [
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  7 * DAY,
  30 * DAY,
];

/** Most points the default interval yields. */
export const DEFAULT_MAX_POINTS = 300;

/** The smallest ladder interval giving at most DEFAULT_MAX_POINTS over [from, to). */
export function defaultInterval(fromMs: number, toMs: number): number {
  const span = Math.max(toMs - fromMs, 1);
  for (const step of LADDER) {
    if (Math.ceil(span / step) <= DEFAULT_MAX_POINTS) return step;
  }
  return Math.ceil(span / DEFAULT_MAX_POINTS / DAY) * DAY;
}
