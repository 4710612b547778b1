/**
 * The PromQL comparison's second dataset, for the shapes issue 5 names that
 * the shared workload does not have: 100,000 series of one counter (a regex
 * selector over 100k series) and 100 classic histograms of 100 buckets each
 * (histogram_quantile over 100 buckets × 100 series). 30 minutes of 15 s
 * scrapes with ±50 ms jitter, deterministic, encoded as remote write 1.0
 * requests the way bench/compare/workload.ts encodes the shared workload.
 * @module
 */
import {
  encodeWriteRequest,
  type Label,
  type TimeSeries,
} from "../../src/codec/prompb.ts";
import { snappyEncode } from "../../src/codec/snappy.ts";
import { labelsFrom } from "../../src/model/labels.ts";
import { Prng } from "../../src/util/prng.ts";
import type { GeneratedSeries } from "../data/generator.ts";
import type { WorkloadPart } from "./workload.ts";

/** Counter series of the regex dataset. */
export const REGEX_SERIES = 100_000;
/** Histograms, and buckets per histogram (the last is +Inf). */
export const HISTOGRAMS = 100;
export const BUCKETS = 100;

const INTERVAL_MS = 15_000;
const DURATION_MS = 30 * 60_000;
const START_MS = Date.UTC(2026, 0, 1);
/** Series sharing one scrape (and so one timestamp array). */
const PER_TARGET = 100;

/** The queries over this dataset, in table order. */
export const EXTRA_QUERIES = [
  'count({__name__=~"regex_bench_.+"})',
  'count(regex_bench_requests_total{pod=~"pod-1.*"})',
  'sum(rate(regex_bench_requests_total{pod=~".*7"}[5m]))',
  "histogram_quantile(0.9, rate(hist_bench_seconds_bucket[5m]))",
  "histogram_quantile(0.9, sum by (le) (rate(hist_bench_seconds_bucket[5m])))",
];

function scrapeTimes(rng: Prng): Float64Array<ArrayBuffer> {
  const n = DURATION_MS / INTERVAL_MS;
  const ts = new Float64Array(n);
  const offset = rng.int(0, INTERVAL_MS - 1);
  for (let i = 0; i < n; i++) {
    ts[i] = START_MS + offset + i * INTERVAL_MS + rng.int(-50, 50);
  }
  return ts;
}

/** The dataset's series (timestamps shared by the series of one target). */
export function generateExtra(seed = 5): GeneratedSeries[] {
  const out: GeneratedSeries[] = [];
  const n = DURATION_MS / INTERVAL_MS;
  let ts: Float64Array<ArrayBuffer> = new Float64Array(0);
  for (let i = 0; i < REGEX_SERIES; i++) {
    if (i % PER_TARGET === 0) ts = scrapeTimes(new Prng(seed * 7 + i));
    const rng = new Prng(seed * 1_000_003 + i);
    const values = new Float64Array(n);
    let v = rng.int(0, 1000);
    for (let k = 0; k < n; k++) values[k] = v += rng.int(0, 50);
    out.push({
      labels: {
        __name__: "regex_bench_requests_total",
        pod: `pod-${String(i).padStart(5, "0")}`,
        region: `region-${i % 10}`,
        job: "app",
      },
      timestamps: ts,
      values,
    });
  }
  // Bucket bounds 1 ms × 1.1^k, then +Inf.
  const les = Array.from(
    { length: BUCKETS },
    (_, k) =>
      k === BUCKETS - 1 ? "+Inf" : String(+(0.001 * 1.1 ** k).toPrecision(6)),
  );
  for (let h = 0; h < HISTOGRAMS; h++) {
    const rng = new Prng(seed * 31 + h);
    const hts = scrapeTimes(rng);
    // Observations per scrape, and their latency scale, per histogram.
    const scale = 0.05 + rng.float() * 0.5;
    const counts = Array.from({ length: n }, () => rng.int(100, 300));
    for (const le of les) {
      const bound = le === "+Inf" ? Infinity : Number(le);
      const frac = bound === Infinity ? 1 : 1 - Math.exp(-bound / scale);
      const values = new Float64Array(n);
      let acc = 0;
      for (let k = 0; k < n; k++) {
        values[k] = acc += Math.round(counts[k] * frac);
      }
      out.push({
        labels: {
          __name__: "hist_bench_seconds_bucket",
          hist: `h${String(h).padStart(2, "0")}`,
          le,
          job: "app",
        },
        timestamps: hts,
        values,
      });
    }
  }
  return out;
}

/** Remote write bodies of `series`, sharded by index, one sample per TimeSeries, 2,000 per request. */
export function encodeSeries(
  series: GeneratedSeries[],
  shards: number,
): { part: WorkloadPart; minTime: number; maxTime: number } {
  const labels: Label[][] = series.map((s) =>
    labelsFrom(s.labels).map((l) => ({ name: l.name, value: l.value }))
  );
  const part: WorkloadPart = { bodies: [], samples: 0, requests: 0 };
  const scrapes = series[0].timestamps.length;
  for (let shard = 0; shard < shards; shard++) {
    const out: Uint8Array<ArrayBuffer>[] = [];
    let batch: TimeSeries[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      out.push(snappyEncode(encodeWriteRequest({ timeseries: batch })));
      part.samples += batch.length;
      part.requests++;
      batch = [];
    };
    for (let k = 0; k < scrapes; k++) {
      for (let i = shard; i < series.length; i += shards) {
        const s = series[i];
        batch.push({
          labels: labels[i],
          timestamps: s.timestamps.subarray(k, k + 1),
          values: s.values.subarray(k, k + 1),
        });
        if (batch.length === 2000) flush();
      }
    }
    flush();
    part.bodies.push(out);
  }
  let minTime = Infinity, maxTime = -Infinity;
  for (const s of series) {
    minTime = Math.min(minTime, s.timestamps[0]);
    maxTime = Math.max(maxTime, s.timestamps[s.timestamps.length - 1]);
  }
  return { part, minTime, maxTime };
}
