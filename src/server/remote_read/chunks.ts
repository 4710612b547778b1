/**
 * The chunks a STREAMED_XOR_CHUNKS answer ships for one series within
 * [mint, maxt] (inclusive), as Prometheus 2.42 does:
 * - a stored chunk wholly inside the range is shipped as stored, bytes
 *   untouched;
 * - an edge chunk holding samples outside the range is decoded, trimmed to
 *   the range and re-encoded as one XOR chunk (dropped when nothing is
 *   left), so no sample outside the range is shipped;
 * - when a series' chunks overlap in time (the same series in a block and
 *   in the head), its merged samples are re-encoded into fresh chunks of
 *   120, as Prometheus' compacting merge does.
 * Re-encoded chunks use the Prometheus 2.x byte layout (the encoder's
 * default), so they match what Prometheus 2.42 sends for the same samples.
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import {
  encodeChunks,
  XOR_MAX_SAMPLES,
  XOR_SAMPLES_PER_CHUNK,
  XorDecoder,
} from "../../bindings/xor.ts";
import { type Chunk, ChunkEncoding } from "../../codec/prompb.ts";
import type {
  ChunkMeta,
  SampleIterator,
  Series,
} from "../../storage/interface.ts";

/** Iterators of the store that can copy a value's exact bits. */
type BitExactIterator = SampleIterator & {
  valueInto?(dst: Float64Array, at: number): void;
};

/** What one series' chunk selection did (for tests and metrics). */
export interface ChunkCounts {
  /** Chunks shipped byte for byte as stored. */
  asStored: number;
  /** Edge chunks trimmed and re-encoded. */
  trimmed: number;
  /** Chunks re-encoded from merged samples (overlapping sources). */
  merged: number;
}

/** Picks and trims chunks; owns a decoder in engine memory (call `free`). */
export class ChunkSelector {
  readonly #engine: Engine;
  readonly #decoder: XorDecoder;
  /** Running totals over every series selected with this instance. */
  readonly counts: ChunkCounts = { asStored: 0, trimmed: 0, merged: 0 };

  constructor(engine: Engine) {
    this.#engine = engine;
    this.#decoder = new XorDecoder(engine);
  }

  /** The chunks to ship for `series` within [mint, maxt]. */
  select(series: Series, mint: number, maxt: number): Chunk[] {
    const metas = series.chunks();
    if (overlapping(metas)) return this.#merge(series, mint, maxt);
    const out: Chunk[] = [];
    for (const c of metas) {
      if (c.maxTime < mint || c.minTime > maxt) continue;
      if (c.minTime >= mint && c.maxTime <= maxt) {
        this.counts.asStored++;
        out.push(xorChunk(c.minTime, c.maxTime, c.data));
        continue;
      }
      const trimmed = this.#trim(c.data, mint, maxt);
      if (trimmed) out.push(trimmed);
    }
    return out;
  }

  /** Re-encodes the samples of `data` within [mint, maxt] as one chunk. */
  #trim(data: Uint8Array, mint: number, maxt: number): Chunk | null {
    const n = this.#decoder.decodeRange(data, mint, maxt);
    if (n === 0) return null;
    // Copies out of engine memory: encoding allocates, which may detach views.
    const ts = this.#decoder.timestamps.slice();
    const vs = this.#decoder.values.slice();
    const [bytes] = encodeChunks(this.#engine, ts, vs, XOR_MAX_SAMPLES);
    this.counts.trimmed++;
    return xorChunk(ts[0], ts[n - 1], bytes);
  }

  /** Re-encodes a series' merged samples within [mint, maxt]. */
  #merge(series: Series, mint: number, maxt: number): Chunk[] {
    const { ts, vs } = collect(series.iterator(), mint, maxt);
    const out: Chunk[] = [];
    let at = 0;
    for (const bytes of encodeChunks(this.#engine, ts, vs)) {
      const count = (bytes[0] << 8) | bytes[1];
      out.push(xorChunk(ts[at], ts[at + count - 1], bytes));
      at += count;
    }
    this.counts.merged += out.length;
    return out;
  }

  /** Releases the decoder's engine memory. */
  free(): void {
    this.#decoder.free();
  }
}

function xorChunk(
  minTimeMs: number,
  maxTimeMs: number,
  data: Uint8Array,
): Chunk {
  return { minTimeMs, maxTimeMs, type: ChunkEncoding.XOR, data };
}

function overlapping(metas: readonly ChunkMeta[]): boolean {
  for (let i = 1; i < metas.length; i++) {
    if (metas[i].minTime <= metas[i - 1].maxTime) return true;
  }
  return false;
}

/** Drains an iterator within [mint, maxt], values bit-exact. */
function collect(
  it: BitExactIterator,
  mint: number,
  maxt: number,
): { ts: Float64Array; vs: Float64Array } {
  let ts = new Float64Array(XOR_SAMPLES_PER_CHUNK);
  let vs = new Float64Array(XOR_SAMPLES_PER_CHUNK);
  let n = 0;
  if (it.seek(mint)) {
    do {
      if (it.t > maxt) break;
      if (n === ts.length) {
        const t2 = new Float64Array(n * 2);
        const v2 = new Float64Array(n * 2);
        t2.set(ts);
        v2.set(vs);
        ts = t2;
        vs = v2;
      }
      ts[n] = it.t;
      if (it.valueInto) it.valueInto(vs, n);
      else vs[n] = it.v;
      n++;
    } while (it.next());
  }
  const err = it.err();
  if (err) throw err;
  return { ts: ts.subarray(0, n), vs: vs.subarray(0, n) };
}
