/**
 * Reads an index file held whole in memory. The constructor checks the
 * header, the table of contents, every section's CRC-32C and the structure
 * of every series and posting list, so that later lookups cannot fail.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import { compareStrings, type Label, type Labels } from "../../model/labels.ts";
import { ByteReader } from "./bytes.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { DecodeError } from "./errors.ts";
import { checkFileHeader } from "./chunks_file.ts";
import {
  FILE_HEADER_SIZE,
  INDEX_MAGIC,
  INDEX_SECTIONS,
  TOC_SIZE,
} from "./format.ts";
import { compareLabels } from "./labels_order.ts";

/** Where the chunks may lie, to check chunk refs against. */
export interface IndexBounds {
  /** Block range [minTime, maxTime). */
  minTime: number;
  maxTime: number;
  /** Size of the chunks file in bytes. */
  chunksSize: number;
}

/** Posting lists of one label name. */
interface NamePostings {
  /** Values, sorted. */
  values: string[];
  /** Series ids per value, ascending. */
  ids: Uint32Array[];
}

/** The parsed index of one block. */
export class IndexReader {
  readonly symbols: string[];
  readonly numSeries: number;
  readonly numChunks: number;
  readonly #bytes: Uint8Array;
  readonly #seriesStart: number;
  readonly #seriesEnd: number;
  readonly #offsets: Uint32Array;
  readonly #postings = new Map<string, NamePostings>();
  readonly #names: string[];
  readonly #minTime: number;

  /** Parses and checks `bytes`; throws DecodeError on any defect. */
  constructor(bytes: Uint8Array, bounds: IndexBounds) {
    this.#bytes = bytes;
    this.#minTime = bounds.minTime;
    if (bytes.length < FILE_HEADER_SIZE + TOC_SIZE) {
      throw new DecodeError("file too short");
    }
    checkFileHeader(bytes, INDEX_MAGIC);
    const tocAt = bytes.length - TOC_SIZE;
    const toc = new ByteReader(bytes, tocAt);
    const tocBody = bytes.subarray(tocAt, bytes.length - 4);
    const sections: { start: number; end: number }[] = [];
    let expect = FILE_HEADER_SIZE;
    for (const name of INDEX_SECTIONS) {
      const start = toc.u64be();
      const length = toc.u64be();
      if (start !== expect || start + length + 4 > tocAt) {
        throw new DecodeError(`bad table of contents entry for ${name}`);
      }
      sections.push({ start, end: start + length });
      expect = start + length + 4;
    }
    if (expect !== tocAt) throw new DecodeError("gap before table of contents");
    if (toc.u32be() !== crc32c(tocBody)) {
      throw new DecodeError("table of contents CRC mismatch");
    }
    sections.forEach(({ start, end }, k) => {
      const stored = new ByteReader(bytes, end, end + 4).u32be();
      if (stored !== crc32c(bytes.subarray(start, end))) {
        throw new DecodeError(`${INDEX_SECTIONS[k]} section CRC mismatch`);
      }
    });
    const [sym, ser, offs, post] = sections;

    this.symbols = readSymbols(new ByteReader(bytes, sym.start, sym.end));

    this.#seriesStart = ser.start;
    this.#seriesEnd = ser.end;
    const sr = new ByteReader(bytes, ser.start, ser.end);
    this.numSeries = sr.uvarintAtMost(ser.end - ser.start, "series count");
    const or = new ByteReader(bytes, offs.start, offs.end);
    if (or.uvarint() !== this.numSeries) {
      throw new DecodeError("series offsets count differs from series count");
    }
    if (or.remaining !== 4 * this.numSeries) {
      throw new DecodeError("series offsets section has the wrong size");
    }
    this.#offsets = new Uint32Array(this.numSeries);
    let chunks = 0;
    let prev: Labels | null = null;
    for (let id = 0; id < this.numSeries; id++) {
      const at = or.u32be();
      if (ser.start + at !== sr.pos) {
        throw new DecodeError(
          `series ${id} offset does not follow series ${id - 1}`,
        );
      }
      this.#offsets[id] = at;
      const labels = this.#readLabels(sr);
      if (prev && compareLabels(prev, labels) >= 0) {
        throw new DecodeError(`series ${id} is out of order`);
      }
      prev = labels;
      chunks += this.#readChunks(sr, bounds).length;
    }
    if (sr.remaining !== 0) {
      throw new DecodeError("trailing bytes after series");
    }
    this.numChunks = chunks;

    const pr = new ByteReader(bytes, post.start, post.end);
    const nNames = pr.uvarintAtMost(this.symbols.length, "label name count");
    this.#names = [];
    for (let i = 0; i < nNames; i++) {
      const name = this.#symbol(pr);
      const before = this.#names[this.#names.length - 1];
      if (before !== undefined && compareStrings(before, name) >= 0) {
        throw new DecodeError("label names out of order");
      }
      const nValues = pr.uvarintAtMost(this.symbols.length, "value count");
      const entry: NamePostings = { values: [], ids: [] };
      for (let v = 0; v < nValues; v++) {
        const value = this.#symbol(pr);
        const last = entry.values[entry.values.length - 1];
        if (last !== undefined && compareStrings(last, value) >= 0) {
          throw new DecodeError(`values of ${name} out of order`);
        }
        entry.values.push(value);
        const n = pr.uvarintAtMost(this.numSeries, "posting list length");
        const ids = new Uint32Array(n);
        let id = -1;
        for (let k = 0; k < n; k++) {
          id += pr.uvarint() + 1;
          if (id >= this.numSeries) {
            throw new DecodeError("posting beyond the last series");
          }
          ids[k] = id;
        }
        entry.ids.push(ids);
      }
      this.#names.push(name);
      this.#postings.set(name, entry);
    }
    if (pr.remaining !== 0) {
      throw new DecodeError("trailing bytes after postings");
    }
  }

  #symbol(r: ByteReader): string {
    return this.symbols[r.uvarintAtMost(this.symbols.length - 1, "symbol ref")];
  }

  #readLabels(r: ByteReader): Label[] {
    const n = r.uvarintAtMost(this.symbols.length, "label count");
    const labels: Label[] = [];
    for (let i = 0; i < n; i++) {
      const name = this.#symbol(r);
      const value = this.#symbol(r);
      labels.push({ name, value });
    }
    return labels;
  }

  #readChunks(r: ByteReader, bounds?: IndexBounds): ChunkRef[] {
    const n = r.uvarintAtMost(r.remaining, "chunk count");
    const chunks: ChunkRef[] = [];
    if (n === 0) return chunks;
    let offset = r.uvarint();
    let prevMax = 0;
    for (let k = 0; k < n; k++) {
      const minTime = k === 0
        ? this.#minTime + r.uvarint()
        : prevMax + 1 + r.uvarint();
      const maxTime = minTime + r.uvarint();
      const length = r.uvarint();
      if (bounds) {
        if (maxTime >= bounds.maxTime || !Number.isSafeInteger(maxTime)) {
          throw new DecodeError("chunk beyond the block's range");
        }
        if (
          offset < FILE_HEADER_SIZE || length < 6 ||
          offset + length > bounds.chunksSize
        ) {
          throw new DecodeError("chunk ref outside the chunks file");
        }
      }
      chunks.push({ minTime, maxTime, offset, length });
      offset += length;
      prevMax = maxTime;
    }
    return chunks;
  }

  /** Labels and chunk refs of series `id` (0 ≤ id < numSeries). */
  series(id: number): { labels: Labels; chunks: ChunkRef[] } {
    const r = new ByteReader(
      this.#bytes,
      this.#seriesStart + this.#offsets[id],
      this.#seriesEnd,
    );
    const labels = this.#readLabels(r);
    return { labels, chunks: this.#readChunks(r) };
  }

  /** Labels of series `id` only. */
  labels(id: number): Labels {
    return this.#readLabels(
      new ByteReader(
        this.#bytes,
        this.#seriesStart + this.#offsets[id],
        this.#seriesEnd,
      ),
    );
  }

  /** Label names present in the block, sorted. */
  labelNames(): string[] {
    return [...this.#names];
  }

  /** Values of `name`, sorted, with their posting lists. */
  valuesOf(name: string): NamePostings | undefined {
    return this.#postings.get(name);
  }
}

function readSymbols(r: ByteReader): string[] {
  const n = r.uvarintAtMost(r.remaining, "symbol count");
  const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.uvarintAtMost(r.remaining, "symbol length");
    try {
      out.push(dec.decode(r.bytes(len)));
    } catch (e) {
      if (e instanceof DecodeError) throw e;
      throw new DecodeError(`symbol ${i} is not valid UTF-8`);
    }
  }
  if (r.remaining !== 0) throw new DecodeError("trailing bytes after symbols");
  return out;
}
