/**
 * Where a chunk lies: its time range and its record in the chunks file.
 * @module
 */

/** A chunk of one series in a block. */
export interface ChunkRef {
  /** First sample's timestamp (inclusive). */
  readonly minTime: number;
  /** Last sample's timestamp (inclusive). */
  readonly maxTime: number;
  /** Byte offset of the chunk's record in the chunks file. */
  readonly offset: number;
  /** Length of the whole record (length varint, encoding, data, CRC). */
  readonly length: number;
}
