/**
 * Compaction: several blocks of one tenant become one block covering the
 * union of their ranges.
 *
 * Series are merged by label set. A series' chunks from all inputs (of any
 * encoding) are decoded with exact timestamps and float64 bits; chunks
 * whose time ranges do not overlap are concatenated, overlapping ones
 * (out-of-order data, overlapping blocks) merged sample by sample. The
 * writer then stores each series afresh: dense records (one per up to
 * DENSE_SEGMENT_MAX samples) or XOR chunks of 120 samples, whichever is
 * smaller.
 * When two samples share a timestamp one is kept: the one from the input
 * that comes LATER in the `dirs` list (pass blocks oldest first, as
 * `listBlocks` orders them, so newer data wins).
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import type { Labels } from "../../model/labels.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { compareLabels } from "./labels_order.ts";
import { BlockReader, type BlockSeries } from "./reader.ts";
import type { SeriesSamples } from "./series_writer.ts";
import {
  type BlockSamplesInput,
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
  try {
    for (const dir of dirs) {
      readers.push(await BlockReader.open(dir, { engine }));
    }
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
      series: mergedSeries(readers),
      engine,
    });
  } finally {
    for (const r of readers) r.close();
  }
}

/** The union of the inputs' series, in label order, with merged samples. */
function* mergedSeries(
  readers: readonly BlockReader[],
): Generator<BlockSamplesInput> {
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
    const samples = mergeSamples(parts, readers);
    if (samples.ts.length > 0) yield { labels: least, samples };
  }
}

function next(it: Iterator<BlockSeries>): BlockSeries | null {
  const r = it.next();
  return r.done ? null : r.value;
}

/**
 * One series' chunks from all inputs (any encoding) as samples in time
 * order, one per timestamp.
 */
export function mergeSamples(
  parts: SourcedChunk[],
  readers: readonly BlockReader[],
): SeriesSamples {
  parts.sort((a, b) => a.ref.minTime - b.ref.minTime || a.rank - b.rank);
  const pieces: SeriesSamples[] = [];
  let i = 0;
  while (i < parts.length) {
    // A cluster: chunks linked by overlapping time ranges.
    let j = i + 1;
    let clusterMax = parts[i].ref.maxTime;
    while (j < parts.length && parts[j].ref.minTime <= clusterMax) {
      clusterMax = Math.max(clusterMax, parts[j].ref.maxTime);
      j++;
    }
    const cluster = parts.slice(i, j);
    const decoded = cluster.map(({ ref, rank }) => readers[rank].samples(ref));
    // A lone chunk is taken as is when its timestamps rise (they always
    // do in what this code writes); anything else is sorted and deduplicated.
    pieces.push(
      cluster.length === 1 && rising(decoded[0].ts)
        ? decoded[0]
        : mergeCluster(cluster, decoded),
    );
    i = j;
  }
  return concat(pieces);
}

/** Merges overlapping chunks' samples: per timestamp the highest rank's. */
function mergeCluster(
  cluster: SourcedChunk[],
  decoded: SeriesSamples[],
): SeriesSamples {
  // Order every sample by (timestamp, input rank, chunk, position), then
  // keep the last of each timestamp: the highest-ranked input's.
  const order: [number, number][] = [];
  decoded.forEach((d, c) => {
    for (let k = 0; k < d.ts.length; k++) order.push([c, k]);
  });
  order.sort(([ca, ka], [cb, kb]) =>
    decoded[ca].ts[ka] - decoded[cb].ts[kb] ||
    cluster[ca].rank - cluster[cb].rank || ca - cb || ka - kb
  );
  const ts = new Float64Array(order.length);
  const values = new Float64Array(order.length);
  const out = new Uint32Array(values.buffer);
  const words = decoded.map((d) => new Uint32Array(d.values.buffer));
  let n = 0;
  for (const [c, k] of order) {
    const t = decoded[c].ts[k];
    if (n > 0 && ts[n - 1] === t) n--; // a later input replaces it
    ts[n] = t;
    out[2 * n] = words[c][2 * k];
    out[2 * n + 1] = words[c][2 * k + 1];
    n++;
  }
  return { ts: ts.subarray(0, n), values: values.subarray(0, n) };
}

function rising(ts: Float64Array): boolean {
  for (let i = 1; i < ts.length; i++) if (!(ts[i] > ts[i - 1])) return false;
  return true;
}

function concat(pieces: SeriesSamples[]): SeriesSamples {
  if (pieces.length === 1) return pieces[0];
  let n = 0;
  for (const p of pieces) n += p.ts.length;
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const out = new Uint32Array(values.buffer);
  let at = 0;
  for (const p of pieces) {
    ts.set(p.ts, at);
    out.set(
      new Uint32Array(p.values.buffer, p.values.byteOffset, 2 * p.ts.length),
      2 * at,
    );
    at += p.ts.length;
  }
  return { ts, values };
}
