/**
 * The storage engine in-process: append throughput (10 k series × 2 h, and
 * 1 M series), head memory per series, WAL replay speed, bytes per sample
 * on disk after blocks are written, and select+decode throughput. Plain
 * timed runs (each case is one long operation, so benny's repetition adds
 * nothing); figures go to the shared results file through run.ts.
 * @module
 */
import { loadEngine } from "../src/bindings/mod.ts";
import { type Labels, labelsFrom } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { Db } from "../src/storage/db.ts";
import { generateWorkload, sampleCount } from "./data/generator.ts";
import type { SuiteResult } from "./_harness.ts";

/**
 * Appends a workload scrape by scrape in requests of 2,000 samples, from
 * four concurrent writers with the series sharded between them (as the
 * side-by-side harness feeds the peers over four connections, each keeping
 * its series in time order).
 */
async function ingest(
  db: Db,
  series: {
    labels: Labels | (() => Labels);
    ts: Float64Array;
    values: Float64Array;
  }[],
  from = 0,
  to = series[0].ts.length,
  writers = 4,
): Promise<number> {
  let n = 0;
  const one = async (w: number) => {
    for (let i = from; i < to; i++) {
      // A scrape's values side by side, as a decoder hands them over.
      const column = new Float64Array(series.length);
      const words = new Uint32Array(column.buffer);
      for (let k = 0; k < series.length; k++) {
        const src = new Uint32Array(series[k].values.buffer, i * 8, 2);
        words[2 * k] = src[0];
        words[2 * k + 1] = src[1];
      }
      let app = db.appender("bench");
      let inReq = 0;
      for (let k = w; k < series.length; k += writers) {
        const s = series[k];
        const labels = typeof s.labels === "function" ? s.labels() : s.labels;
        app.appendFrom(labels, s.ts[i], column, k);
        n++;
        if (++inReq === 2000) {
          await app.commit();
          app = db.appender("bench");
          inReq = 0;
        }
      }
      await app.commit();
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => one(w)));
  return n;
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) total += await dirBytes(p);
    else total += (await Deno.stat(p)).size;
  }
  return total;
}

function cpuSeconds(): number {
  // Deno has no process.cpuUsage without node:process; use it.
  // deno-lint-ignore no-explicit-any
  const u = (globalThis as any).process?.cpuUsage?.();
  return u ? (u.user + u.system) / 1e6 : NaN;
}

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const figures: Record<string, number> = {};
  const dir = await Deno.makeTempDir({ prefix: "tidemark-bench-" });
  try {
    // 10 k series, 3.5 h of jittered 15 s scrapes (the head then persists a
    // 2 h block, whose size gives bytes/sample on disk).
    const work = generateWorkload({ durationMs: 3.5 * 3600_000 }).map((s) => ({
      labels: labelsFrom(s.labels),
      ts: s.timestamps,
      values: s.values,
    }));
    const db = await Db.open({ dataDir: dir, engine });
    const first2h = 480;
    // Label sets kept by the caller (a scrape loop, Prometheus' ref cache).
    let t0 = performance.now();
    const c0 = cpuSeconds();
    const n = await ingest(db, work, 0, first2h - 60);
    let secs = (performance.now() - t0) / 1000;
    figures.append10k_samplesPerSec = n / secs;
    figures.append10k_samplesPerCpuSec = n / (cpuSeconds() - c0);
    // A fresh label set per sample (a decoder's output): hashed each time.
    const raw = generateWorkload({ durationMs: 60_000 }).map((s) => s.labels);
    const fresh = work.map((s, k) => ({
      ...s,
      labels: () => labelsFrom(raw[k]),
    }));
    t0 = performance.now();
    const m = await ingest(db, fresh, first2h - 60, first2h);
    figures.append10kFreshLabels_samplesPerSec = m /
      ((performance.now() - t0) / 1000);
    await ingest(db, work, first2h, work[0].ts.length);
    const rep = await db.maintain();
    figures.blocksWritten = rep.blocksWritten;
    const blocksDir = `${dir}/tenants`;
    const blockSamples = 10_000 * 480;
    figures.diskBytesPerSample_blocks = (await dirBytes(blocksDir)) /
      blockSamples;

    // select + decode everything in range.
    const q = db.querier("bench", -Infinity, Infinity);
    t0 = performance.now();
    let read = 0;
    for (const s of q.select([newMatcher("=", "job", "node")])) {
      const it = s.iterator();
      while (it.next()) read++;
    }
    figures.selectDecode_samplesPerSec = read /
      ((performance.now() - t0) / 1000);
    q.close();
    await db.close();

    // WAL replay: reopen.
    t0 = performance.now();
    const again = await Db.open({ dataDir: dir, engine });
    secs = (performance.now() - t0) / 1000;
    figures.reopen_seconds = secs;
    figures.replay_samplesPerSec = again.replay.samples / again.replay.seconds;
    figures.replay_seriesPerSec = again.replay.series / again.replay.seconds;
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  // 1 M series: memory per series and append rate.
  {
    const dir1m = await Deno.makeTempDir({ prefix: "tidemark-bench-1m-" });
    try {
      const work = generateWorkload({
        instances: 10_000,
        durationMs: 3 * 15_000,
      })
        .map((s) => ({
          labels: labelsFrom(s.labels),
          ts: s.timestamps,
          values: s.values,
        }));
      // deno-lint-ignore no-explicit-any
      const gc = (globalThis as any).gc as (() => void) | undefined;
      const heap = () => {
        gc?.();
        gc?.();
        return Deno.memoryUsage().heapUsed;
      };
      const db = await Db.open({ dataDir: dir1m, engine });
      // Memory is the slope between 100 k series (after warm-up) and 1 M.
      const warm = work.slice(0, 100_000);
      const rest = work.slice(100_000);
      await ingest(db, warm, 0, 1);
      const heap0 = heap();
      const wasm0 = engine.raw.memory.buffer.byteLength;
      let t0 = performance.now();
      const created = await ingest(db, rest, 0, 1);
      figures.create1M_seriesPerSec = created /
        ((performance.now() - t0) / 1000);
      const heap1 = heap();
      const wasm1 = engine.raw.memory.buffer.byteLength;
      figures.head1M_jsHeapBytesPerSeries = (heap1 - heap0) / rest.length;
      figures.head1M_engineBytesPerSeries = (wasm1 - wasm0) / rest.length;
      t0 = performance.now();
      const n = await ingest(db, work, 1, 3);
      figures.append1M_samplesPerSec = n / ((performance.now() - t0) / 1000);
      figures.head1M_chunkBytesPerSeries = db.head("bench").chunkBytes() /
        work.length;
      await db.close();
    } finally {
      await Deno.remove(dir1m, { recursive: true });
    }
  }
  return { suite: "storage", cases: [], figures };
}

if (import.meta.main) {
  console.log(JSON.stringify(await run(), null, 2));
}
void sampleCount;
