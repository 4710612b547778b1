/**
 * STREAMED_XOR_CHUNKS answers as a lazy sequence of frames (uvarint size,
 * big-endian CRC-32C, ChunkedReadResponse message), cut the way Prometheus
 * 2.42 cuts them: one series per frame, a series' chunks split over several
 * frames once the labels plus the chunks so far reach `maxFrameBytes`
 * (so a frame exceeds the limit by at most one chunk). Queries are read
 * one at a time and a series' chunks only when its frames are due, so
 * memory holds one query's series list and one series' chunks.
 * @module
 */
import type { Engine } from "../../bindings/engine.ts";
import { encodeFrame } from "../../codec/chunked_stream.ts";
import {
  type Chunk,
  encodeChunkedReadResponse,
  type Label,
} from "../../codec/prompb.ts";
import type { Storage, TenantId } from "../../storage/interface.ts";
import { ChunkSelector } from "./chunks.ts";
import type { PlannedQuery } from "./request.ts";

/** Prometheus' default --storage.remote.read-max-bytes-in-frame. */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

/** Where the frames come from. */
export interface FrameSource {
  store: Storage;
  engine: Engine;
  tenant: TenantId;
  queries: readonly PlannedQuery[];
  maxFrameBytes: number;
}

/**
 * Yields the answer's frames. Closing the generator early (`return()`)
 * releases the querier and the decoder it holds.
 */
export function* chunkedFrames(
  src: FrameSource,
): Generator<Uint8Array<ArrayBuffer>, void, undefined> {
  const selector = new ChunkSelector(src.engine);
  try {
    for (const q of src.queries) {
      if (q.empty) continue;
      const querier = src.store.querier(src.tenant, q.startMs, q.endMs);
      try {
        for (const series of querier.select(q.matchers)) {
          const labels = series.labels.map((l) => ({
            name: l.name,
            value: l.value,
          }));
          const chunks = selector.select(series, q.startMs, q.endMs);
          yield* seriesFrames(labels, chunks, q.index, src.maxFrameBytes);
        }
      } finally {
        querier.close();
      }
    }
  } finally {
    selector.free();
  }
}

/** One series' frames (none when it has no chunks), cut as Prometheus does. */
export function* seriesFrames(
  labels: Label[],
  chunks: readonly Chunk[],
  queryIndex: number,
  maxFrameBytes: number,
): Generator<Uint8Array<ArrayBuffer>, void, undefined> {
  let budget = maxFrameBytes;
  for (const l of labels) budget -= labelSize(l);
  let left = budget;
  let batch: Chunk[] = [];
  for (let i = 0; i < chunks.length; i++) {
    batch.push(chunks[i]);
    left -= chunkSize(chunks[i]);
    if (left > 0 && i + 1 < chunks.length) continue;
    yield encodeFrame(encodeChunkedReadResponse({
      chunkedSeries: [{ labels, chunks: batch }],
      queryIndex,
    }));
    batch = [];
    left = budget;
  }
}

/** Encoded size of a prometheus.Label message (Go's Label.Size()). */
function labelSize(l: Label): number {
  return stringFieldSize(l.name) + stringFieldSize(l.value);
}

/** Encoded size of a prometheus.Chunk message (Go's Chunk.Size()). */
function chunkSize(c: Chunk): number {
  let n = 0;
  if (c.minTimeMs !== 0) n += 1 + int64Size(c.minTimeMs);
  if (c.maxTimeMs !== 0) n += 1 + int64Size(c.maxTimeMs);
  if (c.type !== 0) n += 1 + int64Size(c.type);
  if (c.data.length > 0) n += 1 + uvarintSize(c.data.length) + c.data.length;
  return n;
}

const utf8 = new TextEncoder();

function stringFieldSize(s: string): number {
  if (s === "") return 0;
  const len = utf8.encode(s).length;
  return 1 + uvarintSize(len) + len;
}

function int64Size(v: number): number {
  return v < 0 ? 10 : uvarintSize(v);
}

function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
