/**
 * Label sets of remote-write series, built once and reused: a bounded
 * cache from a series' raw label bytes (as they lie in the request) to its
 * validated `Labels`. Prometheus resends every series' labels in every
 * request, so after the first request a series costs a hash and a byte
 * compare instead of string decoding, sorting and validation; the cached
 * label set is the same object each time, which the head also recognises
 * without hashing.
 * @module
 */
import { formatLabels, type Labels, labelsFrom } from "../model/labels.ts";

/** A cached outcome: the label set, or why the bytes name no valid series. */
export interface LabelsEntry {
  readonly labels: Labels | null;
  /** Why `labels` is null ("" when valid). */
  readonly error: string;
}

interface Slot extends LabelsEntry {
  /** The key bytes as little-endian words, the last one zero-padded. */
  readonly key: Int32Array;
  /** The key's length in bytes. */
  readonly bytes: number;
  next: Slot | null;
}

/** Bounds of one cache. */
export interface LabelCacheLimits {
  /** Most entries kept (default 262,144). */
  maxEntries: number;
  /** Most key bytes kept (default 32 MiB). */
  maxKeyBytes: number;
}

const DEFAULT_LIMITS: LabelCacheLimits = {
  maxEntries: 262_144,
  maxKeyBytes: 32 << 20,
};

// The key looked up last (decoding is synchronous).
let keyView: DataView = new DataView(new ArrayBuffer(0));
let keyStart = 0;
let keyBytes = 0;
let keyHash = 0;

/** A DataView over `b` (reused while `b` is the same bytes). */
function viewOf(b: Uint8Array): DataView {
  if (
    keyView.buffer !== b.buffer || keyView.byteOffset !== b.byteOffset ||
    keyView.byteLength !== b.byteLength
  ) keyView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return keyView;
}

/**
 * Hashes bytes [start, end) to 30 bits (small integers are the fastest
 * Map keys): two independent multiply-rotate lanes over unaligned
 * little-endian words, so the CPU overlaps them; a final mix spreads the
 * bits. Hits are confirmed by comparing the bytes, so this need only be
 * well spread, not collision-proof.
 */
function hashKey(v: DataView, start: number, end: number): number {
  let h1 = 0;
  let h2 = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    h1 = (h1 + Math.imul(v.getInt32(i, true), 0x9e3779b1)) | 0;
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = (h2 + Math.imul(v.getInt32(i + 4, true), 0x85ebca77)) | 0;
    h2 = (h2 << 11) | (h2 >>> 21);
  }
  for (; i < end; i++) h1 = Math.imul(h1 ^ v.getUint8(i), 0x01000193);
  let h = h1 ^ Math.imul(h2, 0xc2b2ae3d) ^ (end - start);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 2;
}

function sameKey(slot: Slot, v: DataView, start: number, n: number): boolean {
  if (slot.bytes !== n) return false;
  const key = slot.key;
  const full = n >>> 2;
  let p = start;
  for (let k = 0; k < full; k++, p += 4) {
    if (key[k] !== v.getInt32(p, true)) return false;
  }
  if (full * 4 === n) return true;
  let tail = 0;
  for (let sh = 0; p < start + n; p++, sh += 8) tail |= v.getUint8(p) << sh;
  return key[full] === tail;
}

/** The key bytes as little-endian words, the last zero-padded. */
function packKey(v: DataView, start: number, n: number): Int32Array {
  const out = new Int32Array((n + 3) >>> 2);
  const full = n >>> 2;
  for (let k = 0; k < full; k++) out[k] = v.getInt32(start + 4 * k, true);
  let tail = 0;
  for (let i = full * 4, sh = 0; i < n; i++, sh += 8) {
    tail |= v.getUint8(start + i) << sh;
  }
  if (full * 4 !== n) out[full] = tail;
  return out;
}

/**
 * Raw label bytes → label set, bounded. When full it starts over (a new
 * generation): simple, bounded, and costs only re-validation of the series
 * that come back.
 */
export class LabelCache {
  #map = new Map<number, Slot>();
  #entries = 0;
  #bytes = 0;
  readonly limits: LabelCacheLimits;

  constructor(limits: Partial<LabelCacheLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries;
  }

  /**
   * The entry for bytes [start, end) of `b`, if cached. Remembers the key:
   * a miss is followed by `remember` with the entry built for it.
   */
  get(b: Uint8Array, start: number, end: number): LabelsEntry | undefined {
    const v = viewOf(b);
    keyStart = start;
    keyBytes = end - start;
    keyHash = hashKey(v, start, end);
    for (let s = this.#map.get(keyHash) ?? null; s !== null; s = s.next) {
      if (sameKey(s, v, start, keyBytes)) return s;
    }
    return undefined;
  }

  /** Caches `entry` under the key of the last `get`. */
  remember(entry: LabelsEntry): void {
    if (
      this.#entries + 1 > this.limits.maxEntries ||
      this.#bytes + keyBytes > this.limits.maxKeyBytes
    ) this.clear();
    const slot: Slot = {
      key: packKey(keyView, keyStart, keyBytes),
      bytes: keyBytes,
      labels: entry.labels,
      error: entry.error,
      next: this.#map.get(keyHash) ?? null,
    };
    this.#map.set(keyHash, slot);
    this.#entries++;
    this.#bytes += keyBytes;
  }

  /** Drops every entry. */
  clear(): void {
    this.#map = new Map();
    this.#entries = 0;
    this.#bytes = 0;
  }
}

/** Per-tenant label caches, at most `maxTenants` of them (least recently used go). */
export class TenantLabelCaches {
  #caches = new Map<string, LabelCache>();
  constructor(
    readonly maxTenants = 1024,
    readonly limits: Partial<LabelCacheLimits> = {},
  ) {}

  /** The tenant's cache, created on first use. */
  for(tenant: string): LabelCache {
    let c = this.#caches.get(tenant);
    if (c) {
      // Re-insert: Map order is then least recently used first.
      this.#caches.delete(tenant);
    } else {
      c = new LabelCache(this.limits);
      if (this.#caches.size >= this.maxTenants) {
        this.#caches.delete(this.#caches.keys().next().value!);
      }
    }
    this.#caches.set(tenant, c);
    return c;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 bytes [start, end) of `b`; null when they are not valid
 * UTF-8. ASCII (nearly every label) is decoded without TextDecoder.
 */
export function decodeUtf8(
  b: Uint8Array,
  start: number,
  end: number,
): string | null {
  const n = end - start;
  if (n <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (b[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
      return s;
    }
  }
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    return null;
  }
}

/**
 * Validates decoded pairs into an entry: at least one non-empty value, no
 * empty or duplicate names (sorting as needed; empty values mean "absent",
 * as in Prometheus). Names and values are any UTF-8 (Prometheus 3).
 */
export function entryFromPairs(pairs: [string, string][]): LabelsEntry {
  let labels: Labels;
  try {
    labels = labelsFrom(pairs);
  } catch (e) {
    return { labels: null, error: (e as Error).message };
  }
  if (labels.length === 0) {
    return { labels: null, error: "series has an empty label set" };
  }
  return { labels, error: "" };
}

/** Renders a label set for an error message, short. */
export function describeLabels(labels: Labels): string {
  const s = formatLabels(labels);
  return s.length > 200 ? s.slice(0, 197) + "..." : s;
}
