/**
 * The records the WAL logs and replays.
 * @module
 */
import type { Labels } from "../../model/labels.ts";
import type { TenantId } from "../interface.ts";

/** One series creation: the caller's ref and the label set it names. */
export interface SeriesEntry {
  readonly ref: number;
  readonly labels: Labels;
}

/** New series of one tenant. */
export interface SeriesRecord {
  readonly kind: "series";
  readonly tenant: TenantId;
  readonly series: SeriesEntry[];
}

/**
 * A batch of samples of one tenant, as logged by one `logSamples` call
 * (split only past MAX_SAMPLES_PER_RECORD). `values` keeps every float64
 * bit pattern, NaN payloads included.
 */
export interface SamplesRecord {
  readonly kind: "samples";
  readonly tenant: TenantId;
  readonly refs: Uint32Array;
  readonly ts: Float64Array;
  readonly values: Float64Array;
}

/** A deletion: samples of `refs` within [mint, maxt] (inclusive). */
export interface TombstonesRecord {
  readonly kind: "tombstones";
  readonly tenant: TenantId;
  readonly refs: Uint32Array;
  readonly mint: number;
  readonly maxt: number;
}

/** Starts a checkpoint: the records after it replace segments ≤ `covers`. */
export interface CheckpointRecord {
  readonly kind: "checkpoint";
  readonly covers: number;
  readonly createdMs: number;
}

/** Any replayed record. */
export type WalRecord =
  | SeriesRecord
  | SamplesRecord
  | TombstonesRecord
  | CheckpointRecord;

/** Where a replayed record sits: its file and the byte offset of its header. */
export interface RecordPosition {
  readonly file: string;
  readonly offset: number;
  /** Offset just past the record. */
  readonly end: number;
}

/** Live state a checkpoint carries (supplied by the caller at truncation). */
export interface CheckpointContent {
  /** Every series still alive, by tenant. */
  series: Iterable<{ tenant: TenantId; ref: number; labels: Labels }>;
  /** Deletions that must outlive the truncated segments. */
  tombstones?: Iterable<
    { tenant: TenantId; refs: Uint32Array; mint: number; maxt: number }
  >;
}
