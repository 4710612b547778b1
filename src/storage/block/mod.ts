/**
 * Immutable on-disk blocks of one tenant's samples over a time range
 * (format: docs/format/block.md): writing, reading, compaction, listing
 * and deletion.
 * @module
 */
export { BlockCorruptError } from "./errors.ts";
export type { ChunkRef } from "./chunk_ref.ts";
export {
  BLOCK_FORMAT_VERSION,
  ChunkEncoding,
  CHUNKS_FILE,
  INDEX_FILE,
  META_FILE,
  TMP_SUFFIX,
} from "./format.ts";
export {
  type BlockMeta,
  type FileInfo,
  isBlockId,
  newBlockId,
  readMeta,
} from "./meta.ts";
export {
  type BlockChunkInput,
  type BlockSamplesInput,
  type BlockSeriesInput,
  writeBlock,
  type WriteBlockOptions,
  type WrittenBlock,
} from "./writer.ts";
export {
  BlockReader,
  type BlockReaderOptions,
  type BlockSeries,
  type ChunkSamples,
  type StoredChunk,
} from "./reader.ts";
export {
  DENSE_SEGMENT_MAX,
  type SeriesSamples,
  type WriteStats,
} from "./series_writer.ts";
export { compactBlocks } from "./compact.ts";
export {
  type BlockListing,
  deleteBlock,
  escapeTenant,
  listBlocks,
  type ListedBlock,
  removeTmpBlocks,
  tenantBlocksDir,
} from "./dir.ts";
export { compareLabels } from "./labels_order.ts";
