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
import type { Engine } from "../../bindings/engine.ts";
import { defaultEngine } from "./default_engine.ts";
import {
  type SeriesSamples,
  SeriesWriter,
  type WriteStats,
} from "./series_writer.ts";

/** One chunk to store. */
export interface BlockChunkInput {
  /** First and last sample's timestamps (both inclusive). */
  minTime: number;
  maxTime: number;
  /** The chunk's bytes: a Prometheus XOR chunk. */
  data: Uint8Array;
  /** Chunk encoding id: 1 = XOR (the default) is the only one accepted. */
  encoding?: number;
}

/** One series to store: its chunks in time order, not overlapping. */
export interface BlockSeriesInput {
  labels: Labels;
  chunks: readonly BlockChunkInput[];
}

/**
 * One series to store given as samples (compaction's path): timestamps
 * integral ms, strictly increasing, inside the block; values with exact
 * float64 bits (NaN payloads kept).
 */
export interface BlockSamplesInput {
  labels: Labels;
  samples: SeriesSamples;
}

/** What to write. */
export interface WriteBlockOptions {
  tenant: string;
  /** Range covered: [minTime, maxTime). Every chunk must lie inside. */
  minTime: number;
  maxTime: number;
  /** Series in any order (sorted by labels on write); label sets unique. */
  series:
    | Iterable<BlockSeriesInput | BlockSamplesInput>
    | AsyncIterable<BlockSeriesInput | BlockSamplesInput>;
  /**
   * Engine used to decode the XOR input and encode XOR fallbacks (default:
   * a module loaded once for the block code). Pass the store's engine.
   */
  engine?: Engine;
  /**
   * Write dense records where they are smaller (default true); false
   * stores the XOR chunks as given.
   */
  dense?: boolean;
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
  /** Bytes of the chunks file by kind (benchmarks). */
  stats: WriteStats;
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
  let seriesWriter: SeriesWriter | null = null;
  try {
    const engine = opts.engine ?? await defaultEngine();
    chunksWriter = await ChunksFileWriter.create(`${tmp}/${CHUNKS_FILE}`);
    seriesWriter = new SeriesWriter(chunksWriter, engine, opts.dense ?? true);
    const entries: IndexSeries[] = [];
    let numSamples = 0;
    let numChunks = 0;
    let sorted = true;
    for await (const s of opts.series) {
      let written: { refs: ChunkRef[]; samples: number };
      if ("samples" in s) {
        checkSamples(s.samples, minTime, maxTime, s.labels);
        written = await seriesWriter.writeSamples(s.samples);
      } else {
        let prevMax = minTime - 1;
        for (const c of s.chunks) {
          checkChunk(c, prevMax, maxTime, s.labels);
          prevMax = c.maxTime;
        }
        written = await seriesWriter.writeChunks(s.chunks);
      }
      const refs = written.refs;
      numSamples += written.samples;
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
    const stats = seriesWriter.stats;

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
    return { ...meta, dir, stats };
  } catch (e) {
    chunksWriter?.abort();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    seriesWriter?.free();
  }
}

function checkSamples(
  s: SeriesSamples,
  blockMin: number,
  blockMax: number,
  labels: Labels,
): void {
  const { ts, values } = s;
  let ok = ts.length === values.length;
  let prev = blockMin - 1;
  for (let i = 0; ok && i < ts.length; i++) {
    ok = Number.isSafeInteger(ts[i]) && ts[i] > prev;
    prev = ts[i];
  }
  if (!ok || prev >= blockMax) {
    throw new RangeError(
      `samples of ${
        JSON.stringify(labels)
      } are out of order or outside the block`,
    );
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
  if (enc !== ChunkEncoding.XOR) {
    throw new RangeError(`chunk encoding ${enc}: input chunks must be XOR`);
  }
  if (c.data.length < 2) {
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
