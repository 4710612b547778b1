/**
 * Tidemark's side of the comparison, run as a child process so that its
 * memory figures start from a clean process (and `gc()` is available):
 *
 *   deno run -A --v8-flags=--expose-gc bench/compare/tidemark.ts \
 *     --phase storage|memory --input WORKLOAD_DIR --dir DATA_DIR
 *
 * It reads the very bodies the peers received (written by the orchestrator
 * with writeWorkloadFiles, so this process allocates nothing for generating
 * or encoding them) and, in process (Tidemark's HTTP server is a later
 * issue), Snappy-decodes, protobuf-decodes, appends and commits each body as
 * one request. Prints one JSON line with its figures.
 * @module
 */
import { parseArgs } from "node:util";
import { loadEngine } from "../../src/bindings/engine.ts";
import { decodeWriteRequest } from "../../src/codec/prompb.ts";
import { snappyDecode } from "../../src/codec/snappy.ts";
import { labelsFrom } from "../../src/model/labels.ts";
import { newMatcher } from "../../src/model/matcher.ts";
import { Db } from "../../src/storage/db.ts";
import { listBlocks, tenantBlocksDir } from "../../src/storage/block/mod.ts";
import { CHUNKS_FILE, INDEX_FILE } from "../../src/storage/block/format.ts";
import {
  dirBreakdown,
  dirSize,
  machineBusySeconds,
  ownCpuSeconds,
} from "./proc.ts";
import { PROBE_SERIES, readWorkloadFiles } from "./workload.ts";

const TENANT = "bench";

/** Largest decoded body accepted, as a server would cap it. */
const MAX_BODY = 32 << 20;

interface IngestResult {
  samples: number;
  requests: number;
  /** Of `seconds`, time in Snappy + protobuf decode and label building. */
  decodeSeconds: number;
  rejected: number;
  firstRejection: string;
  seconds: number;
  cpuSeconds: number;
  /** CPU seconds other processes used meanwhile (machine busy minus this process). */
  otherCpuSeconds: number;
}

/** Decodes and appends every body, one commit per body (one request). */
async function ingest(
  db: Db,
  bodies: Uint8Array[],
): Promise<IngestResult> {
  const out: IngestResult = {
    samples: 0,
    requests: bodies.length,
    decodeSeconds: 0,
    rejected: 0,
    firstRejection: "",
    seconds: 0,
    cpuSeconds: 0,
    otherCpuSeconds: 0,
  };
  const t0 = performance.now();
  const c0 = ownCpuSeconds();
  const m0 = await machineBusySeconds();
  for (const body of bodies) {
    const d0 = performance.now();
    const req = decodeWriteRequest(snappyDecode(body, MAX_BODY));
    const labels = req.timeseries.map((ts) =>
      labelsFrom(ts.labels.map((l) => [l.name, l.value] as const))
    );
    out.decodeSeconds += (performance.now() - d0) / 1000;
    const app = db.appender(TENANT);
    for (let i = 0; i < labels.length; i++) {
      const ts = req.timeseries[i];
      app.appendSeries(labels[i], ts.timestamps, ts.values);
    }
    const res = await app.commit();
    out.samples += res.samplesAccepted;
    out.rejected += res.rejected.length;
    if (res.rejected.length > 0 && !out.firstRejection) {
      out.firstRejection = res.rejected[0].message;
    }
  }
  out.seconds = (performance.now() - t0) / 1000;
  out.cpuSeconds = ownCpuSeconds() - c0;
  out.otherCpuSeconds = await machineBusySeconds() - m0 - out.cpuSeconds;
  return out;
}

function gc(): void {
  // deno-lint-ignore no-explicit-any
  const f = (globalThis as any).gc as (() => void) | undefined;
  if (!f) throw new Error("run with --v8-flags=--expose-gc");
  f();
  f();
}

async function storagePhase(input: string, dir: string) {
  const { meta: w, parts } = await readWorkloadFiles(input);
  const db = await Db.open({ dataDir: dir });
  gc();
  const rss0 = Deno.memoryUsage().rss;
  // Timed part first (as the peers), then the rest.
  const ing = await ingest(db, parts[0]);
  const rest = parts[1] ? await ingest(db, parts[1]) : null;
  const rssGrowthBytes = Deno.memoryUsage().rss - rss0;
  const t0 = performance.now();
  const c0 = ownCpuSeconds();
  const report = await db.maintain();
  const maintainSeconds = (performance.now() - t0) / 1000;
  const maintainCpu = ownCpuSeconds() - c0;

  // Read the probe series back from block + head.
  const q = db.querier(TENANT, w.minTime, w.maxTime);
  const matchers = Object.entries(PROBE_SERIES).map(([k, v]) =>
    newMatcher("=", k, v)
  );
  const hits = q.select(matchers);
  let readBack = 0;
  for (const s of hits) {
    const it = s.iterator();
    while (it.next()) readBack++;
  }
  q.close();
  await db.close();

  const listing = await listBlocks(tenantBlocksDir(dir, TENANT), TENANT);
  const first = listing.blocks[0];
  if (!first) throw new Error("Tidemark wrote no block");
  const index = (await Deno.stat(`${first.dir}/${INDEX_FILE}`)).size;
  const chunks = (await Deno.stat(`${first.dir}/${CHUNKS_FILE}`)).size;
  const whole = await dirSize(dir);
  return {
    version: "Tidemark (this branch)",
    ingest: ing,
    sentSamples: w.samples,
    ingestedSamples: ing.samples + (rest?.samples ?? 0),
    rejected: ing.rejected + (rest?.rejected ?? 0),
    firstRejection: ing.firstRejection || rest?.firstRejection || "",
    rssGrowthBytes,
    persistCpuSeconds: maintainCpu + (rest?.cpuSeconds ?? 0),
    readBack: {
      series: hits.length,
      samples: readBack,
      sent: w.probeSamples,
    },
    disk: {
      totalBytes: whole.bytes,
      totalAllocated: whole.allocated,
      totalSamples: ing.samples + (rest?.samples ?? 0),
      breakdown: await dirBreakdown(dir),
      persistedBytes: index + chunks,
      persistedSamples: first.numSamples,
      persistedWhat: "first 2 h block: chunks + index",
      waitSeconds: maintainSeconds,
      extra: {
        blocks: listing.blocks.length,
        blocksWritten: report.blocksWritten,
        blockMinTime: first.minTime,
        blockMaxTime: first.maxTime,
        blockSeries: first.numSeries,
        blockChunks: first.numChunks,
        blockChunksBytes: chunks,
        blockIndexBytes: index,
        blockDirBytes: (await dirSize(first.dir)).bytes,
      },
    },
  };
}

async function memoryPhase(input: string, dir: string) {
  const { meta: w, parts } = await readWorkloadFiles(input);
  const bodies = parts.flat();
  const engine = await loadEngine();
  // From an open, empty store (as the peers start from a running, empty server).
  const db = await Db.open({ dataDir: dir, engine });
  gc();
  const heap0 = Deno.memoryUsage().heapUsed;
  const heapTotal0 = Deno.memoryUsage().heapTotal;
  const rss0 = Deno.memoryUsage().rss;
  const wasm0 = engine.raw.memory.buffer.byteLength;
  const ing = await ingest(db, bodies);
  gc();
  const heap = Deno.memoryUsage().heapUsed - heap0;
  // What V8 keeps reserved after gc(): RSS follows the peak, not the live heap.
  const heapTotal = Deno.memoryUsage().heapTotal - heapTotal0;
  const rss = Deno.memoryUsage().rss - rss0;
  const wasm = engine.raw.memory.buffer.byteLength - wasm0;
  const head = db.head(TENANT);
  const out = {
    version: "Tidemark (this branch)",
    ingest: ing,
    sentSamples: w.samples,
    series: head.numSeries,
    jsHeapBytes: heap,
    jsHeapTotalBytes: heapTotal,
    engineBytes: wasm,
    chunkBytes: head.chunkBytes(),
    rssBytes: rss,
  };
  await db.close();
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      phase: { type: "string" },
      input: { type: "string" },
      dir: { type: "string" },
    },
  });
  const input = values.input!;
  const dir = values.dir!;
  const result = values.phase === "storage"
    ? await storagePhase(input, dir)
    : values.phase === "memory"
    ? await memoryPhase(input, dir)
    : null;
  if (!result) throw new Error(`unknown --phase ${values.phase}`);
  console.log(JSON.stringify(result));
}
