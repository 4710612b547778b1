/**
 * The head of one tenant: in-memory series with open XOR chunks appended
 * through the engine's batch kernel, closed chunks waiting for a block, and
 * out-of-order samples. The head decides each sample's fate (accepted,
 * deduplicated, rejected); durability is the caller's (the WAL).
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import { type Labels, labelsEqual, labelsHash } from "../../model/labels.ts";
import { PostingsIndex } from "../index/postings.ts";
import type { RejectReason } from "../interface.ts";
import { type HeadChunk, HeadSeries, OutOfOrderSamples } from "./series.ts";
import {
  ChunkDecoder,
  ChunkSeriesIterator,
  type ChunkSource,
  collectSamples,
} from "../chunk_iterator.ts";

const EMPTY = new Float64Array(0);

/** Samples per chunk before a cut (Prometheus' target). */
export const SAMPLES_PER_CHUNK = 120;
/** Bytes the engine's readers need after a chunk. */
const READ_SLACK = 32;
/** Initial open-chunk buffer; grows by doubling. */
const INITIAL_CHUNK_CAP = 160;

// Batch kernel statuses (assembly/xor/batch.ts).
const ST_OK = 0;
const ST_CUT = 1;
const ST_GROW = 2;
const ST_RETRY = 3;
const ST_OLDER = 4;
const ST_DUP_SAME = 5;
const ST_DUP_OTHER = 6;
const ST_BAD_TIME = 7;
const RECORD = 24;

/** Tunables of a head. */
export interface HeadOptions {
  /** Chunks never straddle a multiple of this (ms): block ranges (default 2 h). */
  chunkBoundary: number;
  /** Samples older than the head's newest time minus this are refused (ms, default 1 h). */
  outOfOrderWindow: number;
  /** Most series the tenant may have in the head (default unlimited). */
  maxSeries: number;
}

export const DEFAULT_HEAD_OPTIONS: HeadOptions = {
  chunkBoundary: 2 * 3600_000,
  outOfOrderWindow: 3600_000,
  maxSeries: Infinity,
};

/** The outcome of one sample of a batch. */
export type SampleFate = "ok" | "dedup" | RejectReason;

/** A batch of samples for `appendBatch`: parallel arrays, values as bits. */
export interface SampleBatch {
  series: HeadSeries[];
  ts: Float64Array;
  values: Float64Array;
  count: number;
}

/** One tenant's head. */
export class TenantHead {
  readonly index = new PostingsIndex();
  /** Series by the identity of a label set seen before. */
  readonly #byLabels = new WeakMap<Labels, HeadSeries>();
  /** Series by labelsHash; a collision keeps an array. */
  readonly #byHash = new Map<number, HeadSeries | HeadSeries[]>();
  #count = 0;
  readonly #byRef: (HeadSeries | undefined)[] = [];
  #nextRef = 1;
  /** Newest sample time seen (for the out-of-order window); -Infinity when empty. */
  maxTime = -Infinity;
  minTime = Infinity;
  /** Samples older than this are refused ("out of bounds"): their range is in a block. */
  minValidTime = -Infinity;
  /** Open queriers: engine memory they may read is freed only when none are. */
  #readers = 0;
  #deferredFree: number[] = [];
  #records = 0;
  #recordsCap = 0;

  constructor(
    readonly engine: Engine,
    readonly options: HeadOptions = DEFAULT_HEAD_OPTIONS,
  ) {}

  /** Number of series. */
  get numSeries(): number {
    return this.#count;
  }

  /** The series with these labels, if any. */
  get(labels: Labels, hash = labelsHash(labels)): HeadSeries | undefined {
    const found = this.#byHash.get(hash);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) {
      return labelsEqual(found.labels, labels) ? found : undefined;
    }
    return found.find((s) => labelsEqual(s.labels, labels));
  }

  /** The series with this ref, if any. */
  byRef(ref: number): HeadSeries | undefined {
    return this.#byRef[ref];
  }

  /** Every series once (aliases skipped), in ref order. */
  *allSeries(): IterableIterator<HeadSeries> {
    const refs = this.#byRef;
    for (let i = 0; i < refs.length; i++) {
      const s = refs[i];
      if (s && s.ref === i) yield s;
    }
  }

  /**
   * The series for these labels, created when new (`ref` given when
   * replaying the WAL). Returns null when the tenant's series limit is hit.
   */
  getOrCreate(labels: Labels, ref?: number): HeadSeries | null {
    // Callers that keep their label sets (scrape loops, the Pushgateway,
    // the Metrics API) skip hashing: label sets are immutable by type.
    const known = this.#byLabels.get(labels);
    if (
      known !== undefined && this.#byRef[known.ref] === known &&
      ref === undefined
    ) {
      return known;
    }
    const s = this.#getOrCreate(labels, ref);
    if (s) this.#byLabels.set(labels, s);
    return s;
  }

  #getOrCreate(labels: Labels, ref?: number): HeadSeries | null {
    const hash = labelsHash(labels);
    const found = this.get(labels, hash);
    if (found) {
      // Replay: the WAL may name one label set under several refs (a series
      // dropped once its data was in a block, then created again).
      if (ref !== undefined && ref !== found.ref) {
        if (this.#byRef[ref] === undefined) {
          this.#byRef[ref] = found;
          (found.aliases ??= []).push(ref);
        }
        this.#nextRef = Math.max(this.#nextRef, ref + 1);
      }
      return found;
    }
    if (this.#count >= this.options.maxSeries) return null;
    const r = ref ?? this.#nextRef;
    this.#nextRef = Math.max(this.#nextRef, r + 1);
    const s = new HeadSeries(r, labels, hash);
    const e = this.engine;
    s.state = e.alloc(e.raw.XOR_STATE_SIZE.value);
    s.cap = INITIAL_CHUNK_CAP;
    s.buf = e.alloc(s.cap);
    this.#check(e.raw.xor_app_init(s.state, s.buf, s.cap, 1), "init");
    const prev = this.#byHash.get(hash);
    if (prev === undefined) this.#byHash.set(hash, s);
    else if (Array.isArray(prev)) prev.push(s);
    else this.#byHash.set(hash, [prev, s]);
    this.#count++;
    this.#byRef[r] = s;
    this.index.add(r, labels);
    return s;
  }

  /**
   * Appends a batch; writes each sample's fate into `fates`. Samples of one
   * series keep their order. Accepted out-of-order samples go to the
   * series' out-of-order store.
   */
  appendBatch(batch: SampleBatch, fates: SampleFate[]): void {
    const e = this.engine;
    const n = batch.count;
    if (n === 0) return;
    // Records: (state, status, t, value bits), values copied as bytes.
    const rec = this.#recordBuffer(n);
    let view = e.view;
    // Values move as two 32-bit words: bit-exact, no loose numbers.
    const words = e.u32;
    const src = new Uint32Array(
      batch.values.buffer,
      batch.values.byteOffset,
      n * 2,
    );
    for (let i = 0; i < n; i++) {
      const p = rec + i * RECORD;
      view.setUint32(p, batch.series[i].state, true);
      view.setFloat64(p + 8, batch.ts[i], true);
      words[(p + 16) >> 2] = src[2 * i];
      words[(p + 20) >> 2] = src[2 * i + 1];
    }
    // Pending record indexes, in order; re-run until every fate is final.
    let pending: number[] = [];
    let order: number[] | null = null; // record slot -> batch index
    let count = n;
    for (;;) {
      const left = e.raw.xor_app_batch(
        rec,
        count,
        SAMPLES_PER_CHUNK,
        this.options.chunkBoundary,
      );
      if (left < 0) throw new Error(`xor_app_batch failed: ${left}`);
      // Read every status first: cuts and grows below allocate, which may
      // grow engine memory and detach views.
      view = e.view;
      const statuses = new Int32Array(count);
      for (let k = 0; k < count; k++) {
        statuses[k] = view.getInt32(rec + k * RECORD + 4, true);
      }
      pending = [];
      for (let k = 0; k < count; k++) {
        const status = statuses[k];
        const i = order ? order[k] : k;
        const s = batch.series[i];
        switch (status) {
          case ST_OK: {
            fates[i] = "ok";
            const t = batch.ts[i];
            if (t > this.maxTime) this.maxTime = t;
            if (t < this.minTime) this.minTime = t;
            break;
          }
          case ST_CUT:
            this.#cut(s);
            pending.push(i);
            break;
          case ST_GROW:
            this.#grow(s);
            pending.push(i);
            break;
          case ST_RETRY:
            pending.push(i);
            break;
          case ST_OLDER:
            fates[i] = this.#outOfOrder(s, batch, i);
            break;
          case ST_DUP_SAME:
            fates[i] = "dedup";
            break;
          case ST_DUP_OTHER:
            fates[i] = "duplicate sample for timestamp";
            break;
          case ST_BAD_TIME:
            fates[i] = "out of bounds";
            break;
          default:
            throw new Error(`unknown append status ${status}`);
        }
      }
      if (pending.length === 0) return;
      // Compact the pending records to the front, in order, and go again.
      const mem = e.u8;
      for (let k = 0, slot = 0; k < count; k++) {
        const i = order ? order[k] : k;
        if (pending[slot] === i) {
          if (slot !== k) {
            mem.copyWithin(
              rec + slot * RECORD,
              rec + k * RECORD,
              rec + (k + 1) * RECORD,
            );
          }
          slot++;
        }
      }
      order = pending;
      count = pending.length;
    }
  }

  /** Closes a series' open chunk when its last sample is before `t`. */
  cutIfBefore(s: HeadSeries, t: number): void {
    const e = this.engine;
    if (e.raw.xor_app_count(s.state) > 0 && e.raw.xor_app_last_t(s.state) < t) {
      this.#cut(s);
    }
  }

  /** Closes the open chunk (an exact-size copy) and restarts the buffer. */
  #cut(s: HeadSeries): void {
    const e = this.engine;
    const len = e.raw.xor_app_len(s.state);
    if (e.raw.xor_app_count(s.state) > 0) {
      const ptr = e.alloc(len + READ_SLACK);
      e.u8.copyWithin(ptr, s.buf, s.buf + len);
      s.chunks.push({
        minTime: e.raw.xor_app_first_t(s.state),
        maxTime: e.raw.xor_app_last_t(s.state),
        ptr,
        len,
      });
    }
    this.#check(e.raw.xor_app_init(s.state, s.buf, s.cap, 1), "cut");
  }

  /** Moves the open chunk into a buffer twice as large. */
  #grow(s: HeadSeries): void {
    const e = this.engine;
    const cap = s.cap * 2;
    const buf = e.alloc(cap);
    this.#check(e.raw.xor_app_move(s.state, buf, cap), "grow");
    this.#free(s.buf);
    e.raw.xor_app_unblock(s.state);
    s.buf = buf;
    s.cap = cap;
  }

  /** Decides an out-of-order sample: into the series' store, or refused. */
  #outOfOrder(s: HeadSeries, batch: SampleBatch, i: number): SampleFate {
    const t = batch.ts[i];
    const window = this.options.outOfOrderWindow;
    if (window <= 0) return "out of order sample";
    if (t < this.maxTime - window || t < this.minValidTime) {
      return "out of bounds";
    }
    const same = this.#existingBits(s, t);
    const bits = new BigUint64Array(
      batch.values.buffer,
      batch.values.byteOffset + i * 8,
      1,
    )[0];
    if (same !== null) {
      return same === bits ? "dedup" : "duplicate sample for timestamp";
    }
    const ooo = (s.ooo ??= new OutOfOrderSamples());
    ooo.insert(ooo.lowerBound(t), t, batch.values, i);
    if (t < this.minTime) this.minTime = t;
    return "ok";
  }

  /** Value bits of the sample at exactly t in this series, or null. */
  #existingBits(s: HeadSeries, t: number): bigint | null {
    if (s.ooo) {
      const at = s.ooo.lowerBound(t);
      if (at < s.ooo.count && s.ooo.ts[at] === t) {
        return new BigUint64Array(s.ooo.values.buffer, at * 8, 1)[0];
      }
    }
    const e = this.engine;
    const candidates: { ptr: number; len: number }[] = [];
    for (const c of s.chunks) {
      if (c.minTime <= t && t <= c.maxTime) candidates.push(c);
    }
    if (
      e.raw.xor_app_count(s.state) > 0 && e.raw.xor_app_first_t(s.state) <= t
    ) {
      candidates.push({ ptr: s.buf, len: e.raw.xor_app_len(s.state) });
    }
    for (const c of candidates) {
      const found = findInChunk(e, c.ptr, c.len, t);
      if (found !== null) return found;
    }
    return null;
  }

  #recordBuffer(n: number): number {
    if (n > this.#recordsCap) {
      this.engine.free(this.#records);
      this.#recordsCap = Math.max(n, 1024);
      this.#records = this.engine.alloc(this.#recordsCap * RECORD);
    }
    return this.#records;
  }

  /** Open readers. */
  get readers(): number {
    return this.#readers;
  }

  /** A reader starts: engine memory it may see stays allocated until it ends. */
  acquire(): void {
    this.#readers++;
  }

  /** A reader ends. */
  release(): void {
    if (--this.#readers === 0) this.#flushFrees();
  }

  #free(ptr: number): void {
    if (this.#readers > 0) this.#deferredFree.push(ptr);
    else this.engine.free(ptr);
  }

  #flushFrees(): void {
    for (const p of this.#deferredFree) this.engine.free(p);
    this.#deferredFree = [];
  }

  /**
   * Drops closed chunks and out-of-order samples entirely before `before`
   * (they are in a block now); series left with no data are removed.
   */
  truncateBefore(
    before: number,
    keep: (s: HeadSeries) => boolean = () => false,
  ): void {
    for (const s of [...this.allSeries()]) {
      if (!s) continue;
      while (s.chunks.length > 0 && s.chunks[0].maxTime < before) {
        this.#free(s.chunks.shift()!.ptr);
      }
      if (s.ooo) {
        const at = s.ooo.lowerBound(before);
        if (at > 0) {
          s.ooo.ts.copyWithin(0, at, s.ooo.count);
          s.ooo.values.copyWithin(0, at, s.ooo.count);
          s.ooo.count -= at;
        }
        if (s.ooo.count === 0) s.ooo = null;
      }
      const empty = s.chunks.length === 0 && !s.ooo &&
        this.engine.raw.xor_app_count(s.state) === 0;
      if (empty && !keep(s)) this.#remove(s);
    }
  }

  /**
   * Deletes the samples of the series `refs` within [mint, maxt]
   * (inclusive): each affected series is rebuilt from its remaining
   * samples; one left empty is removed. Returns how many series changed.
   */
  deleteRange(refs: ArrayLike<number>, mint: number, maxt: number): number {
    let changed = 0;
    const e = this.engine;
    const decoder = new ChunkDecoder(e);
    try {
      for (let k = 0; k < refs.length; k++) {
        const s = this.#byRef[refs[k]];
        if (!s) continue;
        // Every sample of the series, merged in time order, bits exact.
        const sources: ChunkSource[] = s.chunks.map((c) => ({
          ...c,
          bytes: null,
        }));
        const n = e.raw.xor_app_count(s.state);
        if (n > 0) {
          const len = e.raw.xor_app_len(s.state);
          sources.push({
            minTime: e.raw.xor_app_first_t(s.state),
            maxTime: e.raw.xor_app_last_t(s.state),
            ptr: 0,
            len,
            bytes: e.u8.slice(s.buf, s.buf + len),
          });
        }
        const ooo = s.ooo;
        const it = new ChunkSeriesIterator(
          decoder,
          sources,
          ooo ? ooo.ts.subarray(0, ooo.count) : EMPTY,
          ooo ? ooo.values.subarray(0, ooo.count) : EMPTY,
          -Infinity,
          Infinity,
        );
        const got = collectSamples(it, (t) => t < mint || t > maxt);
        const { ts, values: vals, n: kept, dropped } = got;
        if (dropped === 0) continue;
        changed++;
        // Rebuild: drop the chunks, restart the appender, append what is left.
        for (const c of s.chunks) this.#free(c.ptr);
        s.chunks.length = 0;
        s.ooo = null;
        this.#check(e.raw.xor_app_init(s.state, s.buf, s.cap, 1), "reset");
        if (kept === 0) {
          this.#remove(s);
          continue;
        }
        const batch: SampleBatch = {
          series: new Array(kept).fill(s),
          ts: ts.subarray(0, kept),
          values: vals.subarray(0, kept),
          count: kept,
        };
        const saved = this.minValidTime;
        this.minValidTime = -Infinity; // re-adding what was already accepted
        try {
          this.appendBatch(batch, new Array(kept));
        } finally {
          this.minValidTime = saved;
        }
      }
    } finally {
      decoder.free();
    }
    return changed;
  }

  #remove(s: HeadSeries): void {
    const prev = this.#byHash.get(s.hash);
    if (Array.isArray(prev)) {
      const rest = prev.filter((x) => x !== s);
      this.#byHash.set(s.hash, rest.length === 1 ? rest[0] : rest);
    } else this.#byHash.delete(s.hash);
    this.#count--;
    this.#byRef[s.ref] = undefined;
    for (const a of s.aliases ?? []) this.#byRef[a] = undefined;
    this.index.remove(s.ref);
    this.#free(s.buf);
    this.#free(s.state);
  }

  /** Frees every engine allocation of the head. */
  close(): void {
    for (const s of [...this.allSeries()]) {
      if (!s) continue;
      for (const c of s.chunks) this.engine.free(c.ptr);
      this.engine.free(s.buf);
      this.engine.free(s.state);
    }
    this.#flushFrees();
    this.engine.free(this.#records);
    this.#byHash.clear();
    this.#count = 0;
    this.#byRef.length = 0;
  }

  /** Engine bytes held for chunks (open buffers and closed chunks). */
  chunkBytes(): number {
    let total = 0;
    for (const s of [...this.allSeries()]) {
      if (!s) continue;
      total += s.cap + this.engine.raw.XOR_STATE_SIZE.value;
      for (const c of s.chunks) total += c.len + READ_SLACK;
    }
    return total;
  }

  #check(r: number, what: string): void {
    if (r < 0) throw new Error(`head ${what} failed: engine error ${r}`);
  }
}

/** Bits of the value at time t in the chunk at [ptr, ptr+len), or null. */
function findInChunk(
  e: Engine,
  ptr: number,
  len: number,
  t: number,
): bigint | null {
  const n = (e.u8[ptr] << 8) | e.u8[ptr + 1];
  const out = e.alloc(Math.max(n, 1) * 16);
  try {
    const got = e.raw.xor_decode_range_f64t(
      ptr,
      len,
      t,
      t,
      out,
      out + n * 8,
      n,
    );
    if (got <= 0) return null;
    return new BigUint64Array(e.raw.memory.buffer, out + n * 8, 1)[0];
  } finally {
    e.free(out);
  }
}

export type { HeadChunk };
