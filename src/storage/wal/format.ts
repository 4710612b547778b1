/**
 * The WAL's on-disk constants: file header, record framing, record types,
 * limits and file names. docs/format/wal.md is the byte-level spec.
 * @module
 */

/** "TWAL": the first four bytes of every segment and checkpoint file. */
export const MAGIC = 0x4c415754; // "TWAL" read as a little-endian u32
/** Format version (byte 4 of the file header). */
export const VERSION = 1;
/** File header: magic u32 LE, version u8, three zero bytes. */
export const FILE_HEADER_SIZE = 8;

/** Record header: type u8, payload length u32 LE, CRC-32C u32 LE of type + payload. */
export const RECORD_HEADER_SIZE = 9;

/** Record types (0 is never valid, so zero-filled space is never a record). */
export const RecordType = {
  /** Interns a tenant name as a small id, scoped to one file. */
  TENANT: 1,
  /** Series refs and their label sets, for one tenant. */
  SERIES: 2,
  /** A batch of (ref, t, value) samples for one tenant. */
  SAMPLES: 3,
  /** A deletion of [mint, maxt] for series refs of one tenant. */
  TOMBSTONES: 4,
  /** First record of a checkpoint file: which segments it replaces. */
  CHECKPOINT: 5,
} as const;

/** SAMPLES flag: timestamps are raw float64s instead of varint deltas. */
export const SAMPLES_RAW_TIMESTAMPS = 1;

/** Largest payload a reader accepts; a header claiming more is corruption. */
export const MAX_RECORD_PAYLOAD = 64 * 1024 * 1024;
/** A writer splits larger sample batches (at most 21 bytes each: ≤ 22 MB a record). */
export const MAX_SAMPLES_PER_RECORD = 1 << 20;
/** A writer closes a SERIES record once its payload passes this size. */
export const SERIES_RECORD_TARGET = 1024 * 1024;

/** Default segment size limit. */
export const DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024;

/** Segment file name: the number as 8 decimal digits. */
export function segmentName(n: number): string {
  return String(n).padStart(8, "0");
}

/** The segment number a file name denotes, or -1. */
export function parseSegmentName(name: string): number {
  return /^\d{8,}$/.test(name) ? Number(name) : -1;
}

/** Checkpoint file name: covers segments up to and including `n`. */
export function checkpointName(n: number): string {
  return `checkpoint.${segmentName(n)}`;
}

/** The last segment a checkpoint file name covers, or -1. */
export function parseCheckpointName(name: string): number {
  const m = /^checkpoint\.(\d{8,})$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** The 8-byte header of a segment or checkpoint file. */
export function fileHeader(): Uint8Array {
  const h = new Uint8Array(FILE_HEADER_SIZE);
  new DataView(h.buffer).setUint32(0, MAGIC, true);
  h[4] = VERSION;
  return h;
}

// Values are copied as raw bytes between Float64Arrays and the file, so the
// file's little-endian layout needs a little-endian host.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) {
  throw new Error("the WAL needs a little-endian platform");
}
