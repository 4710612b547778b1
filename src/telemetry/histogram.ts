/**
 * The telemetry histogram: per bucket and per key, the summed increase of
 * the selected counters, rounded to an integer at the end.
 * @module
 */
import { compareStrings } from "../model/labels.ts";
import type { Querier } from "../storage/interface.ts";
import { forEachIncrease, LOOKBACK_MS } from "./increase.ts";
import type { TelemetryQuery } from "./request.ts";
import { bucketKey, telemetryMatchers } from "./select.ts";

/** One entry of the response's `data`. */
export interface TelemetryPoint {
  ts: number;
  bucket: Record<string, { count: number }>;
}

/** A series could not be read (e.g. a sample limit). */
export class TelemetryReadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TelemetryReadError";
  }
}

/** Options of computeTelemetry. */
export interface ComputeOptions {
  lookbackMs?: number;
  /** Called before each series; throws to stop (deadline, cancellation). */
  checkpoint?: () => void;
}

/**
 * Computes the histogram over `querier`, which must cover
 * `[q.start - lookback, q.end)`. Buckets without any sample pair are
 * omitted unless `q.fill`; within a bucket, keys are sorted.
 */
export function computeTelemetry(
  querier: Querier,
  q: TelemetryQuery,
  opts: ComputeOptions = {},
): TelemetryPoint[] {
  if (q.buckets === 0) return [];
  const lookbackMs = opts.lookbackMs ?? LOOKBACK_MS;
  const tagNames = q.tags.map(([name]) => name);
  const sums: (Map<string, number> | undefined)[] = new Array(q.buckets);
  const series = querier.select(telemetryMatchers(q.metric, q.tags), {
    start: q.start - lookbackMs,
    end: q.end - 1,
  });
  for (const s of series) {
    opts.checkpoint?.();
    const key = bucketKey(s.labels, tagNames);
    const err = forEachIncrease(s.iterator(), q, (k, delta) => {
      const m = sums[k] ??= new Map();
      m.set(key, (m.get(key) ?? 0) + delta);
    }, lookbackMs);
    if (err) {
      throw new TelemetryReadError(`reading ${q.metric}: ${err.message}`, {
        cause: err,
      });
    }
  }
  const out: TelemetryPoint[] = [];
  for (let k = 0; k < q.buckets; k++) {
    const m = sums[k];
    if (!m && !q.fill) continue;
    // No prototype: a tag value "__proto__" must stay an ordinary key.
    const bucket: Record<string, { count: number }> = Object.create(null);
    if (m) {
      for (const key of [...m.keys()].sort(compareStrings)) {
        bucket[key] = { count: Math.round(m.get(key)!) };
      }
    }
    out.push({ ts: q.start + k * q.step, bucket });
  }
  return out;
}
