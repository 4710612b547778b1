/**
 * The storage engine's narrow interfaces. Engines (PromQL, the Metrics API,
 * telemetry, remote read) see storage only through these.
 *
 * Times are integer milliseconds held in numbers: the storage accepts
 * timestamps in [MIN_TIME, MAX_TIME] (±2^53 - 1 ms, about ±285,000 years),
 * so every stored timestamp is exact as a JS number. Each bound below says
 * whether it is inclusive.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import type { Matcher } from "../model/matcher.ts";

/** Smallest storable timestamp (inclusive). */
export const MIN_TIME = -Number.MAX_SAFE_INTEGER;
/** Largest storable timestamp (inclusive). */
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** A tenant's id; every series, posting, stat and limit belongs to one. */
export type TenantId = string;

/**
 * A cursor over one series' samples in time order. `next` and `seek` move
 * it; `t` and `v` read the current sample. No object is made per sample.
 *
 * Values keep their float64 bits (NaN payloads, the stale marker) as long
 * as callers copy them through Float64Arrays; `vBits` is not offered since
 * JavaScript numbers may quiet signalling NaNs: use `isStale()`.
 */
export interface SampleIterator {
  /** Advances to the next sample; false at the end (or on error, see `err`). */
  next(): boolean;
  /** Advances to the first sample with timestamp >= t (inclusive); false if none. */
  seek(t: number): boolean;
  /** Timestamp of the current sample. */
  readonly t: number;
  /** Value of the current sample. */
  readonly v: number;
  /** True when the current sample is a Prometheus stale marker. */
  isStale(): boolean;
  /** The error that ended iteration, if any. */
  err(): Error | null;
}

/** A chunk as stored: Prometheus XOR bytes covering [minTime, maxTime] (both inclusive). */
export interface ChunkMeta {
  readonly minTime: number;
  readonly maxTime: number;
  /** XOR chunk bytes (a view valid until the querier is closed). */
  readonly data: Uint8Array;
}

/** One selected series. */
export interface Series {
  readonly labels: Labels;
  /** A cursor over the samples within the querier's [mint, maxt]. */
  iterator(): SampleIterator;
  /**
   * The series' XOR chunks overlapping [mint, maxt], in time order and
   * non-overlapping (edge chunks may hold samples outside the range; remote
   * read trims them). Used by remote read STREAMED_XOR_CHUNKS.
   */
  chunks(): ChunkMeta[];
}

/** Hints a querier may use to select less. */
export interface SelectHints {
  /** Only these times matter (inclusive); defaults to the querier's range. */
  start?: number;
  end?: number;
  /** Stop after this many series (for /api/v1/series limits). */
  limit?: number;
}

/** Reads one tenant's data within [mint, maxt] (both inclusive). */
export interface Querier {
  /**
   * The series matching every matcher (at least one matcher must not match
   * the empty string), sorted by labels.
   */
  select(matchers: readonly Matcher[], hints?: SelectHints): Series[];
  /** Label names of series with samples in range matching `matchers` (all if empty), sorted. */
  labelNames(matchers?: readonly Matcher[]): string[];
  /** Values of label `name` among series in range matching `matchers`, sorted. */
  labelValues(name: string, matchers?: readonly Matcher[]): string[];
  /** Releases what the querier holds. */
  close(): void;
}

/** Per-sample rejection reasons, as Prometheus names them. */
export type RejectReason =
  | "out of order sample"
  | "duplicate sample for timestamp"
  | "out of bounds"
  | "too many series"
  | "invalid labels";

/** What a commit did: accepted counts and, per rejected sample, why. */
export interface AppendResult {
  samplesAccepted: number;
  /** Identical duplicates (same timestamp, same value bits): accepted, no-op. */
  samplesDeduplicated: number;
  rejected: { index: number; reason: RejectReason; message: string }[];
}

/**
 * A write transaction for one tenant: add samples, then `commit` (durable
 * in the WAL before it resolves) or `rollback`. Samples of one appender
 * become visible to queriers at commit.
 */
export interface Appender {
  /** Queues one sample; its index in AppendResult.rejected is the call order. */
  append(labels: Labels, t: number, v: number): void;
  /**
   * Queues samples of one series. Values are copied as float64 bits, so
   * NaN payloads and the stale marker survive (a JS number may not keep a
   * signalling NaN). Each sample takes the next index.
   */
  appendSeries(
    labels: Labels,
    timestamps: ArrayLike<number>,
    values: Float64Array,
  ): void;
  /**
   * Queues one sample whose value is `values[index]`, its bits copied
   * exactly (a decoder's columnar values, without a view per sample).
   */
  appendFrom(
    labels: Labels,
    t: number,
    values: Float64Array,
    index: number,
  ): void;
  /** Applies and logs the queued samples; the good ones survive even when others are rejected. */
  commit(): Promise<AppendResult>;
  /** Drops the queued samples. */
  rollback(): void;
}

/** Per-tenant index statistics, for /api/v1/status/tsdb. */
export interface TenantStats {
  numSeries: number;
  /** Distinct label name/value pairs in the head index. */
  numLabelPairs: number;
  minTime: number;
  maxTime: number;
  seriesCountByMetricName: { name: string; value: number }[];
  labelValueCountByLabelName: { name: string; value: number }[];
  memoryInBytesByLabelName: { name: string; value: number }[];
  seriesCountByLabelValuePair: { name: string; value: number }[];
}

/** The whole store. */
export interface Storage {
  appender(tenant: TenantId): Appender;
  /** A querier over [mint, maxt] (both inclusive). */
  querier(tenant: TenantId, mint: number, maxt: number): Querier;
  /** Deletes samples of matching series within [mint, maxt] (inclusive). */
  deleteSeries(
    tenant: TenantId,
    matchers: readonly Matcher[],
    mint: number,
    maxt: number,
  ): Promise<number>;
  stats(tenant: TenantId, limit?: number): TenantStats;
  /** Flushes and closes; the store cannot be used afterwards. */
  close(): Promise<void>;
}
