/**
 * Remote write 1.0 decoded in the engine module: Snappy and the
 * WriteRequest walk run in WASM (assembly/rw), which also looks each
 * series' raw label bytes up in a per-tenant cache in engine memory and
 * hands back a small id. JavaScript maps ids to cached `Labels`, builds
 * Labels only for label bytes it has not seen (with the TS decoder's
 * parser, so validation is identical), copies the sample columns into the
 * DecodedBatch and decodes metadata messages (rare). The TS decoder
 * (remote_write_decode.ts) is the oracle this must agree with.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import {
  EngineError,
  ERR_CAPACITY,
  ERR_NOMEM,
  ERR_TRUNCATED,
} from "../bindings/errors.ts";
import {
  RW_ID_EMPTY,
  RW_ID_GATHER,
  RwDecoder,
  RwLabelCache,
} from "../bindings/rw.ts";
import type { Labels } from "../model/labels.ts";
import { SnappyError } from "../codec/snappy.ts";
import type { DecodedBatch } from "./remote_write_batch.ts";
import {
  decodeMetadata,
  gatherLabels,
  parseLabels,
} from "./remote_write_decode.ts";
import type { LabelCacheLimits, LabelsEntry } from "./remote_write_labels.ts";
import { RemoteWriteFormatError } from "./remote_write_wire.ts";

/** One tenant's label cache: engine-side keys → ids, and id → Labels here. */
export class WasmLabelCache {
  readonly keys: RwLabelCache;
  labels: (Labels | null)[] = [];
  errors: string[] = [];

  constructor(engine: Engine, limits: Partial<LabelCacheLimits> = {}) {
    this.keys = RwLabelCache.create(
      engine,
      limits.maxEntries ?? 262_144,
      limits.maxKeyBytes ?? 32 << 20,
    );
  }

  /** Remembers `entry` under key bytes at [ptr, ptr+len) of engine memory. */
  remember(ptr: number, len: number, entry: LabelsEntry): void {
    const id = this.keys.insert(ptr, len);
    if (id < 0) return;
    if (id === 0) {
      // The engine-side cache started over: earlier ids are void.
      this.labels = [];
      this.errors = [];
    }
    this.labels[id] = entry.labels;
    this.errors[id] = entry.error;
  }

  /** Entries held. */
  get size(): number {
    return this.keys.size;
  }

  /** Releases the engine-side cache. */
  free(): void {
    this.keys.free();
    this.labels = [];
    this.errors = [];
  }
}

/** Per-tenant WASM label caches over one engine, at most `maxTenants` (least recently used are freed). */
export class WasmTenantLabelCaches {
  #caches = new Map<string, WasmLabelCache>();
  constructor(
    readonly engine: Engine,
    readonly maxTenants = 1024,
    readonly limits: Partial<LabelCacheLimits> = {},
  ) {}

  /** The tenant's cache, created on first use. */
  for(tenant: string): WasmLabelCache {
    let c = this.#caches.get(tenant);
    if (c) this.#caches.delete(tenant);
    else {
      c = new WasmLabelCache(this.engine, this.limits);
      if (this.#caches.size >= this.maxTenants) {
        const [oldest, cache] = this.#caches.entries().next().value!;
        this.#caches.delete(oldest);
        cache.free();
      }
    }
    this.#caches.set(tenant, c);
    return c;
  }

  /** Frees every cache. */
  free(): void {
    for (const c of this.#caches.values()) c.free();
    this.#caches.clear();
  }
}

const decoders = new WeakMap<Engine, RwDecoder>();

/** The engine's shared decoder (decoding is synchronous, so one suffices). */
export function decoderFor(engine: Engine): RwDecoder {
  let d = decoders.get(engine);
  if (!d) {
    d = new RwDecoder(engine);
    decoders.set(engine, d);
  }
  return d;
}

/**
 * Snappy-decodes `body` into the decoder's engine memory, with the same
 * errors as `snappyDecode`: SnappyError "too-large" when the announced
 * length exceeds `maxLength` (nothing allocated), "truncated"/"corrupt".
 */
export function snappyDecodeWasm(
  dec: RwDecoder,
  body: Uint8Array,
  maxLength: number,
): number {
  try {
    return dec.snappy(body, maxLength);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    // No room in engine memory for it: as good as over the limit.
    if (e.code === ERR_CAPACITY || e.code === ERR_NOMEM) {
      throw new SnappyError("too-large", `block exceeds ${maxLength} bytes`);
    }
    if (e.code === ERR_TRUNCATED) {
      throw new SnappyError("truncated", "block is truncated");
    }
    throw new SnappyError("corrupt", e.message);
  }
}

/**
 * Decodes the WriteRequest at the decoder's bytes into `batch` (reset
 * first), labels through `cache`. Throws RemoteWriteFormatError for a
 * malformed request, as decodeWriteRequestV1 does.
 */
export function decodeWriteRequestV1Wasm(
  dec: RwDecoder,
  batch: DecodedBatch,
  cache: WasmLabelCache,
): void {
  batch.reset();
  const e = dec.engine;
  let r;
  try {
    r = dec.walk(cache.keys);
  } catch (err) {
    if (!(err instanceof EngineError) || err.code === ERR_NOMEM) throw err;
    throw new RemoteWriteFormatError(
      err.code === ERR_TRUNCATED
        ? "truncated field (engine walk)"
        : "malformed field (engine walk)",
      dec.result.errorAt,
    );
  }
  const base = dec.ptr;
  const n = r.samples;
  batch.reserveSamples(n);
  batch.ts.set(e.f64.subarray(r.tsPtr >> 3, (r.tsPtr >> 3) + n));
  // Words, not numbers: the value bytes stay exactly as sent.
  batch.words.set(
    e.u32.subarray(r.valuesPtr >> 2, (r.valuesPtr >> 2) + 2 * n),
  );
  batch.samples = n;
  batch.exemplars = r.exemplars;
  batch.histograms = r.histograms;
  if (r.metadata > 0) {
    const u8 = e.u8;
    const i32 = e.i32;
    for (let k = 0, m = r.metadataPtr >> 2; k < r.metadata; k++, m += 2) {
      decodeMetadata(u8, base + i32[m], base + i32[m + 1], batch);
    }
  }
  const { labels, errors } = cache;
  let misses: number[] | null = null;
  const i32 = e.i32;
  for (let s = 0, q = r.seriesPtr >> 2; s < r.series; s++, q += 4) {
    const id = i32[q];
    // (An id this side never filled, after a failed insert, counts as a miss.)
    if (id >= 0 && labels[id] !== undefined) {
      batch.addSeries(labels[id], errors[id], i32[q + 3], 0);
    } else if (id === RW_ID_EMPTY) {
      batch.addSeries(null, "series has an empty label set", i32[q + 3], 0);
    } else if (id === RW_ID_GATHER) {
      const key = gatherLabels(e.u8, base + i32[q + 1], base + i32[q + 2]);
      const entry = parseLabels(key, 0, key.length);
      batch.addSeries(entry.labels, entry.error, i32[q + 3], 0);
    } else {
      // RW_ID_MISS: resolved below.
      batch.addSeries(null, "", i32[q + 3], 0);
      (misses ??= []).push(s);
    }
  }
  if (misses === null) return;
  // New label sets: parse with the TS parser, then cache (may grow memory,
  // so views are re-read each time).
  const seriesPtr = r.seriesPtr;
  for (const s of misses) {
    const q = (seriesPtr >> 2) + 4 * s;
    const start = base + e.i32[q + 1];
    const len = e.i32[q + 2] - e.i32[q + 1];
    let entry: LabelsEntry;
    const id = cache.keys.lookup(start, len);
    if (id >= 0) entry = { labels: cache.labels[id], error: cache.errors[id] };
    else {
      entry = parseLabels(e.u8, start, start + len);
      cache.remember(start, len, entry);
    }
    batch.labels[s] = entry.labels;
    batch.errors[s] = entry.error;
  }
}
