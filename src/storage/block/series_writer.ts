/**
 * Chooses and writes the records of one series: dense records (encoding 2)
 * over shared timestamp streams (encoding 3) when every sample can be
 * checked exact and that is smaller, else the XOR chunks as given.
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import {
  encodeChunks,
  XOR_SAMPLES_PER_CHUNK,
  XorDecoder,
} from "../../bindings/xor.ts";
import { uvarintSize } from "./bytes.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import type { ChunksFileWriter } from "./chunks_file.ts";
import {
  DENSE_VALUE_LIMIT,
  encodeDenseRecord,
  encodeTimestampStream,
  encodeValues,
  STREAM_MAX_SAMPLES,
  ValueDomain,
} from "./dense_record.ts";
import { ChunkEncoding } from "./format.ts";

/** Samples of one series: integral ms timestamps, values with exact bits. */
export interface SeriesSamples {
  ts: Float64Array;
  values: Float64Array;
}

/** An XOR chunk to store. */
export interface XorChunk {
  minTime: number;
  maxTime: number;
  data: Uint8Array;
}

/** A dense record holds at most this many samples; longer series are split evenly. */
export const DENSE_SEGMENT_MAX = 2048;
/** Timestamps the stream dictionary keeps for sharing (older entries are forgotten). */
const DICTIONARY_BUDGET = 4 << 20;

/** Record framing: length uvarint, encoding byte, CRC. */
function framing(len: number): number {
  return uvarintSize(len) + 1 + 4;
}

/** Byte counts of what was written, for benchmarks. */
export interface WriteStats {
  streamBytes: number;
  denseBytes: number;
  xorBytes: number;
  framingBytes: number;
  denseSamples: number;
  xorSamples: number;
  /** Value bytes by domain: decimal, bits. */
  decimalBytes: number;
  bitsBytes: number;
}

/** Writes series records into one chunks file, sharing timestamp streams. */
export class SeriesWriter {
  readonly #out: ChunksFileWriter;
  readonly #engine: Engine;
  readonly #dense: boolean;
  readonly #decoder: XorDecoder;
  /** Hash of a timestamp array → streams written with that hash. */
  readonly #streams = new Map<number, { ts: Float64Array; offset: number }[]>();
  #kept = 0;
  readonly stats: WriteStats = {
    streamBytes: 0,
    denseBytes: 0,
    xorBytes: 0,
    framingBytes: 0,
    denseSamples: 0,
    xorSamples: 0,
    decimalBytes: 0,
    bitsBytes: 0,
  };

  constructor(out: ChunksFileWriter, engine: Engine, dense: boolean) {
    this.#out = out;
    this.#engine = engine;
    this.#dense = dense;
    this.#decoder = new XorDecoder(engine);
  }

  free(): void {
    this.#decoder.free();
  }

  /** Writes a series given as XOR chunks (already checked for order and range). */
  async writeChunks(
    chunks: readonly XorChunk[],
  ): Promise<{ refs: ChunkRef[]; samples: number }> {
    if (chunks.length === 0) return { refs: [], samples: 0 };
    const samples = this.#dense ? this.#decodeChunks(chunks) : null;
    if (samples) {
      let xorSize = 0;
      for (const c of chunks) xorSize += c.data.length + framing(c.data.length);
      const dense = this.#planDense(samples);
      if (dense && dense.size < xorSize) {
        return await this.#writeDense(samples, dense);
      }
    }
    return await this.#writeXor(chunks);
  }

  /** Writes a series given as samples (checked: increasing, inside the block). */
  async writeSamples(
    s: SeriesSamples,
  ): Promise<{ refs: ChunkRef[]; samples: number }> {
    if (s.ts.length === 0) return { refs: [], samples: 0 };
    const dense = this.#dense && denseFits(s.ts) ? this.#planDense(s) : null;
    const xor = encodeChunks(
      this.#engine,
      s.ts,
      s.values,
      XOR_SAMPLES_PER_CHUNK,
    );
    let xorSize = 0;
    for (const d of xor) xorSize += d.length + framing(d.length);
    if (dense && dense.size < xorSize) return await this.#writeDense(s, dense);
    let at = 0;
    return await this.#writeXor(xor.map((data) => {
      const n = (data[0] << 8) | data[1];
      const c = { minTime: s.ts[at], maxTime: s.ts[at + n - 1], data };
      at += n;
      return c;
    }));
  }

  async #writeXor(
    chunks: readonly XorChunk[],
  ): Promise<{ refs: ChunkRef[]; samples: number }> {
    const refs: ChunkRef[] = [];
    let samples = 0;
    for (const c of chunks) {
      const at = await this.#out.append(ChunkEncoding.XOR, c.data);
      refs.push({ minTime: c.minTime, maxTime: c.maxTime, ...at });
      samples += (c.data[0] << 8) | c.data[1];
      this.stats.xorBytes += c.data.length;
      this.stats.framingBytes += at.length - c.data.length;
    }
    this.stats.xorSamples += samples;
    return { refs, samples };
  }

  /**
   * Decodes XOR chunks and checks that they hold exactly what the index
   * will say: timestamps strictly increasing, first and last equal to the
   * chunk's bounds, small enough for dense records. Null when not.
   */
  #decodeChunks(chunks: readonly XorChunk[]): SeriesSamples | null {
    let total = 0;
    for (const c of chunks) total += (c.data[0] << 8) | c.data[1];
    if (total === 0 || total > STREAM_MAX_SAMPLES) return null;
    const ts = new Float64Array(total);
    const values = new Float64Array(total);
    const words = new Uint32Array(values.buffer);
    let at = 0;
    for (const c of chunks) {
      let n: number;
      try {
        n = this.#decoder.decode(c.data);
      } catch {
        return null;
      }
      if (n === 0 || at + n > total) return null;
      const t = this.#decoder.timestamps;
      if (t[0] !== c.minTime || t[n - 1] !== c.maxTime) return null;
      ts.set(t, at);
      const v = this.#decoder.values;
      words.set(new Uint32Array(v.buffer, v.byteOffset, 2 * n), 2 * at);
      at += n;
    }
    if (at !== total || !denseFits(ts)) return null;
    return { ts, values };
  }

  /** Encoded values of each segment, and the bytes they will take. */
  #planDense(
    s: SeriesSamples,
  ): { size: number; segments: { start: number; values: Uint8Array }[] } {
    const n = s.ts.length;
    const count = Math.ceil(n / DENSE_SEGMENT_MAX);
    const segments: { start: number; values: Uint8Array }[] = [];
    let size = 0;
    for (let k = 0; k < count; k++) {
      const start = Math.floor(k * n / count);
      const end = Math.floor((k + 1) * n / count);
      const values = encodeValues(s.values.subarray(start, end));
      segments.push({ start, values });
      // Header (count, stream offset, start) is at most 12 bytes.
      size += values.length + 12 + framing(values.length + 12);
    }
    return { size, segments };
  }

  async #writeDense(
    s: SeriesSamples,
    plan: { segments: { start: number; values: Uint8Array }[] },
  ): Promise<{ refs: ChunkRef[]; samples: number }> {
    const streamOffset = await this.#stream(s.ts);
    const n = s.ts.length;
    const refs: ChunkRef[] = [];
    const { segments } = plan;
    for (let k = 0; k < segments.length; k++) {
      const { start, values } = segments[k];
      const end = k + 1 < segments.length ? segments[k + 1].start : n;
      const data = encodeDenseRecord(
        { n: end - start, streamOffset, streamStart: start },
        values,
      );
      const at = await this.#out.append(ChunkEncoding.DENSE, data);
      refs.push({ minTime: s.ts[start], maxTime: s.ts[end - 1], ...at });
      this.stats.denseBytes += data.length;
      this.stats.framingBytes += at.length - data.length;
      if (values[0] === ValueDomain.DECIMAL) {
        this.stats.decimalBytes += values.length;
      } else this.stats.bitsBytes += values.length;
    }
    this.stats.denseSamples += n;
    return { refs, samples: n };
  }

  /** The offset of a stream record holding exactly `ts`, written if new. */
  async #stream(ts: Float64Array): Promise<number> {
    const h = hashTimestamps(ts);
    const list = this.#streams.get(h);
    if (list) {
      for (const e of list) if (sameTimestamps(e.ts, ts)) return e.offset;
    }
    const data = encodeTimestampStream(ts);
    const at = await this.#out.append(ChunkEncoding.TIMESTAMPS, data);
    this.stats.streamBytes += data.length;
    this.stats.framingBytes += at.length - data.length;
    while (this.#kept + ts.length > DICTIONARY_BUDGET && this.#streams.size) {
      const [oldest, entries] = this.#streams.entries().next().value!;
      for (const e of entries) this.#kept -= e.ts.length;
      this.#streams.delete(oldest);
    }
    const entry = { ts: ts.slice(), offset: at.offset };
    this.#kept += ts.length;
    const again = this.#streams.get(h);
    if (again) again.push(entry);
    else this.#streams.set(h, [entry]);
    return at.offset;
  }
}

/** Timestamps a dense record can hold: strictly increasing, |t| < 2^51. */
export function denseFits(ts: Float64Array): boolean {
  if (ts.length > STREAM_MAX_SAMPLES) return false;
  let prev = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (!(t > prev && Math.abs(t) < DENSE_VALUE_LIMIT)) return false;
    prev = t;
  }
  return true;
}

function hashTimestamps(ts: Float64Array): number {
  const w = new Uint32Array(ts.buffer, ts.byteOffset, 2 * ts.length);
  let h = 0x811c9dc5 ^ ts.length;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 0x01000193);
  return h >>> 0;
}

function sameTimestamps(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
