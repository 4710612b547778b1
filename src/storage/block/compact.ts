/**
 * Compaction: several blocks of one tenant become one block covering the
 * union of their ranges.
 *
 * Series are merged by label set. A series' chunks from all inputs are
 * sorted by minTime; runs of chunks whose time ranges do not overlap are
 * copied byte for byte. Chunks that overlap (out-of-order data, overlapping
 * blocks) are decoded with exact int64 timestamps and float64 bits, merged
 * sample by sample and re-encoded as XOR chunks of at most 120 samples.
 * When two samples share a timestamp one is kept: the one from the input
 * that comes LATER in the `dirs` list (pass blocks oldest first, as
 * `listBlocks` orders them, so newer data wins).
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import {
  encodeChunks,
  XOR_SAMPLES_PER_CHUNK,
  XorDecoder,
} from "../../bindings/xor.ts";
import type { Labels } from "../../model/labels.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { BlockCorruptError } from "./errors.ts";
import { ChunkEncoding } from "./format.ts";
import { compareLabels } from "./labels_order.ts";
import { BlockReader, type BlockSeries } from "./reader.ts";
import {
  type BlockChunkInput,
  type BlockSeriesInput,
  writeBlock,
  type WrittenBlock,
} from "./writer.ts";

/** A chunk of one input. */
interface SourcedChunk {
  ref: ChunkRef;
  /** Input position: a higher one wins duplicate timestamps. */
  rank: number;
}

/**
 * Merges the blocks in `dirs` (same tenant) into a new block in
 * `blocksDir`; returns its meta. The inputs are left in place (delete them
 * with `deleteBlock` once the result is written; `listBlocks` reports them
 * as superseded meanwhile). A corrupt input throws BlockCorruptError and
 * nothing is written.
 */
export async function compactBlocks(
  engine: Engine,
  dirs: readonly string[],
  blocksDir: string,
): Promise<WrittenBlock> {
  if (dirs.length === 0) throw new RangeError("nothing to compact");
  const readers: BlockReader[] = [];
  const decoder = new XorDecoder(engine);
  try {
    for (const dir of dirs) readers.push(await BlockReader.open(dir));
    const metas = readers.map((r) => r.meta);
    const tenant = metas[0].tenant;
    if (metas.some((m) => m.tenant !== tenant)) {
      throw new RangeError("blocks of different tenants");
    }
    const sources = [...new Set(metas.flatMap((m) => m.sources))].sort();
    return await writeBlock(blocksDir, {
      tenant,
      minTime: Math.min(...metas.map((m) => m.minTime)),
      maxTime: Math.max(...metas.map((m) => m.maxTime)),
      level: Math.max(...metas.map((m) => m.level)) + 1,
      sources,
      parents: metas.map((m) => m.id),
      series: mergedSeries(readers, engine, decoder),
    });
  } finally {
    decoder.free();
    for (const r of readers) r.close();
  }
}

/** The union of the inputs' series, in label order, with merged chunks. */
function* mergedSeries(
  readers: readonly BlockReader[],
  engine: Engine,
  decoder: XorDecoder,
): Generator<BlockSeriesInput> {
  const cursors = readers.map((r) => r.series());
  const heads: (BlockSeries | null)[] = cursors.map((c) => next(c));
  while (true) {
    let least: Labels | null = null;
    for (const h of heads) {
      if (h && (!least || compareLabels(h.labels, least) < 0)) least = h.labels;
    }
    if (!least) return;
    const parts: SourcedChunk[] = [];
    heads.forEach((h, rank) => {
      if (h && compareLabels(h.labels, least!) === 0) {
        for (const ref of h.chunks) parts.push({ ref, rank });
        heads[rank] = next(cursors[rank]);
      }
    });
    yield {
      labels: least,
      chunks: mergeChunks(parts, readers, engine, decoder),
    };
  }
}

function next(it: Iterator<BlockSeries>): BlockSeries | null {
  const r = it.next();
  return r.done ? null : r.value;
}

/** One series' chunks from all inputs as non-overlapping chunks in time order. */
export function mergeChunks(
  parts: SourcedChunk[],
  readers: readonly BlockReader[],
  engine: Engine,
  decoder: XorDecoder,
): BlockChunkInput[] {
  parts.sort((a, b) => a.ref.minTime - b.ref.minTime || a.rank - b.rank);
  const out: BlockChunkInput[] = [];
  let i = 0;
  while (i < parts.length) {
    // A cluster: chunks linked by overlapping time ranges.
    let j = i + 1;
    let clusterMax = parts[i].ref.maxTime;
    while (j < parts.length && parts[j].ref.minTime <= clusterMax) {
      clusterMax = Math.max(clusterMax, parts[j].ref.maxTime);
      j++;
    }
    if (j === i + 1) {
      const { ref, rank } = parts[i];
      const { encoding, data } = readers[rank].record(ref);
      out.push({ minTime: ref.minTime, maxTime: ref.maxTime, data, encoding });
    } else {
      out.push(
        ...mergeCluster(parts.slice(i, j), readers, engine, decoder),
      );
    }
    i = j;
  }
  return out;
}

/** Decodes overlapping chunks, merges their samples and re-encodes them. */
function mergeCluster(
  cluster: SourcedChunk[],
  readers: readonly BlockReader[],
  engine: Engine,
  decoder: XorDecoder,
): BlockChunkInput[] {
  const ts: bigint[][] = [];
  const bits: bigint[][] = [];
  let total = 0;
  for (const { ref, rank } of cluster) {
    const data = readers[rank].chunk(ref);
    try {
      decoder.decodeExact(data);
    } catch (e) {
      throw new BlockCorruptError(
        readers[rank].dir,
        "chunks",
        `chunk at ${ref.offset} does not decode: ${e}`,
      );
    }
    ts.push(Array.from(decoder.exactTimestamps));
    bits.push(Array.from(decoder.valueBits));
    total += decoder.count;
  }
  // Order every sample by (timestamp, input rank, position), then keep the
  // last of each timestamp: the highest-ranked input's.
  const order: [number, number][] = [];
  cluster.forEach((_, c) => {
    for (let k = 0; k < ts[c].length; k++) order.push([c, k]);
  });
  order.sort(([ca, ka], [cb, kb]) => {
    const ta = ts[ca][ka], tb = ts[cb][kb];
    if (ta !== tb) return ta < tb ? -1 : 1;
    return cluster[ca].rank - cluster[cb].rank || ca - cb || ka - kb;
  });
  const outT = new BigInt64Array(total);
  const outBits = new BigUint64Array(total);
  let n = 0;
  for (const [c, k] of order) {
    const t = ts[c][k];
    if (n > 0 && outT[n - 1] === t) n--; // a later input replaces it
    outT[n] = t;
    outBits[n] = bits[c][k];
    n++;
  }
  const times = outT.subarray(0, n);
  const values = new Float64Array(outBits.buffer, 0, n);
  const chunks = encodeChunks(engine, times, values, XOR_SAMPLES_PER_CHUNK);
  const result: BlockChunkInput[] = [];
  let at = 0;
  for (const data of chunks) {
    const count = (data[0] << 8) | data[1];
    result.push({
      minTime: Number(times[at]),
      maxTime: Number(times[at + count - 1]),
      data,
      encoding: ChunkEncoding.XOR,
    });
    at += count;
  }
  if (at !== n) throw new Error("re-encoded chunks lost samples");
  return result;
}
