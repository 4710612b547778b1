/**
 * Hand-written encoders and decoders for the Prometheus remote write/read
 * protobuf messages (package `prometheus`, prompb/types.proto and
 * prompb/remote.proto). Only what remote write v1 and remote read need is
 * modelled; metadata, exemplars and histograms are parsed past (and
 * counted), and unknown fields are skipped by wire type.
 *
 * Samples are columnar (`timestamps`, `values` as Float64Array) and values
 * are moved as raw bytes, so NaN payloads survive bit-exactly — including
 * Prometheus' stale marker 0x7ff0000000000002, a signalling NaN that a JS
 * number cannot carry (V8 sets its quiet bit).
 * @module
 */

import { ProtoError, ProtoReader, ProtoWriter, WireType } from "./protowire.ts";

/** One label pair. */
export interface Label {
  name: string;
  value: string;
}

/**
 * A series with its samples as two parallel columns. Decoded series' columns
 * are views into one buffer shared by the whole decoded message.
 */
export interface TimeSeries {
  labels: Label[];
  /** Sample timestamps in ms since the epoch (safe integers). */
  timestamps: Float64Array;
  /** Sample values, bit-exact. */
  values: Float64Array;
}

/** What a decoded WriteRequest contained but this codec does not model. */
export interface SkippedParts {
  metadata: number;
  exemplars: number;
  histograms: number;
}

/** prometheus.WriteRequest (remote write 1.0). */
export interface WriteRequest {
  timeseries: TimeSeries[];
  /** Set by the decoder: counts of parts parsed past. */
  skipped?: SkippedParts;
}

/** prometheus.LabelMatcher.Type. */
export const MatcherType = { EQ: 0, NEQ: 1, RE: 2, NRE: 3 } as const;

/** prometheus.LabelMatcher. */
export interface LabelMatcher {
  /** One of MatcherType (unknown numbers are kept as read). */
  type: number;
  name: string;
  value: string;
}

/** prometheus.ReadHints. */
export interface ReadHints {
  stepMs: number;
  func: string;
  startMs: number;
  endMs: number;
  grouping: string[];
  by: boolean;
  rangeMs: number;
}

/** prometheus.Query. */
export interface Query {
  startTimestampMs: number;
  endTimestampMs: number;
  matchers: LabelMatcher[];
  hints?: ReadHints;
}

/** prometheus.ReadRequest.ResponseType. */
export const ResponseType = { SAMPLES: 0, STREAMED_XOR_CHUNKS: 1 } as const;

/** prometheus.ReadRequest. */
export interface ReadRequest {
  queries: Query[];
  /** ResponseType numbers in order of preference. */
  acceptedResponseTypes: number[];
}

/** prometheus.QueryResult. */
export interface QueryResult {
  timeseries: TimeSeries[];
}

/** prometheus.ReadResponse (response type SAMPLES). */
export interface ReadResponse {
  results: QueryResult[];
}

/** prometheus.Chunk.Encoding. */
export const ChunkEncoding = {
  UNKNOWN: 0,
  XOR: 1,
  HISTOGRAM: 2,
  FLOAT_HISTOGRAM: 3,
} as const;

/** prometheus.Chunk: a TSDB chunk covering [minTimeMs, maxTimeMs]. */
export interface Chunk {
  minTimeMs: number;
  maxTimeMs: number;
  /** One of ChunkEncoding. */
  type: number;
  data: Uint8Array;
}

/** prometheus.ChunkedSeries. */
export interface ChunkedSeries {
  labels: Label[];
  chunks: Chunk[];
}

/** prometheus.ChunkedReadResponse (one frame of STREAMED_XOR_CHUNKS). */
export interface ChunkedReadResponse {
  chunkedSeries: ChunkedSeries[];
  queryIndex: number;
}

// ---------------------------------------------------------------- encoders

/** Encodes a WriteRequest (the body before Snappy compression). */
export function encodeWriteRequest(req: WriteRequest): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(1024);
  for (const ts of req.timeseries) {
    const m = w.fork();
    writeSeries(w, ts);
    w.join(1, m);
  }
  return w.finish();
}

/** Encodes a ReadRequest. Response types are written packed. */
export function encodeReadRequest(req: ReadRequest): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(256);
  for (const q of req.queries) {
    const m = w.fork();
    writeQuery(w, q);
    w.join(1, m);
  }
  if (req.acceptedResponseTypes.length > 0) {
    const m = w.fork();
    for (const t of req.acceptedResponseTypes) w.int64(t);
    w.join(2, m);
  }
  return w.finish();
}

/** Encodes a ReadResponse (SAMPLES). */
export function encodeReadResponse(res: ReadResponse): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(1024);
  for (const r of res.results) {
    const m = w.fork();
    for (const ts of r.timeseries) {
      const s = w.fork();
      writeSeries(w, ts);
      w.join(1, s);
    }
    w.join(1, m);
  }
  return w.finish();
}

/** Encodes one ChunkedReadResponse message (frame it with encodeFrame). */
export function encodeChunkedReadResponse(
  res: ChunkedReadResponse,
): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(1024);
  for (const cs of res.chunkedSeries) {
    const m = w.fork();
    writeLabels(w, cs.labels, 1);
    for (const c of cs.chunks) {
      const k = w.fork();
      if (c.minTimeMs !== 0) w.tag(1, WireType.VARINT).int64(c.minTimeMs);
      if (c.maxTimeMs !== 0) w.tag(2, WireType.VARINT).int64(c.maxTimeMs);
      if (c.type !== 0) w.tag(3, WireType.VARINT).int64(c.type);
      if (c.data.length > 0) w.bytesField(4, c.data);
      w.join(2, k);
    }
    w.join(1, m);
  }
  if (res.queryIndex !== 0) w.tag(2, WireType.VARINT).int64(res.queryIndex);
  return w.finish();
}

function writeLabels(w: ProtoWriter, labels: Label[], field: number): void {
  for (const l of labels) {
    const m = w.fork();
    if (l.name !== "") w.stringField(1, l.name);
    if (l.value !== "") w.stringField(2, l.value);
    w.join(field, m);
  }
}

function writeSeries(w: ProtoWriter, ts: TimeSeries): void {
  if (ts.timestamps.length !== ts.values.length) {
    throw new RangeError(
      `series has ${ts.timestamps.length} timestamps but ${ts.values.length} values`,
    );
  }
  writeLabels(w, ts.labels, 1);
  const bytes = new Uint8Array(
    ts.values.buffer,
    ts.values.byteOffset,
    ts.values.byteLength,
  );
  const words = new Uint32Array(
    ts.values.buffer,
    ts.values.byteOffset,
    ts.values.length * 2,
  );
  for (let i = 0; i < ts.timestamps.length; i++) {
    const m = w.fork();
    // proto3 omits a field equal to its default: only +0.0 (all bits zero).
    if ((words[2 * i] | words[2 * i + 1]) !== 0) {
      w.tag(1, WireType.I64).raw8(bytes, 8 * i);
    }
    const t = ts.timestamps[i];
    if (t !== 0) w.tag(2, WireType.VARINT).int64(t);
    w.join(2, m);
  }
}

function writeQuery(w: ProtoWriter, q: Query): void {
  if (q.startTimestampMs !== 0) {
    w.tag(1, WireType.VARINT).int64(q.startTimestampMs);
  }
  if (q.endTimestampMs !== 0) w.tag(2, WireType.VARINT).int64(q.endTimestampMs);
  for (const mt of q.matchers) {
    const m = w.fork();
    if (mt.type !== 0) w.tag(1, WireType.VARINT).int64(mt.type);
    if (mt.name !== "") w.stringField(2, mt.name);
    if (mt.value !== "") w.stringField(3, mt.value);
    w.join(3, m);
  }
  if (q.hints) {
    const h = q.hints;
    const m = w.fork();
    if (h.stepMs !== 0) w.tag(1, WireType.VARINT).int64(h.stepMs);
    if (h.func !== "") w.stringField(2, h.func);
    if (h.startMs !== 0) w.tag(3, WireType.VARINT).int64(h.startMs);
    if (h.endMs !== 0) w.tag(4, WireType.VARINT).int64(h.endMs);
    for (const g of h.grouping) w.stringField(5, g);
    if (h.by) w.tag(6, WireType.VARINT).uvarint(1);
    if (h.rangeMs !== 0) w.tag(7, WireType.VARINT).int64(h.rangeMs);
    w.join(4, m);
  }
}

// ---------------------------------------------------------------- decoders

/** Decodes a WriteRequest (after Snappy decompression). */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  const r = new ProtoReader(bytes);
  const timeseries: TimeSeries[] = [];
  const skipped: SkippedParts = { metadata: 0, exemplars: 0, histograms: 0 };
  const cols = new SampleColumns();
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        timeseries.push(readSeries(r.message(), skipped, cols));
        break;
      case 3:
        r.expect(WireType.LEN);
        r.skip();
        skipped.metadata++;
        break;
      default:
        r.skip();
    }
  }
  cols.finish();
  return { timeseries, skipped };
}

/** Decodes a ReadRequest; accepts packed and unpacked response types. */
export function decodeReadRequest(bytes: Uint8Array): ReadRequest {
  const r = new ProtoReader(bytes);
  const queries: Query[] = [];
  const acceptedResponseTypes: number[] = [];
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        queries.push(readQuery(r.message()));
        break;
      case 2:
        if (r.wireType === WireType.LEN) {
          const p = r.message();
          while (!p.done()) acceptedResponseTypes.push(p.int32());
        } else {
          r.expect(WireType.VARINT);
          acceptedResponseTypes.push(r.int32());
        }
        break;
      default:
        r.skip();
    }
  }
  return { queries, acceptedResponseTypes };
}

/** Decodes a ReadResponse (SAMPLES, after Snappy decompression). */
export function decodeReadResponse(bytes: Uint8Array): ReadResponse {
  const r = new ProtoReader(bytes);
  const results: QueryResult[] = [];
  const skipped: SkippedParts = { metadata: 0, exemplars: 0, histograms: 0 };
  const cols = new SampleColumns();
  while (!r.done()) {
    if (r.tag() === 1) {
      r.expect(WireType.LEN);
      const q = r.message();
      const timeseries: TimeSeries[] = [];
      while (!q.done()) {
        if (q.tag() === 1) {
          q.expect(WireType.LEN);
          timeseries.push(readSeries(q.message(), skipped, cols));
        } else q.skip();
      }
      results.push({ timeseries });
    } else r.skip();
  }
  cols.finish();
  return { results };
}

/** Decodes one ChunkedReadResponse message (one frame's payload). */
export function decodeChunkedReadResponse(
  bytes: Uint8Array,
): ChunkedReadResponse {
  const r = new ProtoReader(bytes);
  const chunkedSeries: ChunkedSeries[] = [];
  let queryIndex = 0;
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        chunkedSeries.push(readChunkedSeries(r.message()));
        break;
      case 2:
        r.expect(WireType.VARINT);
        queryIndex = r.int64();
        break;
      default:
        r.skip();
    }
  }
  return { chunkedSeries, queryIndex };
}

function readLabel(r: ProtoReader): Label {
  let name = "";
  let value = "";
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        name = r.string();
        break;
      case 2:
        r.expect(WireType.LEN);
        value = r.string();
        break;
      default:
        r.skip();
    }
  }
  return { name, value };
}

/**
 * Growable sample columns shared by every series of one decoded message
 * (one pair of buffers instead of several per series); values are filled
 * byte-wise so NaN payloads are not canonicalised.
 */
class SampleColumns {
  timestamps = new Float64Array(64);
  valueBytes = new Uint8Array(64 * 8);
  length = 0;
  #pending: Array<{ series: TimeSeries; start: number; end: number }> = [];

  grow(): void {
    const cap = this.timestamps.length * 2;
    const t = new Float64Array(cap);
    t.set(this.timestamps);
    const vb = new Uint8Array(cap * 8);
    vb.set(this.valueBytes);
    this.timestamps = t;
    this.valueBytes = vb;
  }

  /** Remembers that `series` owns samples [start, end). */
  claim(series: TimeSeries, start: number, end: number): void {
    this.#pending.push({ series, start, end });
  }

  /** Trims the buffers and hands each series its views into them. */
  finish(): void {
    const n = this.length;
    const t = this.timestamps.slice(0, n);
    const v = new Float64Array(this.valueBytes.slice(0, n * 8).buffer);
    for (const { series, start, end } of this.#pending) {
      series.timestamps = t.subarray(start, end);
      series.values = v.subarray(start, end);
    }
    this.#pending = [];
  }
}

const NO_SAMPLES = new Float64Array(0);

function readSeries(
  r: ProtoReader,
  skipped: SkippedParts,
  cols: SampleColumns,
): TimeSeries {
  const labels: Label[] = [];
  const start = cols.length;
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        labels.push(readLabel(r.message()));
        break;
      case 2: {
        r.expect(WireType.LEN);
        const s = r.message();
        if (cols.length === cols.timestamps.length) cols.grow();
        const i = cols.length++;
        cols.timestamps[i] = 0;
        cols.valueBytes.fill(0, 8 * i, 8 * i + 8);
        while (!s.done()) {
          switch (s.tag()) {
            case 1:
              s.expect(WireType.I64);
              s.fixed64Into(cols.valueBytes, 8 * i);
              break;
            case 2:
              s.expect(WireType.VARINT);
              cols.timestamps[i] = s.int64();
              break;
            default:
              s.skip();
          }
        }
        break;
      }
      case 3:
        r.expect(WireType.LEN);
        r.skip();
        skipped.exemplars++;
        break;
      case 4:
        r.expect(WireType.LEN);
        r.skip();
        skipped.histograms++;
        break;
      default:
        r.skip();
    }
  }
  const series: TimeSeries = {
    labels,
    timestamps: NO_SAMPLES,
    values: NO_SAMPLES,
  };
  cols.claim(series, start, cols.length);
  return series;
}

function readQuery(r: ProtoReader): Query {
  const q: Query = { startTimestampMs: 0, endTimestampMs: 0, matchers: [] };
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.VARINT);
        q.startTimestampMs = r.int64();
        break;
      case 2:
        r.expect(WireType.VARINT);
        q.endTimestampMs = r.int64();
        break;
      case 3:
        r.expect(WireType.LEN);
        q.matchers.push(readMatcher(r.message()));
        break;
      case 4:
        r.expect(WireType.LEN);
        q.hints = readHints(r.message());
        break;
      default:
        r.skip();
    }
  }
  return q;
}

function readMatcher(r: ProtoReader): LabelMatcher {
  const m: LabelMatcher = { type: 0, name: "", value: "" };
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.VARINT);
        m.type = r.int32();
        break;
      case 2:
        r.expect(WireType.LEN);
        m.name = r.string();
        break;
      case 3:
        r.expect(WireType.LEN);
        m.value = r.string();
        break;
      default:
        r.skip();
    }
  }
  return m;
}

function readHints(r: ProtoReader): ReadHints {
  const h: ReadHints = {
    stepMs: 0,
    func: "",
    startMs: 0,
    endMs: 0,
    grouping: [],
    by: false,
    rangeMs: 0,
  };
  while (!r.done()) {
    const f = r.tag();
    if (f === 2 || f === 5) {
      r.expect(WireType.LEN);
      if (f === 2) h.func = r.string();
      else h.grouping.push(r.string());
      continue;
    }
    if (f < 1 || f > 7) {
      r.skip();
      continue;
    }
    r.expect(WireType.VARINT);
    if (f === 6) h.by = r.bool();
    else {
      const v = r.int64();
      if (f === 1) h.stepMs = v;
      else if (f === 3) h.startMs = v;
      else if (f === 4) h.endMs = v;
      else h.rangeMs = v;
    }
  }
  return h;
}

function readChunkedSeries(r: ProtoReader): ChunkedSeries {
  const labels: Label[] = [];
  const chunks: Chunk[] = [];
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.LEN);
        labels.push(readLabel(r.message()));
        break;
      case 2:
        r.expect(WireType.LEN);
        chunks.push(readChunk(r.message()));
        break;
      default:
        r.skip();
    }
  }
  return { labels, chunks };
}

function readChunk(r: ProtoReader): Chunk {
  const c: Chunk = {
    minTimeMs: 0,
    maxTimeMs: 0,
    type: 0,
    data: new Uint8Array(0),
  };
  while (!r.done()) {
    switch (r.tag()) {
      case 1:
        r.expect(WireType.VARINT);
        c.minTimeMs = r.int64();
        break;
      case 2:
        r.expect(WireType.VARINT);
        c.maxTimeMs = r.int64();
        break;
      case 3:
        r.expect(WireType.VARINT);
        c.type = r.int32();
        break;
      case 4:
        r.expect(WireType.LEN);
        // Copy so the chunk does not pin the whole response buffer.
        c.data = r.bytes().slice();
        break;
      default:
        r.skip();
    }
  }
  return c;
}

export { ProtoError };
