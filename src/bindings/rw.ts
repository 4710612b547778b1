/**
 * Bindings for the rw kernel: the remote-write decode stage in the engine
 * module. `RwDecoder` owns the request's bytes in engine memory (Snappy
 * decoded there) and walks a `prometheus.WriteRequest` into columns;
 * `RwLabelCache` maps a series' raw label bytes to a small id (the caller
 * keeps id → Labels). Both own engine allocations: `free()` (or `using`).
 * @module
 */
import type { Engine } from "./engine.ts";
import {
  check,
  EngineError,
  ERR_ARG,
  ERR_CAPACITY,
  ERR_NOMEM,
} from "./errors.ts";

/** A series record's id when its label bytes were not cached. */
export const RW_ID_MISS = -1;
/** A series record's id when its labels are interleaved with other fields (range = whole series). */
export const RW_ID_GATHER = -2;
/** A series record's id when it has no labels. */
export const RW_ID_EMPTY = -3;

const OUT_SIZE = 64;
/** Largest block the engine decodes (1 GiB); larger announcements are ERR_CAPACITY. */
export const RW_MAX_DECODED = 1 << 30;
// Decoded-bytes regions larger than this are released after each request.
const KEEP_BYTES = 8 << 20;

// Calls that allocate trap when memory cannot grow: report ERR_NOMEM.
function allocating(call: () => number, context: string): number {
  try {
    return check(call(), context);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      throw new EngineError(ERR_NOMEM, context);
    }
    throw e;
  }
}

/** What `RwDecoder.walk` found; pointers are engine byte addresses, offsets relative to `RwDecoder.ptr`. */
export interface RwWalk {
  series: number;
  samples: number;
  exemplars: number;
  histograms: number;
  metadata: number;
  misses: number;
  /** Series records: 4 i32 each (id, label start, label end, first sample). */
  seriesPtr: number;
  /** Timestamps, f64 (NaN: the sample had none). */
  tsPtr: number;
  /** Values, 8 bytes each as sent. */
  valuesPtr: number;
  /** Metadata records: 2 i32 each (message start, end). */
  metadataPtr: number;
  /** Offset of the top-level field where the walk failed. */
  errorAt: number;
}

/** A label-bytes cache in engine memory. */
export class RwLabelCache {
  readonly engine: Engine;
  #handle: number;

  private constructor(engine: Engine, handle: number) {
    this.engine = engine;
    this.#handle = handle;
  }

  /** A new cache holding at most `maxEntries` keys and `maxKeyBytes` key bytes. */
  static create(
    engine: Engine,
    maxEntries = 262_144,
    maxKeyBytes = 32 << 20,
  ): RwLabelCache {
    if (!Number.isInteger(maxEntries) || !Number.isInteger(maxKeyBytes)) {
      throw new EngineError(ERR_ARG, "RwLabelCache.create");
    }
    const h = allocating(
      () => engine.raw.rw_cache_new(maxEntries, maxKeyBytes),
      "RwLabelCache.create",
    );
    return new RwLabelCache(engine, h);
  }

  /** The engine handle (0 once freed). */
  get handle(): number {
    return this.#handle;
  }

  /** Entries held. */
  get size(): number {
    return check(this.engine.raw.rw_cache_count(this.#live()), "rw count");
  }

  /** The id of key bytes at [ptr, ptr+len) of engine memory, or -1. */
  lookup(ptr: number, len: number): number {
    const r = this.engine.raw.rw_cache_lookup(this.#live(), ptr, len);
    if (r < -1) throw new EngineError(r, "rw lookup");
    return r;
  }

  /**
   * Caches key bytes at [ptr, ptr+len): their id (0 means the cache
   * started over, so earlier ids are void), or -1 when the key alone is
   * over the byte bound. May grow memory.
   */
  insert(ptr: number, len: number): number {
    const h = this.#live();
    let r = 0;
    allocating(() => {
      r = this.engine.raw.rw_cache_insert(h, ptr, len);
      return r < -1 ? r : 0;
    }, "rw insert");
    return r;
  }

  /** Drops every entry. */
  clear(): void {
    check(this.engine.raw.rw_cache_clear(this.#live()), "rw clear");
  }

  /** Releases the cache (idempotent). */
  free(): void {
    if (this.#handle !== 0) this.engine.raw.rw_cache_free(this.#handle);
    this.#handle = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #live(): number {
    if (this.#handle === 0) throw new EngineError(ERR_ARG, "cache was freed");
    return this.#handle;
  }
}

/**
 * The request bytes in engine memory and the walk over them. One per
 * engine is enough (decoding is synchronous); its regions are reused.
 */
export class RwDecoder {
  readonly engine: Engine;
  #in = 0;
  #inSize = 0;
  #buf = 0;
  #bufSize = 0;
  #out: number;
  /** Length of the bytes at `ptr` (after `snappy` or `load`). */
  length = 0;
  /** The walk's last result (reused). */
  readonly result: RwWalk = {
    series: 0,
    samples: 0,
    exemplars: 0,
    histograms: 0,
    metadata: 0,
    misses: 0,
    seriesPtr: 0,
    tsPtr: 0,
    valuesPtr: 0,
    metadataPtr: 0,
    errorAt: 0,
  };

  constructor(engine: Engine) {
    this.engine = engine;
    this.#out = engine.alloc(OUT_SIZE);
  }

  /** Where the request bytes are in engine memory. */
  get ptr(): number {
    return this.#buf;
  }

  #reserve(size: number): void {
    if (this.#bufSize >= size && this.#buf !== 0) return;
    this.engine.free(this.#buf);
    this.#buf = 0;
    const grown = Math.max(size, 2 * this.#bufSize, 4096);
    this.#buf = this.engine.alloc(grown);
    this.#bufSize = grown;
  }

  /**
   * Decodes a Snappy block into engine memory (at `ptr`, `length` bytes).
   * The announced length is checked against `maxLength` (ERR_CAPACITY)
   * and against 32x the input (ERR_TRUNCATED) before anything is
   * allocated; corrupt input is ERR_CORRUPT / ERR_TRUNCATED.
   */
  snappy(body: Uint8Array, maxLength: number): number {
    const e = this.engine;
    if (this.#inSize < body.length || this.#in === 0) {
      e.free(this.#in);
      this.#in = 0;
      const grown = Math.max(body.length, 2 * this.#inSize, 4096);
      this.#in = e.alloc(grown);
      this.#inSize = grown;
    }
    e.u8.set(body, this.#in);
    const len = check(
      e.raw.rw_snappy_length(this.#in, body.length, maxLength),
      "snappy",
    );
    if (len > RW_MAX_DECODED) throw new EngineError(ERR_CAPACITY, "snappy");
    this.#reserve(len);
    check(
      e.raw.rw_snappy_decode(this.#in, body.length, this.#buf, len),
      "snappy",
    );
    this.length = len;
    return len;
  }

  /** Copies already-decoded request bytes into engine memory (at `ptr`). */
  load(raw: Uint8Array): void {
    this.#reserve(raw.length);
    this.engine.u8.set(raw, this.#buf);
    this.length = raw.length;
  }

  /**
   * Walks the bytes at `ptr` as a prometheus.WriteRequest, looking label
   * bytes up in `cache` (null: every series misses); fills and returns
   * `result`. Throws EngineError (ERR_TRUNCATED/ERR_CORRUPT) for a
   * malformed request; `result.errorAt` then says where.
   */
  walk(cache: RwLabelCache | null): RwWalk {
    const e = this.engine;
    const code = allocating(() => {
      const c = e.raw.rw_decode_v1(
        cache ? cache.handle : 0,
        this.#buf,
        this.length,
        this.#out,
      );
      this.result.errorAt = e.i32[(this.#out >> 2) + 10];
      return c;
    }, "remote write walk");
    const i32 = e.i32;
    const o = this.#out >> 2;
    const r = this.result;
    r.series = i32[o];
    r.samples = i32[o + 1];
    r.exemplars = i32[o + 2];
    r.histograms = i32[o + 3];
    r.metadata = i32[o + 4];
    r.misses = i32[o + 5];
    r.seriesPtr = i32[o + 6];
    r.tsPtr = i32[o + 7];
    r.valuesPtr = i32[o + 8];
    r.metadataPtr = i32[o + 9];
    void code;
    return r;
  }

  /** Releases large regions kept from the last request. */
  trim(): void {
    if (this.#bufSize > KEEP_BYTES) {
      this.engine.free(this.#buf);
      this.#buf = 0;
      this.#bufSize = 0;
    }
    if (this.#inSize > KEEP_BYTES) {
      this.engine.free(this.#in);
      this.#in = 0;
      this.#inSize = 0;
    }
  }

  /** Releases everything (idempotent). */
  free(): void {
    this.engine.free(this.#in);
    this.engine.free(this.#buf);
    this.engine.free(this.#out);
    this.#in = this.#buf = this.#out = 0;
    this.#inSize = this.#bufSize = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
