/**
 * Remote write 1.0: walks the bytes of a `prometheus.WriteRequest` with a
 * cursor into a DecodedBatch, with no object per sample. Each series'
 * label bytes are looked up in a LabelCache, so a label set is decoded
 * and validated once per series, not once per request.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
 *                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2;
 *                    string help = 4; string unit = 5; }
 *
 * Structure errors (truncation, bad wire types, lengths past the end, a
 * Label that is not a message) throw RemoteWriteFormatError; semantic
 * problems of one series (empty or duplicate labels, invalid UTF-8) mark
 * that series invalid and leave the rest of the request usable.
 * @module
 */
import type { DecodedBatch } from "./remote_write_batch.ts";
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
  varint64,
} from "./remote_write_wire.ts";

/** Decodes a WriteRequest (after Snappy) into `batch` (which is reset first). */
export function decodeWriteRequestV1(
  b: Uint8Array,
  batch: DecodedBatch,
  cache: LabelCache,
): void {
  batch.reset();
  const end = b.length;
  let p = 0;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = cursor.p;
    if (t === 0x0a) {
      const s = lengthPrefixed(b, p, end);
      p = cursor.p;
      decodeSeries(b, s, p, batch, cache);
    } else if (t === 0x1a) {
      const s = lengthPrefixed(b, p, end);
      p = cursor.p;
      decodeMetadata(b, s, p, batch);
    } else {
      if (t >>> 3 === 1 || t >>> 3 === 3) expectWire(t, 2, at);
      p = skipField(b, p, end, t);
    }
  }
}

function decodeSeries(
  b: Uint8Array,
  start: number,
  end: number,
  batch: DecodedBatch,
  cache: LabelCache,
): void {
  const first = batch.samples;
  let labStart = -1;
  let labEnd = -1;
  let contiguous = true;
  let p = start;
  while (p < end) {
    const at = p;
    const t = b[p] < 0x80 ? b[p++] : tag(b, p, end);
    if (at + 1 !== p) p = cursor.p;
    switch (t) {
      case 0x0a: { // label
        lengthPrefixed(b, p, end);
        p = cursor.p;
        if (labStart < 0) labStart = at;
        else if (labEnd !== at) contiguous = false;
        labEnd = p;
        break;
      }
      case 0x12: { // sample
        const s = lengthPrefixed(b, p, end);
        p = cursor.p;
        decodeSample(b, s, p, batch);
        break;
      }
      case 0x1a: // exemplar: not stored
        lengthPrefixed(b, p, end);
        p = cursor.p;
        batch.exemplars++;
        break;
      case 0x22: // native histogram: refused
        lengthPrefixed(b, p, end);
        p = cursor.p;
        batch.histograms++;
        break;
      default:
        if (t < 8) throw new RemoteWriteFormatError("field number 0", at);
        if ((t >>> 3) <= 4) expectWire(t, 2, at);
        p = skipField(b, p, end, t);
    }
  }
  let entry: LabelsEntry;
  if (labStart < 0) {
    entry = { labels: null, error: "series has an empty label set" };
  } else if (contiguous) {
    entry = lookup(b, labStart, labEnd, cache);
  } else {
    const key = gatherLabels(b, start, end);
    entry = lookup(key, 0, key.length, cache);
  }
  batch.addSeries(entry.labels, entry.error, first, 0);
}

function lookup(
  b: Uint8Array,
  start: number,
  end: number,
  cache: LabelCache,
): LabelsEntry {
  const hit = cache.get(b, start, end);
  if (hit) return hit;
  const entry = parseLabels(b, start, end);
  cache.remember(entry);
  return entry;
}

/** The Label fields of a series whose labels are interleaved with other fields, concatenated. */
export function gatherLabels(
  b: Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  let p = start;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = skipField(b, cursor.p, end, t);
    if (t === 0x0a) {
      parts.push(b.subarray(at, p));
      n += p - at;
    }
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/** Parses a run of Label fields (tag, length, message) into a validated entry. */
export function parseLabels(
  b: Uint8Array,
  start: number,
  end: number,
): LabelsEntry {
  const pairs: [string, string][] = [];
  let bad = "";
  let p = start;
  while (p < end) {
    tag(b, p, end); // a Label field (0x0a), as the caller found
    const ms = lengthPrefixed(b, cursor.p, end);
    const me = cursor.p;
    p = me;
    let name: string | null = "";
    let value: string | null = "";
    let q = ms;
    while (q < me) {
      const at = q;
      const t = tag(b, q, me);
      q = cursor.p;
      if (t === 0x0a || t === 0x12) {
        const s = lengthPrefixed(b, q, me);
        q = cursor.p;
        const str = decodeUtf8(b, s, q);
        if (t === 0x0a) name = str;
        else value = str;
      } else {
        if (t >>> 3 <= 2) expectWire(t, 2, at);
        q = skipField(b, q, me, t);
      }
    }
    if (name === null || value === null) {
      bad ||= "label name or value is not valid UTF-8";
    } else pairs.push([name, value]);
  }
  if (bad) return { labels: null, error: bad };
  return entryFromPairs(pairs);
}

/**
 * Decodes one Sample message into the batch's next slot: the value's 8
 * bytes are copied as two little-endian words (never through a number, so
 * signalling NaNs such as the stale marker keep their bits); a sample
 * without a timestamp field gets NaN (refused later, not appended).
 */
export function decodeSample(
  b: Uint8Array,
  start: number,
  end: number,
  batch: DecodedBatch,
): void {
  const i = batch.nextSample();
  const w = batch.words;
  let lo = 0;
  let hi = 0;
  let t = NaN;
  let p = start;
  while (p < end) {
    const at = p;
    const k = b[p];
    if (k === 0x09) {
      if (end - p < 9) throw new RemoteWriteFormatError("truncated double", p);
      lo = b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24);
      hi = b[p + 5] | (b[p + 6] << 8) | (b[p + 7] << 16) | (b[p + 8] << 24);
      p += 9;
    } else if (k === 0x10) {
      t = varint64(b, p + 1, end);
      p = cursor.p;
    } else {
      const tg = tag(b, p, end);
      if (tg >>> 3 <= 2) {
        expectWire(tg, tg >>> 3 === 1 ? 1 : 0, at);
      }
      p = skipField(b, cursor.p, end, tg);
    }
  }
  w[2 * i] = lo;
  w[2 * i + 1] = hi;
  batch.ts[i] = t;
  batch.samples = i + 1;
}

/** Decodes one MetricMetadata message [start, end) into `batch.metadata`. */
export function decodeMetadata(
  b: Uint8Array,
  start: number,
  end: number,
  batch: DecodedBatch,
): void {
  let type = 0;
  let family: string | null = "";
  let help: string | null = "";
  let unit: string | null = "";
  let p = start;
  while (p < end) {
    const at = p;
    const t = tag(b, p, end);
    p = cursor.p;
    const field = t >>> 3;
    if (field === 1) {
      expectWire(t, 0, at);
      type = varint64(b, p, end);
      p = cursor.p;
    } else if (field === 2 || field === 4 || field === 5) {
      expectWire(t, 2, at);
      const s = lengthPrefixed(b, p, end);
      p = cursor.p;
      const str = decodeUtf8(b, s, p);
      if (field === 2) family = str;
      else if (field === 4) help = str;
      else unit = str;
    } else p = skipField(b, p, end, t);
  }
  // An entry without a usable family name names nothing: ignored.
  if (family && help !== null && unit !== null) {
    batch.metadata.push({ family, type, help, unit });
  }
}
