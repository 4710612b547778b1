/**
 * Writes one immutable block: chunks, index and meta.json into
 * `<blocksDir>/<id>.tmp/`, each synced, then renames the directory to
 * `<blocksDir>/<id>` so that a block is either whole or absent.
 * @module
 */
import type { Labels } from "../../model/labels.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { ChunksFileWriter } from "./chunks_file.ts";
import {
  BLOCK_FORMAT_VERSION,
  ChunkEncoding,
  CHUNKS_FILE,
  INDEX_FILE,
  MAX_BLOCK_RANGE,
  META_FILE,
  TMP_SUFFIX,
} from "./format.ts";
import { encodeIndex, type IndexSeries } from "./index_writer.ts";
import { compareLabels } from "./labels_order.ts";
import { type BlockMeta, newBlockId, serializeMeta } from "./meta.ts";
import { crc32c } from "../../codec/crc32c.ts";

/** One chunk to store. */
export interface BlockChunkInput {
  /** First and last sample's timestamps (both inclusive). */
  minTime: number;
  maxTime: number;
  /** The chunk's bytes (Prometheus XOR unless `encoding` says otherwise). */
  data: Uint8Array;
  /** Chunk encoding id (default 1 = XOR). */
  encoding?: number;
}

/** One series to store: its chunks in time order, not overlapping. */
export interface BlockSeriesInput {
  labels: Labels;
  chunks: readonly BlockChunkInput[];
}

/** What to write. */
export interface WriteBlockOptions {
  tenant: string;
  /** Range covered: [minTime, maxTime). Every chunk must lie inside. */
  minTime: number;
  maxTime: number;
  /** Series in any order (sorted by labels on write); label sets unique. */
  series: Iterable<BlockSeriesInput> | AsyncIterable<BlockSeriesInput>;
  /** Compaction level (default 1). */
  level?: number;
  /** Level-1 ids whose data this block holds (default: the new block itself). */
  sources?: string[];
  /** Ids of the blocks compacted into this one (default none). */
  parents?: string[];
  /** Block id (default a new ULID). */
  id?: string;
}

/** A written block: its meta and directory. */
export interface WrittenBlock extends BlockMeta {
  dir: string;
}

/**
 * Writes a block into `blocksDir` (created if missing) and returns its meta.
 * Throws RangeError on bad input (chunk outside the range, chunks out of
 * order or overlapping, duplicate label sets); nothing is left behind then.
 */
export async function writeBlock(
  blocksDir: string,
  opts: WriteBlockOptions,
): Promise<WrittenBlock> {
  const { minTime, maxTime } = opts;
  if (
    !Number.isSafeInteger(minTime) || !Number.isSafeInteger(maxTime) ||
    !(minTime < maxTime) || maxTime - minTime > MAX_BLOCK_RANGE
  ) {
    throw new RangeError(`bad block range [${minTime}, ${maxTime})`);
  }
  const id = opts.id ?? newBlockId();
  const dir = `${blocksDir}/${id}`;
  const tmp = dir + TMP_SUFFIX;
  await Deno.mkdir(blocksDir, { recursive: true });
  await Deno.mkdir(tmp);
  let chunksWriter: ChunksFileWriter | null = null;
  try {
    chunksWriter = await ChunksFileWriter.create(`${tmp}/${CHUNKS_FILE}`);
    const entries: IndexSeries[] = [];
    let numSamples = 0;
    let numChunks = 0;
    let sorted = true;
    for await (const s of opts.series) {
      const refs: ChunkRef[] = [];
      let prevMax = minTime - 1;
      for (const c of s.chunks) {
        checkChunk(c, prevMax, maxTime, s.labels);
        prevMax = c.maxTime;
        const encoding = c.encoding ?? ChunkEncoding.XOR;
        const at = await chunksWriter.append(encoding, c.data);
        refs.push({ minTime: c.minTime, maxTime: c.maxTime, ...at });
        if (encoding === ChunkEncoding.XOR) {
          numSamples += (c.data[0] << 8) | c.data[1];
        }
      }
      numChunks += refs.length;
      const last = entries[entries.length - 1];
      if (last && compareLabels(last.labels, s.labels) >= 0) sorted = false;
      entries.push({ labels: s.labels, chunks: refs });
    }
    if (!sorted) entries.sort((a, b) => compareLabels(a.labels, b.labels));
    for (let i = 1; i < entries.length; i++) {
      if (compareLabels(entries[i - 1].labels, entries[i].labels) === 0) {
        throw new RangeError(
          `duplicate series ${JSON.stringify(entries[i].labels)}`,
        );
      }
    }
    const chunks = await chunksWriter.finish();
    chunksWriter = null;

    const index = encodeIndex(entries, minTime);
    await writeSynced(`${tmp}/${INDEX_FILE}`, index);

    const meta: BlockMeta = {
      version: BLOCK_FORMAT_VERSION,
      id,
      tenant: opts.tenant,
      minTime,
      maxTime,
      numSeries: entries.length,
      numSamples,
      numChunks,
      level: opts.level ?? 1,
      sources: opts.sources ?? [id],
      parents: opts.parents ?? [],
      files: {
        index: { size: index.length, crc32c: crc32c(index) },
        chunks,
      },
    };
    await writeSynced(
      `${tmp}/${META_FILE}`,
      new TextEncoder().encode(serializeMeta(meta)),
    );
    await Deno.rename(tmp, dir);
    await syncDir(blocksDir);
    return { ...meta, dir };
  } catch (e) {
    chunksWriter?.abort();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

function checkChunk(
  c: BlockChunkInput,
  prevMax: number,
  blockMax: number,
  labels: Labels,
): void {
  const ok = Number.isSafeInteger(c.minTime) &&
    Number.isSafeInteger(c.maxTime) && c.minTime > prevMax &&
    c.minTime <= c.maxTime && c.maxTime < blockMax;
  if (!ok) {
    throw new RangeError(
      `chunk [${c.minTime}, ${c.maxTime}] of ${
        JSON.stringify(labels)
      } is out of order, overlapping or outside the block`,
    );
  }
  const enc = c.encoding ?? ChunkEncoding.XOR;
  if (!Number.isInteger(enc) || enc < 1 || enc > 255) {
    throw new RangeError(`bad chunk encoding ${enc}`);
  }
  if (enc === ChunkEncoding.XOR && c.data.length < 2) {
    throw new RangeError("XOR chunk shorter than its header");
  }
}

async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, createNew: true });
  try {
    let done = 0;
    while (done < bytes.length) done += await f.write(bytes.subarray(done));
    await f.sync();
  } finally {
    f.close();
  }
}

/** Makes a rename in `dir` durable (best effort where directories cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const f = await Deno.open(dir, { read: true });
    try {
      await f.sync();
    } finally {
      f.close();
    }
  } catch { /* not supported on this platform */ }
}
