/**
 * Reading the head: a querier over one tenant's head for [mint, maxt]
 * (both inclusive). Closed chunks are immutable and stay allocated while
 * the querier is open; the open chunk and out-of-order samples are copied
 * at select time, so appends after it are not seen (snapshot reads).
 * @module
 */
import type { Labels } from "../../model/labels.ts";
import { compareLabels } from "../block/labels_order.ts";
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
import {
  ChunkDecoder,
  ChunkSeriesIterator,
  type ChunkSource,
  collectSamples,
  toChunks,
} from "../chunk_iterator.ts";

class HeadSeriesView implements Series {
  constructor(
    readonly labels: Labels,
    private readonly querier: HeadQuerier,
    private readonly sources: ChunkSource[],
    private readonly oooTs: Float64Array,
    private readonly oooVals: Float64Array,
  ) {}

  iterator(): SampleIterator {
    return new ChunkSeriesIterator(
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
          bytes: this.#copyOpen(s.buf, len),
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

  /** Slab the open chunks are copied into (one backing store for many series). */
  #slab = new Uint8Array(0);
  #slabAt = 0;

  /** A snapshot of an open chunk's bytes, as a view of the querier's slab. */
  #copyOpen(ptr: number, len: number): Uint8Array {
    if (len > 4096) return this.head.engine.u8.slice(ptr, ptr + len);
    if (this.#slabAt + len > this.#slab.length) {
      // Slabs double from 16 KiB to 256 KiB: a query over a few series
      // (most dashboard panels) leaves 16 KiB of garbage, not 256 KiB.
      this.#slab = new Uint8Array(
        Math.min(SLAB_MAX, Math.max(SLAB_MIN, this.#slab.length * 2)),
      );
      this.#slabAt = 0;
    }
    const at = this.#slabAt;
    this.#slab.set(this.head.engine.u8.subarray(ptr, ptr + len), at);
    this.#slabAt += len;
    return this.#slab.subarray(at, at + len);
  }

  /** Merged samples of a series with out-of-order data, as fresh XOR chunks. */
  reencode(series: HeadSeriesView): ChunkMeta[] {
    const it = series.iterator() as ChunkSeriesIterator;
    return toChunks(this.head.engine, collectSamples(it));
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
/** Smallest and largest slab for open-chunk copies (bytes). */
const SLAB_MIN = 1 << 14;
const SLAB_MAX = 1 << 18;
