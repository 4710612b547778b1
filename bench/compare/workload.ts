/**
 * The comparison's data as remote write 1.0 requests, built the way
 * Prometheus sends them: series are sharded by index (each series always
 * goes through the same shard, so its samples arrive in order), every
 * request holds up to 2,000 samples, one sample per TimeSeries, in scrape
 * order, Snappy-compressed protobuf. The harness sends these very bodies
 * to every server.
 * @module
 */
import {
  encodeWriteRequest,
  type Label,
  type TimeSeries,
} from "../../src/codec/prompb.ts";
import { snappyEncode } from "../../src/codec/snappy.ts";
import { labelsFrom } from "../../src/model/labels.ts";
import { type GeneratedSeries, generateWorkload } from "../data/generator.ts";

/** Samples per request, as Prometheus' queue_config.max_samples_per_send. */
export const SAMPLES_PER_REQUEST = 2000;

/** Scrape interval of the workload, ms (the generator's default). */
export const INTERVAL_MS = 15_000;

/** What one phase sends. */
export interface WorkloadSpec {
  /** Series count (a multiple of 100: the generator's instances × 100). */
  series: number;
  /** Length of the data, ms. */
  durationMs: number;
  /** Parallel senders; series i goes through shard i % shards. */
  shards: number;
  /**
   * Scrapes before this offset from the start (ms) form part 0, the rest
   * part 1 (default: everything in part 0). Lets a run measure ingest before
   * a server starts cutting blocks.
   */
  splitMs?: number;
}

/** Requests of a contiguous range of scrapes. */
export interface WorkloadPart {
  /** Request bodies per shard, in sending order. */
  bodies: Uint8Array<ArrayBuffer>[][];
  samples: number;
  requests: number;
}

/** The encoded requests of one phase. */
export interface EncodedWorkload {
  spec: WorkloadSpec;
  series: GeneratedSeries[];
  /** Parts in sending order (see WorkloadSpec.splitMs). */
  parts: WorkloadPart[];
  samples: number;
  requests: number;
  /** Uncompressed protobuf bytes (before Snappy). */
  rawBytes: number;
  /** Bytes on the wire (after Snappy). */
  wireBytes: number;
  /** Timestamps of the first and last sample, ms. */
  minTime: number;
  maxTime: number;
}

/** Generates the workload and encodes it into per-shard request bodies. */
export function encodeWorkload(spec: WorkloadSpec): EncodedWorkload {
  if (spec.series % 100 !== 0 || spec.series <= 0) {
    throw new Error(`--series must be a positive multiple of 100`);
  }
  const series = generateWorkload({
    instances: spec.series / 100,
    durationMs: spec.durationMs,
    intervalMs: INTERVAL_MS,
  });
  // Prometheus sends label pairs sorted by name.
  const labels: Label[][] = series.map((s) =>
    labelsFrom(s.labels).map((l) => ({ name: l.name, value: l.value }))
  );
  const scrapes = series[0].timestamps.length;
  const split = spec.splitMs === undefined
    ? scrapes
    : Math.min(scrapes, Math.ceil(spec.splitMs / INTERVAL_MS));
  let rawBytes = 0, wireBytes = 0;
  const encodePart = (from: number, to: number): WorkloadPart => {
    const part: WorkloadPart = { bodies: [], samples: 0, requests: 0 };
    for (let shard = 0; shard < spec.shards; shard++) {
      const mine: number[] = [];
      for (let i = shard; i < series.length; i += spec.shards) mine.push(i);
      const out: Uint8Array<ArrayBuffer>[] = [];
      let batch: TimeSeries[] = [];
      const flush = () => {
        if (batch.length === 0) return;
        const raw = encodeWriteRequest({ timeseries: batch });
        const body = snappyEncode(raw);
        rawBytes += raw.length;
        wireBytes += body.length;
        part.samples += batch.length;
        part.requests++;
        out.push(body);
        batch = [];
      };
      for (let k = from; k < to; k++) {
        for (const i of mine) {
          const s = series[i];
          batch.push({
            labels: labels[i],
            timestamps: s.timestamps.subarray(k, k + 1),
            values: s.values.subarray(k, k + 1),
          });
          if (batch.length === SAMPLES_PER_REQUEST) flush();
        }
      }
      flush();
      part.bodies.push(out);
    }
    return part;
  };
  const parts = [encodePart(0, split)];
  if (split < scrapes) parts.push(encodePart(split, scrapes));
  let minTime = Infinity, maxTime = -Infinity;
  for (const s of series) {
    minTime = Math.min(minTime, s.timestamps[0]);
    maxTime = Math.max(maxTime, s.timestamps[s.timestamps.length - 1]);
  }
  return {
    spec,
    series,
    parts,
    samples: parts.reduce((a, p) => a + p.samples, 0),
    requests: parts.reduce((a, p) => a + p.requests, 0),
    rawBytes,
    wireBytes,
    minTime,
    maxTime,
  };
}

/**
 * The bodies in one sequential order (round robin over shards), for the
 * in-process ingest that has no parallel senders.
 */
export function interleaved(
  bodies: Uint8Array<ArrayBuffer>[][],
): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  const longest = Math.max(...bodies.map((b) => b.length));
  for (let j = 0; j < longest; j++) {
    for (const shard of bodies) if (j < shard.length) out.push(shard[j]);
  }
  return out;
}

/** The series the correctness check reads back from every system. */
export const PROBE_SERIES = {
  __name__: "node_cpu_seconds_total",
  instance: "host-0:9100",
  job: "node",
  cpu: "0",
  mode: "user",
} as const;

/** How many samples the probe series was sent with. */
export function probeSampleCount(series: GeneratedSeries[]): number {
  const want = labelsFrom(PROBE_SERIES);
  const key = JSON.stringify(want);
  const hit = series.find((s) => JSON.stringify(labelsFrom(s.labels)) === key);
  if (!hit) throw new Error("probe series is not in the workload");
  return hit.timestamps.length;
}
