/**
 * Remote read from the browser: a snappy-compressed ReadRequest asking for
 * STREAMED_XOR_CHUNKS, the framed ChunkedReadResponse stream checked
 * frame by frame (CRC-32C), and the Gorilla chunks decoded by engine.wasm
 * through the same XorDecoder the server uses.
 * @module
 */
import type { ApiClient } from "./api.ts";
import { ApiError } from "./api.ts";
import type { Engine } from "../../bindings/engine.ts";
import { XorDecoder } from "../../bindings/xor.ts";
import {
  type ChunkedReadResponse,
  ChunkEncoding,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  type Query,
  ResponseType,
} from "../../codec/prompb.ts";
import { FrameReader } from "../../codec/chunked_stream.ts";
import { snappyDecode, snappyEncode } from "../../codec/snappy.ts";
import type { RawRead } from "./selectors.ts";

/** Largest frame the page accepts (Prometheus' default is 50 MiB). */
const MAX_FRAME = 64 << 20;
/** Largest decompressed SAMPLES response the page accepts. */
const MAX_DECODED = 256 << 20;

/** One series' raw samples. */
export interface RawSeries {
  labels: Record<string, string>;
  timestamps: Float64Array;
  values: Float64Array;
}

/** A finished remote read and what it took. */
export interface RemoteReadResult {
  /** Per query of the request, its series. */
  results: RawSeries[][];
  responseType: "STREAMED_XOR_CHUNKS" | "SAMPLES";
  bytes: number;
  sentBytes: number;
  frames: number;
  chunks: number;
  samples: number;
  /** Time spent decoding chunks in engine.wasm (ms). */
  decodeMs: number;
}

/** Thrown when the server has no remote read route (the page falls back). */
export class RemoteReadUnavailable extends Error {
  constructor(readonly status: number) {
    super(`remote read not available (HTTP ${status})`);
    this.name = "RemoteReadUnavailable";
  }
}

/** Builds the request body: snappy(ReadRequest) preferring chunks. */
export function buildReadRequest(reads: RawRead[]): Uint8Array<ArrayBuffer> {
  const queries: Query[] = reads.map((r) => ({
    startTimestampMs: r.start,
    endTimestampMs: r.end,
    matchers: r.matchers,
  }));
  return snappyEncode(encodeReadRequest({
    queries,
    acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS],
  }));
}

/** Runs one remote read for `reads` and decodes everything it returns. */
export async function remoteRead(
  api: ApiClient,
  engine: Engine,
  reads: RawRead[],
): Promise<RemoteReadResult> {
  const body = buildReadRequest(reads);
  const res = await api.send("/api/v1/read", {
    method: "POST",
    headers: {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
      "x-prometheus-remote-read-version": "0.1.0",
    },
    body,
  });
  if (res.status === 404 || res.status === 405) {
    await res.body?.cancel();
    throw new RemoteReadUnavailable(res.status);
  }
  if (!res.ok) {
    throw new ApiError(res.status, "remote_read", (await res.text()).trim());
  }
  const type = res.headers.get("content-type") ?? "";
  const raw = new Uint8Array(await res.arrayBuffer());
  if (type.startsWith("application/x-streamed-protobuf")) {
    return { ...decodeStream(engine, raw, reads), sentBytes: body.length };
  }
  // A server may answer SAMPLES even when chunks were preferred.
  const decoded = decodeReadResponse(snappyDecode(raw, MAX_DECODED));
  const results = decoded.results.map((r) =>
    r.timeseries.map((ts) => ({
      labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
      timestamps: ts.timestamps,
      values: ts.values,
    }))
  );
  return {
    results,
    responseType: "SAMPLES",
    bytes: raw.length,
    sentBytes: body.length,
    frames: 0,
    chunks: 0,
    samples: results.flat().reduce((n, s) => n + s.values.length, 0),
    decodeMs: 0,
  };
}

/**
 * Splits a STREAMED_XOR_CHUNKS body into frames and decodes every XOR
 * chunk, keeping the samples within each query's window (edge chunks
 * may hold more). Frames of one series may follow each other: their
 * samples are joined.
 */
export function decodeStream(
  engine: Engine,
  body: Uint8Array,
  reads: RawRead[],
): Omit<RemoteReadResult, "sentBytes"> {
  const reader = new FrameReader(MAX_FRAME);
  reader.push(body);
  const messages: ChunkedReadResponse[] = [];
  for (let m = reader.next(); m !== null; m = reader.next()) {
    messages.push(decodeChunkedReadResponse(m));
  }
  reader.end();
  const perQuery = reads.map(() => new Map<string, SeriesBuilder>());
  const decoder = new XorDecoder(engine);
  let chunks = 0;
  let samples = 0;
  const t0 = performance.now();
  try {
    for (const msg of messages) {
      const read = reads[msg.queryIndex];
      if (!read) throw new Error(`frame for unknown query ${msg.queryIndex}`);
      for (const cs of msg.chunkedSeries) {
        const key = JSON.stringify(cs.labels.map((l) => [l.name, l.value]));
        let b = perQuery[msg.queryIndex].get(key);
        if (!b) {
          b = new SeriesBuilder(
            Object.fromEntries(cs.labels.map((l) => [l.name, l.value])),
          );
          perQuery[msg.queryIndex].set(key, b);
        }
        for (const c of cs.chunks) {
          if (c.type !== ChunkEncoding.XOR) {
            throw new Error(`chunk encoding ${c.type} is not XOR`);
          }
          const n = decoder.decodeRange(c.data, read.start, read.end);
          b.add(decoder.timestamps, decoder.values);
          chunks++;
          samples += n;
        }
      }
    }
  } finally {
    decoder.free();
  }
  return {
    results: perQuery.map((m) => [...m.values()].map((b) => b.finish())),
    responseType: "STREAMED_XOR_CHUNKS",
    bytes: body.length,
    frames: messages.length,
    chunks,
    samples,
    decodeMs: performance.now() - t0,
  };
}

/** Collects decoded pieces of one series (copies: decoder views are reused). */
class SeriesBuilder {
  #ts: Float64Array[] = [];
  #vs: Float64Array[] = [];
  constructor(readonly labels: Record<string, string>) {}
  add(ts: Float64Array, vs: Float64Array): void {
    this.#ts.push(ts.slice());
    this.#vs.push(vs.slice());
  }
  finish(): RawSeries {
    return {
      labels: this.labels,
      timestamps: concat(this.#ts),
      values: concat(this.#vs),
    };
  }
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
