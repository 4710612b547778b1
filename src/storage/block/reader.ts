/**
 * Opens a block for queries and compaction.
 *
 * At open the reader checks meta.json (its own checksum), reads the whole
 * index into memory and checks its size and CRC-32C against meta.json plus
 * every section's CRC and structure, and checks the chunks file's header and
 * size. Chunks are read on demand and each chunk's CRC is checked before
 * its bytes are returned. Any failure throws BlockCorruptError.
 *
 * Memory held while open: the index file's bytes, its symbol strings and
 * its posting lists (4 bytes per label pair of every series), plus one
 * 256 KiB read-ahead window of the chunks file.
 * @module
 */
import { compareStrings as cmp, type Labels } from "../../model/labels.ts";
import type { Matcher } from "../../model/matcher.ts";
import { crc32c } from "../../codec/crc32c.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { ChunksFileReader } from "./chunks_file.ts";
import { BlockCorruptError, DecodeError } from "./errors.ts";
import { ChunkEncoding, CHUNKS_FILE, INDEX_FILE } from "./format.ts";
import { IndexReader } from "./index_reader.ts";
import { type BlockMeta, readMeta } from "./meta.ts";
import { difference, intersect, union } from "./postings.ts";
import type { Engine } from "../../bindings/engine.ts";
import { encodeChunks, XorDecoder } from "../../bindings/xor.ts";
import { defaultEngine } from "./default_engine.ts";
import {
  decodeDenseRecord,
  decodeTimestampStream,
  DENSE_MAX_SAMPLES,
} from "./dense_record.ts";

/** Decoded timestamp streams kept per reader, in timestamps. */
const STREAM_CACHE_BUDGET = 1 << 20;

/** One series of a block. */
export interface BlockSeries {
  /** Position in the block's sorted series list. */
  readonly id: number;
  readonly labels: Labels;
  /** Chunks in time order, not overlapping. */
  readonly chunks: readonly ChunkRef[];
}

/** Samples of one chunk: timestamps (integral ms) and values with exact float64 bits. */
export interface ChunkSamples {
  ts: Float64Array;
  values: Float64Array;
}

/** Options of `BlockReader.open`. */
export interface BlockReaderOptions {
  /**
   * Engine used to decode XOR chunks and to convert dense records to XOR
   * (default: a module loaded once for the block code).
   */
  engine?: Engine;
}

/** A stored chunk as read back. */
export interface StoredChunk {
  /** Encoding id (1 = XOR). */
  encoding: number;
  data: Uint8Array;
}

/** Reads one block. */
export class BlockReader {
  readonly dir: string;
  readonly meta: BlockMeta;
  readonly #index: IndexReader;
  readonly #chunks: ChunksFileReader;
  readonly #engine: Engine;
  #decoder: XorDecoder | null = null;
  /** Decoded timestamp streams by record offset, least recently used first. */
  readonly #streams = new Map<number, Float64Array>();
  #streamsKept = 0;
  #closed = false;

  private constructor(
    dir: string,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunksFileReader,
    engine: Engine,
  ) {
    this.dir = dir;
    this.meta = meta;
    this.#index = index;
    this.#chunks = chunks;
    this.#engine = engine;
  }

  /** Opens and checks the block in `dir`; throws BlockCorruptError if any check fails. */
  static async open(
    dir: string,
    options: BlockReaderOptions = {},
  ): Promise<BlockReader> {
    const engine = options.engine ?? await defaultEngine();
    const meta = await readMeta(dir);
    let index: IndexReader;
    try {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(`${dir}/${INDEX_FILE}`);
      } catch (e) {
        throw new DecodeError(`cannot read: ${e}`);
      }
      if (bytes.length !== meta.files.index.size) {
        throw new DecodeError(
          `size ${bytes.length}, meta.json says ${meta.files.index.size}`,
        );
      }
      if (crc32c(bytes) !== meta.files.index.crc32c) {
        throw new DecodeError("CRC mismatch with meta.json");
      }
      index = new IndexReader(bytes, {
        minTime: meta.minTime,
        maxTime: meta.maxTime,
        chunksSize: meta.files.chunks.size,
      });
      if (
        index.numSeries !== meta.numSeries || index.numChunks !== meta.numChunks
      ) {
        throw new DecodeError("series or chunk count differs from meta.json");
      }
    } catch (e) {
      throw asCorrupt(e, dir, INDEX_FILE);
    }
    let chunks: ChunksFileReader;
    try {
      chunks = await ChunksFileReader.open(
        `${dir}/${CHUNKS_FILE}`,
        meta.files.chunks.size,
      );
    } catch (e) {
      throw asCorrupt(
        e instanceof Deno.errors.NotFound ? new DecodeError(`${e}`) : e,
        dir,
        CHUNKS_FILE,
      );
    }
    return new BlockReader(dir, meta, index, chunks, engine);
  }

  /** Number of series. */
  get numSeries(): number {
    return this.#index.numSeries;
  }

  /** Series `id` (0 ≤ id < numSeries). */
  seriesAt(id: number): BlockSeries {
    if (!(Number.isInteger(id) && id >= 0 && id < this.#index.numSeries)) {
      throw new RangeError(`no series ${id}`);
    }
    return { id, ...this.#index.series(id) };
  }

  /** Every series, sorted by labels. */
  *series(): IterableIterator<BlockSeries> {
    for (let id = 0; id < this.#index.numSeries; id++) yield this.seriesAt(id);
  }

  /** A stored chunk with its encoding, after checking its CRC. */
  record(ref: ChunkRef): StoredChunk {
    this.#open();
    try {
      return this.#chunks.record(ref);
    } catch (e) {
      throw asCorrupt(e, this.dir, CHUNKS_FILE);
    }
  }

  /**
   * The chunk at `ref` as Prometheus XOR bytes, after checking its CRC: an
   * XOR record as stored, a dense record decoded and re-encoded as one XOR
   * chunk (remote read ships these).
   */
  chunk(ref: ChunkRef): Uint8Array {
    const { encoding, data } = this.record(ref);
    if (encoding === ChunkEncoding.XOR) return data;
    if (encoding !== ChunkEncoding.DENSE) {
      throw this.#badEncoding(ref, encoding);
    }
    const s = this.#denseSamples(ref, data);
    const chunks = encodeChunks(
      this.#engine,
      s.ts,
      s.values,
      DENSE_MAX_SAMPLES,
    );
    if (chunks.length !== 1) {
      throw new Error("dense record became several XOR chunks");
    }
    return chunks[0];
  }

  /**
   * The samples of the chunk at `ref`, whatever its encoding: fresh arrays,
   * timestamps exact, values with their exact float64 bits (NaN payloads
   * kept). The fast path for queries: dense records decode straight to
   * samples. Throws BlockCorruptError on any defect.
   */
  samples(ref: ChunkRef): ChunkSamples {
    const { encoding, data } = this.record(ref);
    if (encoding === ChunkEncoding.DENSE) return this.#denseSamples(ref, data);
    if (encoding !== ChunkEncoding.XOR) throw this.#badEncoding(ref, encoding);
    const dec = this.#decoder ??= new XorDecoder(this.#engine);
    let n: number;
    try {
      n = dec.decode(data);
    } catch (e) {
      throw new BlockCorruptError(
        this.dir,
        CHUNKS_FILE,
        `chunk at ${ref.offset} does not decode: ${e}`,
      );
    }
    const ts = dec.timestamps.slice();
    if (n === 0) {
      throw new BlockCorruptError(
        this.dir,
        CHUNKS_FILE,
        `chunk at ${ref.offset} holds no samples`,
      );
    }
    const values = new Float64Array(n);
    const v = dec.values;
    new Uint32Array(values.buffer).set(
      new Uint32Array(v.buffer, v.byteOffset, 2 * n),
    );
    return { ts, values };
  }

  #badEncoding(ref: ChunkRef, encoding: number): BlockCorruptError {
    return new BlockCorruptError(
      this.dir,
      CHUNKS_FILE,
      `chunk at ${ref.offset} has unknown encoding ${encoding}`,
    );
  }

  #denseSamples(ref: ChunkRef, data: Uint8Array): ChunkSamples {
    try {
      const { header, values } = decodeDenseRecord(data);
      const stream = this.#stream(header.streamOffset);
      const { n, streamStart } = header;
      if (streamStart + n > stream.length) {
        throw new DecodeError("record reaches past its timestamp stream");
      }
      const ts = stream.slice(streamStart, streamStart + n);
      if (ts[0] !== ref.minTime || ts[n - 1] !== ref.maxTime) {
        throw new DecodeError("record's time range differs from the index");
      }
      return { ts, values };
    } catch (e) {
      throw asCorrupt(e, this.dir, CHUNKS_FILE);
    }
  }

  /** The decoded timestamp stream whose record starts at `offset`. */
  #stream(offset: number): Float64Array {
    const cached = this.#streams.get(offset);
    if (cached) {
      this.#streams.delete(offset);
      this.#streams.set(offset, cached);
      return cached;
    }
    const { encoding, data } = this.#chunks.recordAt(offset);
    if (encoding !== ChunkEncoding.TIMESTAMPS) {
      throw new DecodeError(`record at ${offset} is not a timestamp stream`);
    }
    const ts = decodeTimestampStream(data);
    while (
      this.#streamsKept + ts.length > STREAM_CACHE_BUDGET && this.#streams.size
    ) {
      const [oldest, old] = this.#streams.entries().next().value!;
      this.#streams.delete(oldest);
      this.#streamsKept -= old.length;
    }
    this.#streams.set(offset, ts);
    this.#streamsKept += ts.length;
    return ts;
  }

  /** Label names of the block (or of the series matching `matchers`), sorted. */
  labelNames(matchers?: readonly Matcher[]): string[] {
    if (!matchers?.length) return this.#index.labelNames();
    const names = new Set<string>();
    for (const id of this.selectIds(matchers)) {
      for (const l of this.#index.labels(id)) names.add(l.name);
    }
    return this.#index.labelNames().filter((n) => names.has(n));
  }

  /** Values of label `name` (among series matching `matchers`), sorted. */
  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    const entry = this.#index.valuesOf(name);
    if (!entry) return [];
    if (!matchers?.length) return [...entry.values];
    const ids = this.selectIds(matchers);
    return entry.values.filter((_, k) => intersect(entry.ids[k], ids).length);
  }

  /** Ids of the series with label `name` = `value`, ascending. */
  postings(name: string, value: string): Uint32Array {
    const entry = this.#index.valuesOf(name);
    if (!entry) return new Uint32Array(0);
    const k = binarySearch(entry.values, value);
    return k < 0 ? new Uint32Array(0) : entry.ids[k].slice();
  }

  /**
   * Ids of the series matching every matcher, ascending (that is, sorted by
   * labels). A matcher that matches "" also selects series without the
   * label, as in Prometheus. No matchers select every series.
   */
  selectIds(matchers: readonly Matcher[]): Uint32Array {
    let result: Uint32Array | null = null;
    const negative: Uint32Array[] = [];
    for (const m of matchers) {
      const entry = this.#index.valuesOf(m.name);
      const values = entry?.values ?? [];
      if (m.matches("")) {
        // Series lacking the label match; remove those whose value does not.
        const lists = values.flatMap((v, k) =>
          m.matches(v) ? [] : [entry!.ids[k]]
        );
        if (lists.length) negative.push(union(lists));
      } else {
        const lists = values.flatMap((v, k) =>
          m.matches(v) ? [entry!.ids[k]] : []
        );
        const ids = union(lists);
        result = result ? intersect(result, ids) : ids;
      }
      if (result && result.length === 0) return result;
    }
    if (!result) {
      result = new Uint32Array(this.#index.numSeries);
      for (let i = 0; i < result.length; i++) result[i] = i;
    }
    for (const n of negative) result = difference(result, n);
    return result.slice();
  }

  /**
   * The series matching every matcher, sorted by labels. With a range
   * [mint, maxt] (inclusive) only chunks overlapping it are kept and series
   * left without chunks are dropped.
   */
  select(
    matchers: readonly Matcher[],
    range?: { mint: number; maxt: number },
  ): BlockSeries[] {
    const out: BlockSeries[] = [];
    for (const id of this.selectIds(matchers)) {
      const s = this.seriesAt(id);
      if (!range) {
        out.push(s);
        continue;
      }
      const chunks = s.chunks.filter((c) =>
        c.maxTime >= range.mint && c.minTime <= range.maxt
      );
      if (chunks.length) out.push({ id, labels: s.labels, chunks });
    }
    return out;
  }

  /** Reads every byte of the chunks file and checks it against meta.json (a scrub). */
  verifyChunksFile(): void {
    this.#open();
    let crc: number;
    try {
      crc = this.#chunks.checksum();
    } catch (e) {
      throw asCorrupt(e, this.dir, CHUNKS_FILE);
    }
    if (crc !== this.meta.files.chunks.crc32c) {
      throw new BlockCorruptError(
        this.dir,
        CHUNKS_FILE,
        "CRC mismatch with meta.json",
      );
    }
  }

  #open(): void {
    if (this.#closed) throw new Error(`block ${this.dir} is closed`);
  }

  /** Closes the chunks file. Chunk bytes already returned stay valid. */
  close(): void {
    this.#closed = true;
    this.#chunks.close();
    this.#decoder?.free();
    this.#decoder = null;
    this.#streams.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function asCorrupt(e: unknown, dir: string, file: string): unknown {
  if (e instanceof BlockCorruptError) return e;
  if (e instanceof DecodeError) {
    return new BlockCorruptError(dir, file, e.message);
  }
  return e;
}

function binarySearch(sorted: readonly string[], x: string): number {
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = cmp(sorted[mid], x);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
