/**
 * Remote write 2.0: walks an `io.prometheus.write.v2.Request` into a
 * DecodedBatch (see remote_write_decode.ts for 1.0).
 *
 *   Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
 *                repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
 *                Metadata metadata = 5; int64 created_timestamp = 6; }
 *   Sample     { double value = 1; int64 timestamp = 2; }
 *   Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
 *
 * Symbols are located in a first pass (the wire order of fields is free)
 * and decoded only when a label set is not cached: the cache key is the
 * referenced symbols' bytes, length-prefixed, after a 0x00 byte (a 1.0 key
 * starts with 0x0a, so the two never collide). Refs outside the table and
 * odd-length labels_refs are structure errors.
 * @module
 */
import type { DecodedBatch } from "./remote_write_batch.ts";
import { decodeSample } from "./remote_write_decode.ts";
import {
  decodeUtf8,
  entryFromPairs,
  type LabelCache,
  type LabelsEntry,
} from "./remote_write_labels.ts";
import {
  cursor,
  expectWire,
  lengthPrefixed,
  RemoteWriteFormatError,
  skipField,
  tag,
  varint32,
  varint64,
} from "./remote_write_wire.ts";
import { METRIC_NAME } from "../model/labels.ts";

// Scratch, reused: decoding is synchronous.
let symStart: Int32Array = new Int32Array(256);
let symEnd: Int32Array = new Int32Array(256);
let refs = new Uint32Array(64);
let key = new Uint8Array(1024);

/** One request's symbol table: byte ranges, strings decoded on demand. */
class Symbols {
  count = 0;
  #strings: (string | null | undefined)[] = [];
  constructor(readonly b: Uint8Array) {}

  add(start: number, end: number): void {
    const i = this.count;
    if (i === symStart.length) {
      symStart = grow32(symStart, i * 2);
      symEnd = grow32(symEnd, i * 2);
    }
    symStart[i] = start;
    symEnd[i] = end;
    this.count = i + 1;
  }

  /** Symbol `ref` as a string; null when it is not valid UTF-8. */
  str(ref: number): string | null {
    let s = this.#strings[ref];
    if (s === undefined) {
      s = decodeUtf8(this.b, symStart[ref], symEnd[ref]);
      this.#strings[ref] = s;
    }
    return s;
  }

  check(ref: number, at: number): void {
    if (ref >= this.count) {
      throw new RemoteWriteFormatError(
        `symbol ref ${ref} outside the table of ${this.count}`,
        at,
      );
    }
  }
}

function grow32(a: Int32Array, n: number): Int32Array {
  const g = new Int32Array(n);
  g.set(a);
  return g;
}

/** Decodes a v2 Request (after Snappy) into `batch` (which is reset first). */
export function decodeWriteRequestV2(
  b: Uint8Array,
  batch: DecodedBatch,
  cache: LabelCache,
): void {
  batch.reset();
  const end = b.length;
  const syms = new Symbols(b);
  const series: number[] = [];
  let p = 0;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = cursor.p;
    const field = t >>> 3;
    if (field === 4 || field === 5) {
      expectWire(t, 2, at);
      const s = lengthPrefixed(b, p, end);
      p = cursor.p;
      if (field === 4) syms.add(s, p);
      else series.push(s, p);
    } else p = skipField(b, p, end, t);
  }
  for (let k = 0; k < series.length; k += 2) {
    decodeSeries(b, series[k], series[k + 1], batch, cache, syms);
  }
}

function decodeSeries(
  b: Uint8Array,
  start: number,
  end: number,
  batch: DecodedBatch,
  cache: LabelCache,
  syms: Symbols,
): void {
  const first = batch.samples;
  let nrefs = 0;
  let created = 0;
  let metaType = -1;
  let helpRef = 0;
  let unitRef = 0;
  let p = start;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = cursor.p;
    switch (t) {
      case 0x0a: { // labels_refs, packed
        const s = lengthPrefixed(b, p, end);
        p = cursor.p;
        for (let q = s; q < p;) {
          nrefs = pushRef(nrefs, varint32(b, q, p), syms, q);
          q = cursor.p;
        }
        break;
      }
      case 0x08: // labels_refs, one unpacked
        nrefs = pushRef(nrefs, varint32(b, p, end), syms, p);
        p = cursor.p;
        break;
      case 0x12: {
        const s = lengthPrefixed(b, p, end);
        p = cursor.p;
        decodeSample(b, s, p, batch);
        break;
      }
      case 0x1a:
        lengthPrefixed(b, p, end);
        p = cursor.p;
        batch.histograms++;
        break;
      case 0x22:
        lengthPrefixed(b, p, end);
        p = cursor.p;
        batch.exemplars++;
        break;
      case 0x2a: {
        const s = lengthPrefixed(b, p, end);
        p = cursor.p;
        [metaType, helpRef, unitRef] = readMetadata(b, s, p, syms);
        break;
      }
      case 0x30:
        created = varint64(b, p, end);
        p = cursor.p;
        break;
      default:
        if ((t >>> 3) <= 6) {
          throw new RemoteWriteFormatError(
            `field ${t >>> 3} has wire type ${t & 7}`,
            at,
          );
        }
        p = skipField(b, p, end, t);
    }
  }
  if (nrefs % 2 !== 0) {
    throw new RemoteWriteFormatError(
      `labels_refs has an odd length (${nrefs})`,
      start,
    );
  }
  const entry = nrefs === 0
    ? { labels: null, error: "series has an empty label set" }
    : lookup(nrefs, syms, cache);
  batch.addSeries(entry.labels, entry.error, first, created);
  if (metaType >= 0 && entry.labels) {
    const name = entry.labels.find((l) => l.name === METRIC_NAME)?.value;
    const help = syms.str(helpRef);
    const unit = syms.str(unitRef);
    if (
      name && help !== null && unit !== null &&
      (metaType !== 0 || help !== "" || unit !== "")
    ) batch.metadata.push({ family: name, type: metaType, help, unit });
  }
}

function pushRef(n: number, ref: number, syms: Symbols, at: number): number {
  syms.check(ref, at);
  if (n === refs.length) {
    const g = new Uint32Array(n * 2);
    g.set(refs);
    refs = g;
  }
  refs[n] = ref;
  return n + 1;
}

function readMetadata(
  b: Uint8Array,
  start: number,
  end: number,
  syms: Symbols,
): [number, number, number] {
  let type = 0;
  let help = 0;
  let unit = 0;
  let p = start;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = cursor.p;
    const field = t >>> 3;
    if (field === 1 || field === 3 || field === 4) {
      expectWire(t, 0, at);
      if (field === 1) {
        type = varint64(b, p, end);
      } else {
        const ref = varint32(b, p, end);
        syms.check(ref, p);
        if (field === 3) help = ref;
        else unit = ref;
      }
      p = cursor.p;
    } else p = skipField(b, p, end, t);
  }
  return [type, help, unit];
}

/** Builds the key from the referenced symbols' bytes and looks it up. */
function lookup(n: number, syms: Symbols, cache: LabelCache): LabelsEntry {
  const b = syms.b;
  let size = 1;
  for (let i = 0; i < n; i++) {
    size += 5 + symEnd[refs[i]] - symStart[refs[i]];
  }
  if (size > key.length) key = new Uint8Array(Math.max(size, key.length * 2));
  let o = 0;
  key[o++] = 0;
  for (let i = 0; i < n; i++) {
    const s = symStart[refs[i]];
    const e = symEnd[refs[i]];
    let len = e - s;
    while (len >= 0x80) {
      key[o++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    key[o++] = len;
    for (let j = s; j < e; j++) key[o++] = b[j];
  }
  const hit = cache.get(key, 0, o);
  if (hit) return hit;
  const pairs: [string, string][] = [];
  let entry: LabelsEntry | null = null;
  for (let i = 0; i < n; i += 2) {
    const name = syms.str(refs[i]);
    const value = syms.str(refs[i + 1]);
    if (name === null || value === null) {
      entry = {
        labels: null,
        error: "label name or value is not valid UTF-8",
      };
      break;
    }
    pairs.push([name, value]);
  }
  entry ??= entryFromPairs(pairs);
  cache.remember(entry);
  return entry;
}
