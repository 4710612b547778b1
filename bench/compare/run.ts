/**
 * Side-by-side storage comparison on the same data, in one run: Debian's
 * Prometheus and VictoriaMetrics (remote write over HTTP keep-alive from
 * this process) and Tidemark (in process, in a child Deno). Figures that
 * exist for all three: on-disk bytes per sample after persisting, memory
 * per active series, and ingest samples/s and samples per CPU-second.
 *
 *   deno run -A bench/compare/run.ts [--series 10000] [--hours 3.5]
 *     [--mem-series 100000] [--mem-scrapes 20] [--shards 2]
 *     [--only prometheus,victoria-metrics,tidemark]
 *
 * Writes bench/results/compare-<date>.json and bench/results/compare-latest.md.
 * Peers are killed and temp dirs removed on every exit path.
 * @module
 */
import { parseArgs } from "node:util";
import { machine } from "../_harness.ts";
import {
  type DiskFigures,
  type Peer,
  PrometheusPeer,
  VictoriaPeer,
} from "./peers.ts";
import {
  cpuSeconds,
  killAll,
  machineBusySeconds,
  ownCpuSeconds,
  rssBytes,
  sleep,
} from "./proc.ts";
import {
  type ComparisonReport,
  renderMarkdown,
  type SystemResult,
} from "./report.ts";
import { sendAll } from "./send.ts";
import {
  type EncodedWorkload,
  encodeWorkload,
  PROBE_SERIES,
  probeSampleCount,
  SAMPLES_PER_REQUEST,
  writeWorkloadFiles,
} from "./workload.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    series: { type: "string", default: "10000" },
    hours: { type: "string", default: "3.5" },
    "mem-series": { type: "string", default: "100000" },
    "mem-scrapes": { type: "string", default: "20" },
    shards: { type: "string", default: "2" },
    only: {
      type: "string",
      default: "prometheus,victoria-metrics,tidemark",
    },
    "keep-dir": { type: "boolean", default: false },
  },
});
const SERIES = Number(args.series);
const DURATION_MS = Number(args.hours) * 3600_000;
const MEM_SERIES = Number(args["mem-series"]);
const MEM_DURATION_MS = Number(args["mem-scrapes"]) * 15_000;
const SHARDS = Number(args.shards);
/**
 * Ingest is timed over the first 2 h 55 min only: Prometheus starts cutting
 * its first block (in the background, sharing the 2 cores) as soon as its
 * head spans more than 3 h, which would bill compaction to ingest.
 */
const MEASURED_MS = Math.min(DURATION_MS, 175 * 60_000);
const ONLY = new Set(args.only!.split(","));

function log(msg: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

const root = await Deno.makeTempDir({ prefix: "tidemark-compare-" });
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
    log(`${sig}: stopping peers`);
    cleanup().finally(() => Deno.exit(130));
  });
}

type PeerStart = (dir: string) => Promise<Peer>;

/** The storage run of a peer: ingest everything, persist, measure, read back. */
async function peerStorage(
  name: string,
  start: PeerStart,
  w: EncodedWorkload,
): Promise<Partial<SystemResult>> {
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${name}-` });
  const peer = await start(dir);
  try {
    const version = await peer.version();
    log(`${version}: sending ${w.samples} samples in ${SHARDS} shards`);
    await sleep(2000);
    const rss0 = await rssBytes(peer.pid);
    // Measured part: the data before the head could be cut into a block.
    const cpu0 = await cpuSeconds(peer.pid);
    const own0 = ownCpuSeconds();
    const m0 = await machineBusySeconds();
    const sent = await sendAll(peer.writeUrl, w.parts[0].bodies);
    const cpu1 = await cpuSeconds(peer.pid);
    const own1 = ownCpuSeconds();
    const m1 = await machineBusySeconds();
    const rest = w.parts[1]
      ? await sendAll(peer.writeUrl, w.parts[1].bodies)
      : null;
    for (const r of [sent, rest]) {
      if (r && r.failed > 0) {
        throw new Error(
          `${name}: ${r.failed}/${r.requests} requests failed: ${r.firstError}`,
        );
      }
    }
    const ingested = await peer.samplesIngested();
    const rssAfter = await rssBytes(peer.pid);
    log(
      `${name}: first part ingested in ${sent.seconds.toFixed(1)} s, ${
        (cpu1 - cpu0).toFixed(1)
      } CPU s; persisting`,
    );
    const disk = await peer.persist(w.samples);
    const cpu2 = await cpuSeconds(peer.pid);
    const readBack = await peer.readBack(PROBE_SERIES, w.minTime, w.maxTime);
    log(
      `${name}: ${disk.totalBytes} bytes on disk after ${
        disk.waitSeconds.toFixed(0)
      } s; probe read back ${readBack} samples`,
    );
    return {
      version,
      ingest: {
        samples: w.parts[0].samples,
        sentSamples: w.samples,
        samplesIngested: ingested,
        seconds: sent.seconds,
        cpuSeconds: cpu1 - cpu0,
        clientCpuSeconds: own1 - own0,
        otherCpuSeconds: m1 - m0 - (cpu1 - cpu0) - (own1 - own0),
        requests: sent.requests,
        how: `HTTP remote write, ${SHARDS} keep-alive senders`,
      },
      disk,
      // The rest of the data, then cutting/merging.
      persistCpuSeconds: cpu2 - cpu1,
      rssAfterStorageBytes: rssAfter,
      rssGrowthStorageBytes: rssAfter - rss0,
      readBack: { samples: readBack, sent: probeSampleCount(w.series) },
    };
  } catch (e) {
    log(`${name} failed; its log: ${peer.logPath}`);
    throw e;
  } finally {
    await peer.stop();
  }
}

/** The memory run of a peer: RSS growth from empty to `w` series. */
async function peerMemory(
  name: string,
  start: PeerStart,
  w: EncodedWorkload,
): Promise<SystemResult["memory"]> {
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${name}-mem-` });
  const peer = await start(dir);
  try {
    await sleep(3000);
    const rss0 = await rssBytes(peer.pid);
    const heap0 = await peer.heapInuse();
    const cpu0 = await cpuSeconds(peer.pid);
    const sent = await sendAll(peer.writeUrl, w.parts[0].bodies);
    const cpu1 = await cpuSeconds(peer.pid);
    if (sent.failed > 0) {
      throw new Error(
        `${name}: ${sent.failed}/${sent.requests} requests failed: ${sent.firstError}`,
      );
    }
    // Let background work after the last request (flushes, GC) run.
    await sleep(5000);
    const rss1 = await rssBytes(peer.pid);
    const heap1 = await peer.heapInuse();
    log(
      `${name}: ${w.spec.series} series: RSS ${rss0} → ${rss1} bytes`,
    );
    return {
      series: w.spec.series,
      samples: w.samples,
      rssBytes: rss1 - rss0,
      rssBefore: rss0,
      rssAfter: rss1,
      heapBytes: heap1 - heap0,
      heapWhat: "Go heap in use (go_memstats_heap_inuse_bytes) growth",
      ingestSeconds: sent.seconds,
      ingestCpuSeconds: cpu1 - cpu0,
    };
  } catch (e) {
    log(`${name} failed; its log: ${peer.logPath}`);
    throw e;
  } finally {
    await peer.stop();
  }
}

/** Runs a phase of the Tidemark child and parses its JSON line. */
async function tidemarkChild(
  phase: "storage" | "memory",
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const dir = await Deno.makeTempDir({
    dir: root,
    prefix: `tidemark-${phase}-`,
  });
  const script = new URL("./tidemark.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      script,
      `--phase=${phase}`,
      `--input=${root}/workload-${phase}`,
      `--dir=${dir}/data`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`Tidemark ${phase} child failed (${out.code}): ${text}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

/** 1, 5 and 15 min load averages: the machine may be shared. */
async function loadAverage(): Promise<number[]> {
  const text = await Deno.readTextFile("/proc/loadavg");
  return text.split(" ").slice(0, 3).map(Number);
}

const PEERS: [string, PeerStart][] = [
  ["prometheus", (d) => PrometheusPeer.start(d)],
  ["victoria-metrics", (d) => VictoriaPeer.start(d)],
];

async function main(): Promise<ComparisonReport> {
  const began = performance.now();
  const date = new Date().toISOString();
  const systems: Record<string, SystemResult> = {};
  const load0 = await loadAverage();

  log(`encoding ${SERIES} series × ${args.hours} h`);
  let w: EncodedWorkload | null = encodeWorkload({
    series: SERIES,
    durationMs: DURATION_MS,
    shards: SHARDS,
    splitMs: MEASURED_MS,
  });
  const storageSpec = {
    series: SERIES,
    hours: Number(args.hours),
    samples: w.samples,
    requests: w.requests,
    measuredSamples: w.parts[0].samples,
    measuredHours: MEASURED_MS / 3600_000,
    rawBytes: w.rawBytes,
    wireBytes: w.wireBytes,
    minTime: w.minTime,
    maxTime: w.maxTime,
  };
  if (ONLY.has("tidemark")) {
    await writeWorkloadFiles(w, `${root}/workload-storage`);
  }
  for (const [name, start] of PEERS) {
    if (!ONLY.has(name)) continue;
    systems[name] = await peerStorage(name, start, w) as SystemResult;
  }
  w = null; // let the storage bodies go before the memory phase

  log(`encoding ${MEM_SERIES} series × ${args["mem-scrapes"]} scrapes`);
  const mw = encodeWorkload({
    series: MEM_SERIES,
    durationMs: MEM_DURATION_MS,
    shards: SHARDS,
  });
  if (ONLY.has("tidemark")) {
    await writeWorkloadFiles(mw, `${root}/workload-memory`);
  }
  for (const [name, start] of PEERS) {
    if (!ONLY.has(name)) continue;
    systems[name].memory = await peerMemory(name, start, mw);
  }

  if (ONLY.has("tidemark")) {
    log("Tidemark: storage phase (child process)");
    const s = await tidemarkChild("storage");
    if (s.rejected > 0) {
      throw new Error(
        `Tidemark rejected ${s.rejected} samples: ${s.firstRejection}`,
      );
    }
    log("Tidemark: memory phase (child process)");
    const m = await tidemarkChild("memory");
    systems.tidemark = {
      version: s.version,
      ingest: {
        samples: s.ingest.samples,
        sentSamples: s.sentSamples,
        samplesIngested: s.ingestedSamples,
        seconds: s.ingest.seconds,
        cpuSeconds: s.ingest.cpuSeconds,
        clientCpuSeconds: 0,
        otherCpuSeconds: s.ingest.otherCpuSeconds,
        requests: s.ingest.requests,
        decodeSeconds: s.ingest.decodeSeconds,
        how: "in process (no HTTP): snappy + protobuf decode, append, commit",
      },
      disk: s.disk as DiskFigures,
      persistCpuSeconds: s.persistCpuSeconds,
      rssAfterStorageBytes: NaN,
      rssGrowthStorageBytes: s.rssGrowthBytes,
      readBack: { samples: s.readBack.samples, sent: s.readBack.sent },
      memory: {
        series: m.series,
        samples: m.sentSamples,
        rssBytes: m.rssBytes,
        rssBefore: NaN,
        rssAfter: NaN,
        heapBytes: m.jsHeapBytes + m.engineBytes,
        heapWhat: "JS heap after gc() + engine (WASM) memory growth",
        jsHeapBytes: m.jsHeapBytes,
        jsHeapTotalBytes: m.jsHeapTotalBytes,
        engineBytes: m.engineBytes,
        chunkBytes: m.chunkBytes,
        ingestSeconds: m.ingest.seconds,
        ingestCpuSeconds: m.ingest.cpuSeconds,
      },
    };
  }

  return {
    date,
    machine: await machine(),
    loadAverage: { start: load0, end: await loadAverage() },
    config: {
      storage: storageSpec,
      memory: {
        series: MEM_SERIES,
        scrapes: Number(args["mem-scrapes"]),
        samples: mw.samples,
      },
      shards: SHARDS,
      samplesPerRequest: SAMPLES_PER_REQUEST,
      probe: PROBE_SERIES,
    },
    systems,
    runSeconds: (performance.now() - began) / 1000,
  };
}

let report: ComparisonReport;
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
  new URL(`compare-${report.date.slice(0, 10)}.json`, outDir),
  JSON.stringify(report, null, 2) + "\n",
);
const md = renderMarkdown(report);
await Deno.writeTextFile(new URL("compare-latest.md", outDir), md);
console.log(md);
