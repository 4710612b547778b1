/**
 * Per-tenant, per-class request rate limits ("N per minute") as token
 * buckets: capacity N, refilled continuously at N per 60 s. A bucket is
 * two numbers, so memory is O(tenants x classes) whatever N is (a sliding
 * log would hold N timestamps), there is no double burst at a window
 * boundary (fixed windows allow 2N in an instant), and the wait until the
 * next request passes is exact, which is what Retry-After reports.
 *
 * Arithmetic is in integers: a request costs 60 000 units and a bucket
 * gains N units per millisecond, so with integer clocks nothing drifts.
 * @module
 */
import type { TenantLimits } from "../context.ts";
import { HttpError } from "../http/errors.ts";

/** The limited request classes. */
export type LimitClass = "batch" | "query" | "write";

/** Outcome of one `take`. */
export type TakeResult =
  | { ok: true }
  | { ok: false; retryAfterSeconds: number };

const MINUTE_MS = 60_000;
/** Cost of one request in bucket units (gain is `limitPerMinute` per ms). */
const COST = MINUTE_MS;

interface Bucket {
  units: number;
  lastMs: number;
  limit: number;
}

/** The per-minute figure that governs `cls` in `limits`. */
export function perMinuteFor(limits: TenantLimits, cls: LimitClass): number {
  switch (cls) {
    case "batch":
      return limits.batchPerMinute;
    case "query":
      return limits.queryPerMinute;
    case "write":
      return limits.writePerMinute;
  }
}

/** Token buckets keyed by tenant and class, with an injectable clock. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  #nextSweepMs = -Infinity;

  /** `sweepIntervalMs`: how often (clock time) full buckets are dropped. */
  constructor(private readonly sweepIntervalMs = MINUTE_MS) {}

  /** Buckets held (full, idle ones are dropped by the periodic sweep). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one request for `tenant`/`cls` at `nowMs` under a limit of
   * `limitPerMinute` (0 or less: unlimited, nothing stored). When refused,
   * `retryAfterSeconds` is the time until one more request would pass,
   * rounded up to whole seconds (at least 1).
   */
  take(
    tenant: string,
    cls: LimitClass,
    limitPerMinute: number,
    nowMs: number,
  ): TakeResult {
    this.#maybeSweep(nowMs);
    if (!(limitPerMinute > 0)) return { ok: true };
    const capacity = limitPerMinute * COST;
    const key = `${cls}\u0000${tenant}`;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { units: capacity, lastMs: nowMs, limit: limitPerMinute };
      this.#buckets.set(key, b);
    } else {
      // A clock that steps back refills nothing (and takes nothing back).
      const elapsed = Math.max(0, nowMs - b.lastMs);
      b.units = Math.min(capacity, b.units + elapsed * limitPerMinute);
      b.lastMs = Math.max(b.lastMs, nowMs);
      b.limit = limitPerMinute;
    }
    if (b.units >= COST) {
      b.units -= COST;
      return { ok: true };
    }
    const waitMs = (COST - b.units) / limitPerMinute;
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    };
  }

  /** Drops buckets that have refilled completely: they equal a fresh one. */
  #maybeSweep(nowMs: number): void {
    if (nowMs < this.#nextSweepMs) return;
    this.#nextSweepMs = nowMs + this.sweepIntervalMs;
    for (const [key, b] of this.#buckets) {
      const fullAtMs = b.lastMs + (b.limit * COST - b.units) / b.limit;
      if (nowMs >= fullAtMs) this.#buckets.delete(key);
    }
  }
}

/**
 * Takes one request or throws HttpError 429 with `Retry-After`. `code` is
 * the error code for the route's envelope ("too_many_requests" on the
 * Prometheus API, "rate_limited" on the Metrics API).
 */
export function enforce(
  limiter: RateLimiter,
  tenant: string,
  cls: LimitClass,
  limitPerMinute: number,
  nowMs: number,
  code: "too_many_requests" | "rate_limited" = "too_many_requests",
): void {
  const r = limiter.take(tenant, cls, limitPerMinute, nowMs);
  if (r.ok) return;
  throw new HttpError(
    429,
    code,
    `rate limit exceeded: ${limitPerMinute} ${cls} requests per minute for tenant ${tenant}; retry in ${r.retryAfterSeconds}s`,
    { "Retry-After": String(r.retryAfterSeconds) },
  );
}
