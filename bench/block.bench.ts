/**
 * Blocks: bytes/sample on disk for the 10k-series jittered workload, write
 * throughput, and read throughput (chunk reads with CRC checks, and decoding).
 * Register with `block: () => import("./block.bench.ts")` in bench/run.ts.
 * @module
 */
import { loadEngine, XorDecoder } from "../src/bindings/mod.ts";
import { labelsFrom } from "../src/model/labels.ts";
import {
  BlockReader,
  type BlockSeriesInput,
  writeBlock,
} from "../src/storage/block/mod.ts";
import { encodeChunks } from "../src/bindings/xor.ts";
import { generateWorkload, sampleCount } from "./data/generator.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const workload = generateWorkload();
  const samples = sampleCount(workload);
  const input: BlockSeriesInput[] = workload.map((s) => {
    const data = encodeChunks(engine, s.timestamps, s.values);
    let at = 0;
    return {
      labels: labelsFrom(s.labels),
      chunks: data.map((d) => {
        const n = (d[0] << 8) | d[1];
        const c = {
          minTime: s.timestamps[at],
          maxTime: s.timestamps[at + n - 1],
          data: d,
        };
        at += n;
        return c;
      }),
    };
  });
  const start = Date.UTC(2026, 0, 1);
  const tmp = await Deno.makeTempDir({ prefix: "tidemark-block-bench-" });
  try {
    // Writes are async (fsync included), so they are timed by hand.
    let writeMs = Infinity;
    let dir = "";
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const meta = await writeBlock(tmp, {
        tenant: "bench",
        minTime: start,
        maxTime: start + 2 * 3600_000 + 60_000,
        series: input,
      });
      writeMs = Math.min(writeMs, performance.now() - t0);
      dir = meta.dir;
    }
    let bytes = 0;
    for (const f of ["meta.json", "index", "chunks"]) {
      bytes += (await Deno.stat(`${dir}/${f}`)).size;
    }
    const t1 = performance.now();
    const reader = await BlockReader.open(dir);
    const openMs = performance.now() - t1;
    const all = [...reader.series()];
    const dec = new XorDecoder(engine);
    const cases: BenchCase[] = [
      {
        name: "read every chunk (CRC checked)",
        items: samples,
        fn: () => {
          let n = 0;
          for (const s of all) {
            for (const c of s.chunks) n += reader.chunk(c).length;
          }
          return n;
        },
      },
      {
        name: "read and decode every chunk",
        items: samples,
        fn: () => {
          let n = 0;
          for (const s of all) {
            for (const c of s.chunks) n += dec.decode(reader.chunk(c));
          }
          return n;
        },
      },
    ];
    const result = await runSuite("block", cases, {
      bytesPerSample_jittered: bytes / samples,
      writeSamplesPerSec: samples / (writeMs / 1e3),
      openMs,
    });
    dec.free();
    reader.close();
    return result;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
