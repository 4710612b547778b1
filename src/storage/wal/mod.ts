/**
 * The storage engine's write-ahead log: `Wal` appends, `replay` reads back.
 * Byte layout: docs/format/wal.md.
 * @module
 */
export {
  type FsyncPolicy,
  Wal,
  type WalOptions,
  type WalStats,
} from "./wal.ts";
export {
  listWal,
  replay,
  type ReplayOptions,
  type ReplayProblem,
  type ReplayReport,
} from "./replay.ts";
export type { FileProblem, ProblemKind, RecordVisitor } from "./reader.ts";
export type {
  CheckpointContent,
  CheckpointRecord,
  RecordPosition,
  SamplesRecord,
  SeriesEntry,
  SeriesRecord,
  TombstonesRecord,
  WalRecord,
} from "./types.ts";
export {
  DEFAULT_SEGMENT_BYTES,
  MAX_RECORD_PAYLOAD,
  MAX_SAMPLES_PER_RECORD,
} from "./format.ts";
