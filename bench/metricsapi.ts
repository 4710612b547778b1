/**
 * Metrics API figures (plain timing, not benny: each case is seconds of
 * async I/O):
 * 1. batch ingestion through HTTP, 500 metrics per batch (gauges,
 *    counters, distributions over 60 series), 1 and 8 concurrent clients;
 * 2. a p99 query over MAPI_BENCH_OBS observations (default 10 million) of
 *    one distribution spread over 30 days, loaded through the store (log +
 *    fsync + rollups + PromQL view) in writes of 5000;
 * 3. restart time: from the snapshot written at close, and replaying the
 *    whole log (snapshot removed);
 * 4. snapshot stall: MAPI_BENCH_SERIES (default 100k) gauge series, then
 *    one-observation writes back to back while a periodic snapshot runs
 *    (triggered by moving the store's clock 5 min on): the longest write,
 *    the longest event-loop gap, and restart time from that snapshot.
 *    Only this part: MAPI_BENCH_ONLY=stall (it runs on older stores too).
 *
 * Run: deno run --allow-all bench/metricsapi.ts
 * @module
 */
import { Prng } from "../src/util/prng.ts";
import type { Observation } from "../src/metricsapi/types.ts";
import { startMetricsApi } from "../test/_metricsapi.ts";

const DAY = 86_400_000;
const now = Date.parse("2024-07-01T00:00:00Z");
const iso = (t: number) => new Date(t).toISOString();

async function ingestion(clients: number, batches: number): Promise<number> {
  const srv = await startMetricsApi({ now });
  const rng = new Prng(1);
  const types = ["gauge", "counter", "distribution"];
  const bodies = Array.from({ length: batches }, (_, b) =>
    JSON.stringify({
      metrics: Array.from({ length: 500 }, (_, i) => {
        const s = rng.int(0, 59);
        return {
          name: `bench.m${s % 20}`,
          type: types[s % 20 % 3],
          value: rng.int(0, 1000),
          timestamp: now - DAY + b * 500 + i,
          tags: { host: `h${s % 3}` },
        };
      }),
    }));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const r = await fetch(`${srv.base}/api/v1/metrics/batch`, {
        method: "POST",
        body,
      });
      const j = await r.json();
      if (j.data?.accepted !== 500) throw new Error(JSON.stringify(j));
    }
  }));
  const perSec = batches * 500 / ((performance.now() - t0) / 1000);
  await srv.close();
  return perSec;
}

async function median(n: number, fn: () => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)];
}

async function queries(total: number) {
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-bench-" });
  let srv = await startMetricsApi({ dataDir, now });
  const rng = new Prng(2);
  const from = now - 30 * DAY;
  const step = 30 * DAY / total;
  const t0 = performance.now();
  const per = 5000;
  for (let at = 0; at < total; at += per) {
    const metrics: { index: number; item: Observation }[] = [];
    for (let i = 0; i < per && at + i < total; i++) {
      metrics.push({
        index: i,
        item: {
          name: "bench.latency",
          type: "distribution",
          value: Math.exp(rng.normal() + 4),
          t: Math.floor(from + (at + i) * step),
          tags: {},
        },
      });
    }
    await srv.store.write("default", { metrics, events: [] });
  }
  const loadS = (performance.now() - t0) / 1000;
  const q = (extra: string) => async () => {
    const r = await srv.call(
      "GET",
      `/api/v1/metrics/bench.latency/query?from=${iso(from)}&to=${
        iso(now)
      }&aggregation=p99${extra}`,
    );
    if (r.status !== 200) throw new Error(JSON.stringify(r.json));
  };
  const defaultMs = await median(21, q(""));
  const dayMs = await median(21, q("&interval=1d"));
  const wholeMs = await median(21, q("&interval=30d"));
  const hourMs = await median(5, q("&interval=1h"));
  await srv.close(true);
  const r0 = performance.now();
  srv = await startMetricsApi({ dataDir, now });
  const restartS = (performance.now() - r0) / 1000;
  const replay = { ...srv.store.replay };
  await srv.close(true);
  // The same without snapshots: the whole log is replayed (it is whole:
  // only one snapshot generation was written, so nothing was deleted).
  for (const e of Deno.readDirSync(`${dataDir}/metricsapi`)) {
    if (e.name.startsWith("snapshot")) {
      await Deno.remove(`${dataDir}/metricsapi/${e.name}`);
    }
  }
  const f0 = performance.now();
  srv = await startMetricsApi({ dataDir, now });
  const fullS = (performance.now() - f0) / 1000;
  const full = { ...srv.store.replay };
  await srv.close();
  return {
    loadS,
    defaultMs,
    dayMs,
    wholeMs,
    hourMs,
    restartS,
    replay,
    fullS,
    full,
  };
}

async function snapshotStall(series: number) {
  const srv = await startMetricsApi({ now });
  const write = (from: number, n: number) =>
    srv.store.write("default", {
      metrics: Array.from({ length: n }, (_, i) => ({
        index: i,
        item: {
          name: "stall.g",
          type: "gauge",
          value: from + i,
          t: now - 60_000,
          tags: { s: String(from + i) },
        } as Observation,
      })),
      events: [],
    });
  for (let at = 0; at < series; at += 5000) {
    await write(at, Math.min(5000, series - at));
  }
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
  }, 1);
  // The next write snapshots (MAPI_BENCH_NO_SNAPSHOT=1: the noise floor).
  if (!Deno.env.get("MAPI_BENCH_NO_SNAPSHOT")) srv.clock.now += 5 * 60_000 + 1;
  const latencies: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < 6000) {
    const w0 = performance.now();
    await write(latencies.length % series, 1);
    latencies.push(performance.now() - w0);
  }
  clearInterval(timer);
  latencies.sort((a, b) => a - b);
  const stats = JSON.stringify(
    (srv.store as { snapshots?: unknown }).snapshots ?? "no snapshot stats",
  );
  const dataDir = srv.dataDir;
  await srv.close(true);
  const r0 = performance.now();
  const again = await startMetricsApi({ dataDir, now: srv.clock.now });
  const restartS = (performance.now() - r0) / 1000;
  const replay = again.store.replay;
  await again.close();
  return {
    writes: latencies.length,
    maxMs: latencies.at(-1)!,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)],
    p50Ms: latencies[latencies.length >> 1],
    maxGapMs: maxGap,
    restartS,
    replay,
    stats,
  };
}

if (Deno.env.get("MAPI_BENCH_ONLY") === "stall") {
  const n = Number(Deno.env.get("MAPI_BENCH_SERIES") ?? 100_000);
  const s = await snapshotStall(n);
  console.log(
    `snapshot of ${n} series while writing: ${s.writes} one-observation writes in 6 s, longest ${
      s.maxMs.toFixed(1)
    } ms (p99 ${s.p99Ms.toFixed(1)}, p50 ${
      s.p50Ms.toFixed(2)
    } ms); longest event-loop gap ${s.maxGapMs.toFixed(1)} ms; ${s.stats}`,
  );
  console.log(
    `restart from that snapshot (+ Db WAL replay): ${s.restartS.toFixed(2)} s ${
      JSON.stringify(s.replay)
    }`,
  );
  Deno.exit(0);
}

const total = Number(Deno.env.get("MAPI_BENCH_OBS") ?? 10_000_000);
console.log(`machine: ${Deno.build.target}, deno ${Deno.version.deno}`);
console.log(
  `HTTP batch ingestion, 1 client:  ${
    Math.round(await ingestion(1, 200))
  } metrics/s`,
);
console.log(
  `HTTP batch ingestion, 8 clients: ${
    Math.round(await ingestion(8, 400))
  } metrics/s`,
);
const r = await queries(total);
console.log(
  `loaded ${total} observations over 30 days in ${r.loadS.toFixed(1)} s (${
    Math.round(total / r.loadS)
  }/s through the store)`,
);
console.log(
  `p99 over 30 days: default interval (3h, 240 points) ${
    r.defaultMs.toFixed(1)
  } ms; 1d ${r.dayMs.toFixed(1)} ms; one 30d point ${
    r.wholeMs.toFixed(1)
  } ms; 1h (720 points) ${r.hourMs.toFixed(1)} ms`,
);
console.log(
  `restart from the snapshot (+ Db WAL replay): ${r.restartS.toFixed(1)} s`,
);
console.log(
  `restart without it (replay ${r.full.records} records, ${r.full.observations} observations, then a snapshot is written): ${
    r.fullS.toFixed(1)
  } s`,
);
