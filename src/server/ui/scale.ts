/**
 * Axis arithmetic for the chart: value extents and "nice" tick values
 * (1, 2, 5 × 10^k), and time ticks on round boundaries. Pure functions.
 * @module
 */

/** The finite min/max of some columns, widened when flat; null if none. */
export function extent(
  columns: Iterable<Float64Array>,
): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const col of columns) {
    for (const v of col) {
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min > max) return null;
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return { min: min - pad, max: max + pad };
  }
  return { min, max };
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return [min];
  const rough = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough) ??
    10 * mag;
  // Whole multiples of the step, rounded to the step's decimals so labels
  // read 0.3 rather than 0.30000000000000004.
  const decimals = Math.min(100, Math.max(0, -Math.floor(Math.log10(step))));
  const ticks: number[] = [];
  const last = Math.floor(max / step + 1e-9);
  for (let i = Math.ceil(min / step - 1e-9); i <= last; i++) {
    ticks.push(Number((i * step).toFixed(decimals)));
  }
  return ticks;
}

const TIME_STEPS = [
  1000,
  5000,
  15_000,
  30_000,
  60_000,
  300_000,
  900_000,
  1_800_000,
  3_600_000,
  10_800_000,
  21_600_000,
  43_200_000,
  86_400_000,
  604_800_000,
];

/** Tick times (ms) on round boundaries, about `count` of them. */
export function timeTicks(start: number, end: number, count = 6): number[] {
  const span = end - start;
  if (!(span > 0)) return [start];
  const rough = span / count;
  const step = TIME_STEPS.find((s) => s >= rough) ??
    Math.ceil(rough / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    ticks.push(t);
  }
  return ticks;
}

/** Formats a tick value compactly (1.5k, 2M, 0.001). */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(4))}G`;
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(4))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}

/** Index of the sample in sorted `ts` nearest to `t` (-1 when empty). */
export function nearestIndex(ts: Float64Array, t: number): number {
  if (ts.length === 0) return -1;
  let lo = 0;
  let hi = ts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && t - ts[lo - 1] <= ts[lo] - t) return lo - 1;
  return lo;
}
