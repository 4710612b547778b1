/**
 * The side-by-side benchmark: Tidemark's server, Debian's Prometheus and
 * VictoriaMetrics, each a real process, one after the other in one run,
 * each fed the very same pre-encoded remote-write bodies over keep-alive
 * connections and asked the same dashboard queries over HTTP.
 *
 *   deno run -A bench/compare/server.ts [--series 10000] [--hours 3.5]
 *     [--measured-hours 2] [--shards 4] [--runs 10] [--warmups 2]
 *     [--mem-series 0] [--only tidemark,prometheus,victoria-metrics]
 *     [--out docs/benchmarks.md] [--keep-dir] [--skip-extra]
 *   deno run -A bench/compare/server.ts --from-json bench/results/server-compare-<date>.json
 *     (re-renders the page and chart of a saved run)
 *
 * Per system: start it on a fresh directory; time the ingest of the first
 * `--measured-hours` of data (samples/s, server CPU seconds, peak RSS);
 * run the query set on that data (instant at its last sample, range over
 * it with a 60 s step; medians of `--runs` after `--warmups`); send the
 * rest of the data so the head spans more than 3 h, wait until the server
 * cut its first 2 h block on its own, and measure the block's bytes/sample;
 * read one full-precision series back and compare it bit for bit; stop it.
 * Query results are cross-checked against Prometheus' at the end. Then
 * each system gets the second dataset of promql_extra.ts fresh (100k
 * series for regex selectors, 100 histograms of 100 buckets) and its
 * queries are timed the same way (skip with --skip-extra).
 *
 * Writes `--out` (markdown) with an SVG chart next to it, and the raw
 * figures to bench/results/server-compare-<date>.json. Servers are killed
 * and temp dirs removed on every exit path.
 * @module
 */
import { parseArgs } from "node:util";
import { machine } from "../_harness.ts";
import {
  type Peer,
  PrometheusPeer,
  type ReadBack,
  startV8Flags,
  TidemarkPeer,
  VictoriaPeer,
} from "./peers.ts";
import {
  cpuSeconds,
  killAll,
  loadAverage,
  machineBusySeconds,
  ownCpuSeconds,
  peakRssBytes,
  rssBytes,
  sleep,
} from "./proc.ts";
import {
  compareResults,
  type QueryTiming,
  type QueryWindow,
  runQuerySet,
} from "./queries.ts";
import { encodeSeries, EXTRA_QUERIES, generateExtra } from "./promql_extra.ts";
import {
  type BenchReport,
  type MemoryRun,
  renderChart,
  renderMarkdown,
  type SystemRun,
} from "./report.ts";
import { sendAll } from "./send.ts";
import {
  type EncodedWorkload,
  encodeWorkload,
  INTERVAL_MS,
  PROBE_SERIES,
  SAMPLES_PER_REQUEST,
} from "./workload.ts";
import { labelsFrom } from "../../src/model/labels.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    series: { type: "string", default: "10000" },
    hours: { type: "string", default: "3.5" },
    "measured-hours": { type: "string", default: "2" },
    shards: { type: "string", default: "4" },
    runs: { type: "string", default: "10" },
    warmups: { type: "string", default: "2" },
    "mem-series": { type: "string", default: "0" },
    "mem-scrapes": { type: "string", default: "20" },
    only: { type: "string", default: "tidemark,prometheus,victoria-metrics" },
    out: { type: "string", default: "docs/benchmarks.md" },
    "keep-dir": { type: "boolean", default: false },
    "from-json": { type: "string" },
    "skip-extra": { type: "boolean", default: false },
  },
});
const SERIES = Number(args.series);
const DURATION_MS = Number(args.hours) * 3600_000;
const MEASURED_MS = Math.min(
  DURATION_MS,
  Number(args["measured-hours"]) * 3600_000,
);
const SHARDS = Number(args.shards);
const RUNS = Number(args.runs);
const WARMUPS = Number(args.warmups);
const MEM_SERIES = Number(args["mem-series"]);
const MEM_DURATION_MS = Number(args["mem-scrapes"]) * INTERVAL_MS;
const ONLY = args.only!.split(",");

type PeerStart = (dir: string) => Promise<Peer>;
const STARTERS: Record<string, PeerStart> = {
  tidemark: (d) => TidemarkPeer.start(d),
  prometheus: (d) => PrometheusPeer.start(d),
  "victoria-metrics": (d) => VictoriaPeer.start(d),
};
for (const n of ONLY) {
  if (!STARTERS[n]) throw new Error(`--only: unknown system ${n}`);
}

function log(msg: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

const root = await Deno.makeTempDir({ prefix: "tidemark-bench-" });
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await killAll();
  if (args["keep-dir"]) log(`kept ${root}`);
  else await Deno.remove(root, { recursive: true }).catch(() => {});
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    log(`${sig}: stopping servers`);
    cleanup().finally(() => Deno.exit(130));
  });
}

/** Samples of the read-back equal to what was sent, bit for bit (Object.is). */
function exactMatches(
  got: ReadBack,
  ts: Float64Array,
  vs: Float64Array,
): number {
  const sent = new Map<number, number>();
  for (let i = 0; i < ts.length; i++) sent.set(ts[i], vs[i]);
  let exact = 0;
  for (let i = 0; i < got.ts.length; i++) {
    const v = sent.get(got.ts[i]);
    if (v !== undefined && Object.is(v, got.vs[i])) exact++;
  }
  return exact;
}

function failIfAny(name: string, r: Awaited<ReturnType<typeof sendAll>>) {
  if (r.failed > 0) {
    throw new Error(
      `${name}: ${r.failed}/${r.requests} requests failed: ${r.firstError}`,
    );
  }
}

/** One system's whole phase: ingest, queries, persist, read back. */
async function systemPhase(
  name: string,
  w: EncodedWorkload,
  window: QueryWindow,
): Promise<SystemRun> {
  const load0 = await loadAverage();
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${name}-` });
  const t0 = performance.now();
  const peer = await STARTERS[name](dir);
  const startSeconds = (performance.now() - t0) / 1000;
  try {
    const version = await peer.version();
    log(`${version}: pid ${peer.pid}, ready in ${startSeconds.toFixed(1)} s`);
    await sleep(2000);
    const rssIdle = await rssBytes(peer.pid);
    const part = w.parts[0];
    log(`${name}: sending ${part.samples} samples over ${SHARDS} connections`);
    const cpu0 = await cpuSeconds(peer.pid);
    const own0 = ownCpuSeconds();
    const m0 = await machineBusySeconds();
    const sent = await sendAll(peer.writeUrl, part.bodies);
    const cpu1 = await cpuSeconds(peer.pid);
    const own1 = ownCpuSeconds();
    const m1 = await machineBusySeconds();
    failIfAny(name, sent);
    const peakIngest = await peakRssBytes(peer.pid);
    const rssAfterIngest = await rssBytes(peer.pid);
    log(
      `${name}: ${
        (part.samples / sent.seconds / 1e6).toFixed(2)
      } M samples/s, ${(cpu1 - cpu0).toFixed(1)} CPU-s, peak RSS ${
        (peakIngest / 2 ** 20).toFixed(0)
      } MiB`,
    );
    // Let buffered rows become searchable (VictoriaMetrics flushes each second).
    await sleep(3000);
    const ingested = await peer.samplesIngested();

    const q0 = await cpuSeconds(peer.pid);
    const queries = await runQuerySet(
      peer.base,
      window,
      WARMUPS,
      RUNS,
      (r) =>
        log(
          `${name}: ${r.kind} ${
            r.medianMs.toFixed(1)
          } ms (${r.series} series) ${r.query}`,
        ),
    );
    const queryCpu = await cpuSeconds(peer.pid) - q0;
    const peakQueries = await peakRssBytes(peer.pid);

    let rest = 0;
    if (w.parts[1]) {
      const r = await sendAll(peer.writeUrl, w.parts[1].bodies);
      failIfAny(name, r);
      rest = w.parts[1].samples;
    }
    log(`${name}: sent the rest (${rest} samples); waiting for it to persist`);
    const p0 = await cpuSeconds(peer.pid);
    const disk = await peer.persist(w.samples);
    const persistCpu = await cpuSeconds(peer.pid) - p0;
    const back = await peer.readBack(PROBE_SERIES, w.minTime, w.maxTime);
    const probe = w.series.find((s) =>
      JSON.stringify(labelsFrom(s.labels)) ===
        JSON.stringify(labelsFrom(PROBE_SERIES))
    )!;
    const exact = exactMatches(back, probe.timestamps, probe.values);
    const peak = await peakRssBytes(peer.pid);
    log(
      `${name}: ${
        (disk.persistedBytes / disk.persistedSamples).toFixed(3)
      } bytes/sample persisted after ${
        disk.waitSeconds.toFixed(0)
      } s; probe ${exact}/${probe.timestamps.length} bit-exact`,
    );
    return {
      name,
      version,
      startSeconds,
      load: { before: load0, after: await loadAverage() },
      ingest: {
        samples: part.samples,
        requests: sent.requests,
        seconds: sent.seconds,
        cpuSeconds: cpu1 - cpu0,
        clientCpuSeconds: own1 - own0,
        otherCpuSeconds: m1 - m0 - (cpu1 - cpu0) - (own1 - own0),
        samplesIngested: ingested,
      },
      memory: {
        rssIdleBytes: rssIdle,
        rssAfterIngestBytes: rssAfterIngest,
        peakRssIngestBytes: peakIngest,
        peakRssQueriesBytes: peakQueries,
        peakRssBytes: peak,
      },
      queries: queries.map(({ result: _, ...rest }) => ({
        ...rest,
        mismatch: "",
      })),
      results: queries,
      queryCpuSeconds: queryCpu,
      disk,
      persistCpuSeconds: persistCpu,
      readBack: {
        sent: probe.timestamps.length,
        returned: back.ts.length,
        exact,
      },
    };
  } catch (e) {
    log(`${name} failed; its log: ${peer.logPath}`);
    throw e;
  } finally {
    await peer.stop();
  }
}

/** RSS growth of a fresh server from empty to `w`'s series. */
async function memoryPhase(
  name: string,
  w: EncodedWorkload,
): Promise<MemoryRun> {
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${name}-mem-` });
  const peer = await STARTERS[name](dir);
  try {
    await sleep(3000);
    const rss0 = await rssBytes(peer.pid);
    const sent = await sendAll(peer.writeUrl, w.parts[0].bodies);
    failIfAny(name, sent);
    await sleep(5000); // background flushes, GC
    const rss1 = await rssBytes(peer.pid);
    log(`${name}: ${w.spec.series} series: RSS ${rss0} → ${rss1} bytes`);
    return {
      series: w.spec.series,
      samples: w.samples,
      rssBefore: rss0,
      rssAfter: rss1,
      peakRss: await peakRssBytes(peer.pid),
    };
  } finally {
    await peer.stop();
  }
}

/** The second dataset on a fresh server: send it, then time its queries. */
async function extraPhase(
  name: string,
  bodies: Uint8Array<ArrayBuffer>[][],
  window: QueryWindow,
): Promise<QueryTiming[]> {
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${name}-extra-` });
  const peer = await STARTERS[name](dir);
  try {
    const sent = await sendAll(peer.writeUrl, bodies);
    failIfAny(name, sent);
    await sleep(3000);
    return await runQuerySet(
      peer.base,
      window,
      WARMUPS,
      RUNS,
      (r) =>
        log(`${name} extra: ${r.kind} ${r.medianMs.toFixed(1)} ms ${r.query}`),
      EXTRA_QUERIES,
    );
  } finally {
    await peer.stop();
  }
}

async function main(): Promise<BenchReport> {
  const began = performance.now();
  const date = new Date().toISOString();
  log(`encoding ${SERIES} series × ${args.hours} h`);
  const w = encodeWorkload({
    series: SERIES,
    durationMs: DURATION_MS,
    shards: SHARDS,
    splitMs: MEASURED_MS,
  });
  const split = Math.min(
    w.series[0].timestamps.length,
    Math.ceil(MEASURED_MS / INTERVAL_MS),
  );
  let lastMeasured = -Infinity;
  for (const s of w.series) {
    lastMeasured = Math.max(lastMeasured, s.timestamps[split - 1]);
  }
  const window: QueryWindow = {
    at: lastMeasured,
    start: Math.ceil(w.minTime / 1000) * 1000,
    end: Math.floor(lastMeasured / 1000) * 1000,
  };

  const systems: SystemRun[] = [];
  for (const name of ONLY) systems.push(await systemPhase(name, w, window));

  // Results against Prometheus' (when it ran), and Tidemark's against VictoriaMetrics'.
  const ref = systems.find((s) => s.name === "prometheus");
  if (ref) {
    for (const s of systems) {
      if (s === ref) continue;
      s.queries.forEach((q, i) => {
        q.mismatch = compareResults(s.results[i].result, ref.results[i].result);
      });
    }
  }

  const memory: Record<string, MemoryRun> = {};
  if (MEM_SERIES > 0) {
    log(`encoding ${MEM_SERIES} series × ${args["mem-scrapes"]} scrapes`);
    const mw = encodeWorkload({
      series: MEM_SERIES,
      durationMs: MEM_DURATION_MS,
      shards: SHARDS,
    });
    for (const name of ONLY) memory[name] = await memoryPhase(name, mw);
  }

  let extra: BenchReport["extra"];
  if (!args["skip-extra"]) {
    log("encoding the regex/histogram dataset");
    const xs = generateExtra();
    const { part, minTime, maxTime } = encodeSeries(xs, SHARDS);
    const xwin: QueryWindow = {
      at: maxTime,
      start: Math.ceil(minTime / 1000) * 1000,
      end: Math.floor(maxTime / 1000) * 1000,
    };
    const timings: Record<string, QueryTiming[]> = {};
    for (const name of ONLY) {
      timings[name] = await extraPhase(name, part.bodies, xwin);
    }
    const mismatches: string[] = [];
    const refX = timings["prometheus"];
    const tX = timings["tidemark"];
    if (refX && tX) {
      tX.forEach((q, i) =>
        mismatches[i] = compareResults(q.result, refX[i].result)
      );
    }
    extra = {
      series: xs.length,
      samples: part.samples,
      timings: Object.fromEntries(
        Object.entries(timings).map(([n, ts]) => [
          n,
          ts.map((q, i) => ({
            query: q.query,
            kind: q.kind,
            medianMs: q.medianMs,
            mismatch: n === "tidemark" ? mismatches[i] : undefined,
          })),
        ]),
      ),
    };
  }

  return {
    extra,
    date,
    machine: await machine(),
    config: {
      series: SERIES,
      hours: Number(args.hours),
      measuredHours: MEASURED_MS / 3600_000,
      samples: w.samples,
      measuredSamples: w.parts[0].samples,
      requests: w.requests,
      wireBytes: w.wireBytes,
      rawBytes: w.rawBytes,
      shards: SHARDS,
      samplesPerRequest: SAMPLES_PER_REQUEST,
      tidemarkV8Flags: startV8Flags(),
      runs: RUNS,
      warmups: WARMUPS,
      window,
      probe: PROBE_SERIES,
      memSeries: MEM_SERIES,
      memScrapes: Number(args["mem-scrapes"]),
    },
    systems: systems.map(({ results: _, ...s }) => s),
    memory,
    runSeconds: (performance.now() - began) / 1000,
  };
}

let report: BenchReport;
if (args["from-json"]) {
  // Re-renders the page of a saved run (no servers started).
  await cleanup();
  report = JSON.parse(await Deno.readTextFile(args["from-json"]));
} else {
  try {
    report = await main();
  } catch (e) {
    await cleanup();
    throw e;
  }
  await cleanup();
  const outDir = new URL("../results/", import.meta.url);
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(
    new URL(`server-compare-${report.date.slice(0, 10)}.json`, outDir),
    JSON.stringify(report, null, 2) + "\n",
  );
}
const svgPath = args.out!.replace(/\.md$/, "") + ".svg";
await Deno.writeTextFile(svgPath, renderChart(report));
const md = renderMarkdown(report, svgPath.split("/").at(-1)!);
await Deno.writeTextFile(args.out!, md);
// In the repository's format, so `deno fmt --check` passes on a fresh run.
await new Deno.Command(Deno.execPath(), {
  args: ["fmt", "--quiet", args.out!, svgPath],
}).output();
log(`wrote ${args.out} and ${svgPath}`);
console.log(md);
