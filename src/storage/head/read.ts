/**
 * Reading the head: a querier over one tenant's head for [mint, maxt]
 * (both inclusive). Closed chunks are immutable and stay allocated while
 * the querier is open; the open chunk and out-of-order samples are copied
 * at select time, so appends after it are not seen (snapshot reads).
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import { encodeChunks } from "../../bindings/xor.ts";
import { compareStrings, type Labels } from "../../model/labels.ts";
import type { Matcher } from "../../model/matcher.ts";
import type {
  ChunkMeta,
  Querier,
  SampleIterator,
  SelectHints,
  Series,
} from "../interface.ts";
import type { TenantHead } from "./head.ts";
import type { HeadSeries } from "./series.ts";

/** A chunk a series iterator will decode: in engine memory, or copied out. */
interface ChunkSource {
  minTime: number;
  maxTime: number;
  ptr: number; // engine pointer, when `bytes` is null
  len: number;
  bytes: Uint8Array | null;
}

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

/** Decodes chunks into copies owned by the iterator (engine views may detach). */
class ChunkDecoder {
  #input = 0;
  #inputCap = 0;
  #out = 0;
  #outCap = 0;
  constructor(readonly engine: Engine) {}

  /** Decodes into ts/values (grown as needed); returns [ts, values, n]. */
  decode(
    src: ChunkSource,
    ts: Float64Array,
    values: Float64Array,
  ): [Float64Array, Float64Array, number] {
    const e = this.engine;
    let ptr = src.ptr;
    let len = src.len;
    if (src.bytes) {
      len = src.bytes.length;
      if (len + 32 > this.#inputCap) {
        e.free(this.#input);
        this.#inputCap = Math.max(256, (len + 32) * 2);
        this.#input = e.alloc(this.#inputCap);
      }
      e.u8.set(src.bytes, this.#input);
      ptr = this.#input;
    }
    const n = (e.u8[ptr] << 8) | e.u8[ptr + 1];
    if (n * 16 > this.#outCap) {
      e.free(this.#out);
      this.#outCap = Math.max(n * 16, 120 * 16);
      this.#out = e.alloc(this.#outCap);
    }
    const got = e.raw.xor_decode_f64t(
      ptr,
      len,
      this.#out,
      this.#out + n * 8,
      n,
    );
    if (got < 0) throw new Error(`corrupt head chunk (engine error ${got})`);
    if (ts.length < got) {
      ts = new Float64Array(Math.max(got, 120));
      values = new Float64Array(Math.max(got, 120));
    }
    const f64 = e.f64;
    ts.set(f64.subarray(this.#out >> 3, (this.#out >> 3) + got));
    values.set(
      f64.subarray((this.#out + n * 8) >> 3, ((this.#out + n * 8) >> 3) + got),
    );
    return [ts, values, got];
  }

  free(): void {
    this.engine.free(this.#input);
    this.engine.free(this.#out);
    this.#input =
      this.#out =
      this.#inputCap =
      this.#outCap =
        0;
  }
}

/** Iterates a series' chunks and out-of-order samples merged, within [mint, maxt]. */
export class HeadSeriesIterator implements SampleIterator {
  #chunk = -1;
  #ts: Float64Array = new Float64Array(120);
  #vals: Float64Array = new Float64Array(120);
  #n = 0;
  /** Next unconsumed chunk sample. */
  #i = 0;
  /** Next unconsumed out-of-order sample. */
  #oi = 0;
  /** The current value's bits (copied, never through a loose number). */
  readonly #cur = new Float64Array(1);
  readonly #curWords = new Uint32Array(this.#cur.buffer);
  #err: Error | null = null;
  #done = false;
  t = NaN;
  v = NaN;

  constructor(
    private readonly decoder: ChunkDecoder,
    private readonly chunks: ChunkSource[],
    private readonly oooTs: Float64Array,
    private readonly oooVals: Float64Array,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    while (this.#oi < oooTs.length && oooTs[this.#oi] < mint) this.#oi++;
  }

  /** True when a chunk sample is available at #i (decoding the next chunk if needed). */
  #peekChunk(): boolean {
    while (this.#i >= this.#n) {
      if (this.#chunk + 1 >= this.chunks.length) return false;
      const c = this.chunks[++this.#chunk];
      this.#n = 0;
      this.#i = 0;
      if (c.maxTime < this.mint) continue;
      try {
        [this.#ts, this.#vals, this.#n] = this.decoder.decode(
          c,
          this.#ts,
          this.#vals,
        );
      } catch (e) {
        this.#err = e as Error;
        return false;
      }
      while (this.#i < this.#n && this.#ts[this.#i] < this.mint) this.#i++;
    }
    return true;
  }

  next(): boolean {
    if (this.#done) return false;
    const haveChunk = this.#peekChunk();
    if (this.#err) return this.#finish();
    const haveOoo = this.#oi < this.oooTs.length;
    if (!haveChunk && !haveOoo) return this.#finish();
    const ct = haveChunk ? this.#ts[this.#i] : Infinity;
    const ot = haveOoo ? this.oooTs[this.#oi] : Infinity;
    if (ot < ct) {
      this.t = ot;
      this.#cur.set(this.oooVals.subarray(this.#oi, this.#oi + 1));
      this.#oi++;
    } else {
      this.t = ct;
      this.#cur.set(this.#vals.subarray(this.#i, this.#i + 1));
      this.#i++;
    }
    if (this.t > this.maxt) return this.#finish();
    this.v = this.#cur[0];
    return true;
  }

  #finish(): false {
    this.#done = true;
    return false;
  }

  seek(t: number): boolean {
    if (this.#done) return false;
    if (!Number.isNaN(this.t) && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }

  isStale(): boolean {
    return this.#curWords[1] === STALE_HI && this.#curWords[0] === STALE_LO;
  }

  /** Copies the current value's exact bits into dst[at]. */
  valueInto(dst: Float64Array, at: number): void {
    dst.set(this.#cur, at);
  }

  err(): Error | null {
    return this.#err;
  }
}

class HeadSeriesView implements Series {
  constructor(
    readonly labels: Labels,
    private readonly querier: HeadQuerier,
    private readonly sources: ChunkSource[],
    private readonly oooTs: Float64Array,
    private readonly oooVals: Float64Array,
  ) {}

  iterator(): SampleIterator {
    return new HeadSeriesIterator(
      this.querier.decoder,
      this.sources,
      this.oooTs,
      this.oooVals,
      this.querier.mint,
      this.querier.maxt,
    );
  }

  chunks(): ChunkMeta[] {
    const e = this.querier.head.engine;
    if (this.oooTs.length > 0) return this.querier.reencode(this);
    return this.sources.map((c) => ({
      minTime: c.minTime,
      maxTime: c.maxTime,
      data: c.bytes ?? e.u8.slice(c.ptr, c.ptr + c.len),
    }));
  }
}

/** A querier over one tenant's head. */
export class HeadQuerier implements Querier {
  readonly decoder: ChunkDecoder;
  #closed = false;

  constructor(
    readonly head: TenantHead,
    readonly mint: number,
    readonly maxt: number,
  ) {
    this.decoder = new ChunkDecoder(head.engine);
    head.acquire();
  }

  select(matchers: readonly Matcher[], hints?: SelectHints): Series[] {
    const refs = this.head.index.select(matchers);
    const out: HeadSeriesView[] = [];
    const lo = Math.max(this.mint, hints?.start ?? -Infinity);
    const hi = Math.min(this.maxt, hints?.end ?? Infinity);
    for (const ref of refs) {
      const s = this.head.byRef(ref);
      if (!s) continue;
      const view = this.#view(s, lo, hi);
      if (view) out.push(view);
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    if (hints?.limit !== undefined && out.length > hints.limit) {
      out.length = hints.limit;
    }
    return out;
  }

  #view(s: HeadSeries, lo: number, hi: number): HeadSeriesView | null {
    const e = this.head.engine;
    const sources: ChunkSource[] = [];
    for (const c of s.chunks) {
      if (c.maxTime >= lo && c.minTime <= hi) {
        sources.push({ ...c, bytes: null });
      }
    }
    const n = e.raw.xor_app_count(s.state);
    if (n > 0) {
      const first = e.raw.xor_app_first_t(s.state);
      const last = e.raw.xor_app_last_t(s.state);
      if (last >= lo && first <= hi) {
        const len = e.raw.xor_app_len(s.state);
        sources.push({
          minTime: first,
          maxTime: last,
          ptr: 0,
          len,
          bytes: e.u8.slice(s.buf, s.buf + len),
        });
      }
    }
    let oooTs = EMPTY;
    let oooVals = EMPTY;
    if (s.ooo) {
      const a = s.ooo.lowerBound(lo);
      let b = s.ooo.lowerBound(hi);
      while (b < s.ooo.count && s.ooo.ts[b] === hi) b++;
      if (b > a) {
        oooTs = s.ooo.ts.slice(a, b);
        oooVals = s.ooo.values.slice(a, b);
      }
    }
    if (sources.length === 0 && oooTs.length === 0) return null;
    return new HeadSeriesView(s.labels, this, sources, oooTs, oooVals);
  }

  /** Merged samples of a series with out-of-order data, as fresh XOR chunks. */
  reencode(series: HeadSeriesView): ChunkMeta[] {
    const it = series.iterator() as HeadSeriesIterator;
    let ts = new Float64Array(256);
    let vals = new Float64Array(256);
    let n = 0;
    while (it.next()) {
      if (n === ts.length) {
        const t2 = new Float64Array(n * 2);
        const v2 = new Float64Array(n * 2);
        t2.set(ts);
        v2.set(vals);
        ts = t2;
        vals = v2;
      }
      ts[n] = it.t;
      it.valueInto(vals, n);
      n++;
    }
    if (it.err()) throw it.err();
    const chunks = encodeChunks(
      this.head.engine,
      ts.subarray(0, n),
      vals.subarray(0, n),
    );
    let at = 0;
    return chunks.map((data) => {
      const count = (data[0] << 8) | data[1];
      const meta = { minTime: ts[at], maxTime: ts[at + count - 1], data };
      at += count;
      return meta;
    });
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    const refs = matchers && matchers.length > 0
      ? this.#inRange(this.head.index.select(matchers))
      : undefined;
    return this.head.index.labelNames(refs);
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    const refs = matchers && matchers.length > 0
      ? this.#inRange(this.head.index.select(matchers))
      : undefined;
    return this.head.index.labelValues(name, refs);
  }

  #inRange(refs: Uint32Array): Uint32Array {
    return refs;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.decoder.free();
    this.head.release();
  }
}

const EMPTY = new Float64Array(0);

function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i].name, b[i].name) ||
      compareStrings(a[i].value, b[i].value);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
