/**
 * Constants of the block format (docs/format/block.md).
 * @module
 */

/** Version of meta.json, the index and the chunks file this code writes and reads. */
export const BLOCK_FORMAT_VERSION = 1;

export const META_FILE = "meta.json";
export const INDEX_FILE = "index";
export const CHUNKS_FILE = "chunks";

/** Suffix of a block directory being written or deleted; such leftovers are removed at start-up. */
export const TMP_SUFFIX = ".tmp";

/** "TMIX": first four bytes of an index file. */
export const INDEX_MAGIC = 0x544d4958;
/** "TMCK": first four bytes of a chunks file. */
export const CHUNKS_MAGIC = 0x544d434b;
/** Magic (4) + version (1) + three zero bytes. */
export const FILE_HEADER_SIZE = 8;

/**
 * Record encodings. Ids 0 and 4–127 are reserved; 128–255 are reserved for
 * experiments that never reach disk. Encoding ids are a promise: once
 * written, an id's meaning never changes.
 */
export const ChunkEncoding = {
  /** Prometheus XOR, bytes exactly as Prometheus writes them. */
  XOR: 1,
  /** Dense samples: values by domain, timestamps in a stream record. */
  DENSE: 2,
  /** A timestamp stream shared by dense records (never a chunk itself). */
  TIMESTAMPS: 3,
} as const;

/** Index sections, in file order; the table of contents lists them in this order. */
export const INDEX_SECTIONS = [
  "symbols",
  "series",
  "seriesOffsets",
  "postings",
] as const;
/** TOC: per section a u64 offset and u64 length, then a CRC-32C. */
export const TOC_SIZE = INDEX_SECTIONS.length * 16 + 4;

/** Block time ranges may span at most this many ms (keeps every delta a safe integer). */
export const MAX_BLOCK_RANGE = Number.MAX_SAFE_INTEGER;
