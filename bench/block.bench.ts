/**
 * Blocks, dense against XOR-only in one run on the 10k-series jittered
 * workload: bytes/sample of the whole block directory with a breakdown
 * (timestamps, values per domain, record headers, XOR fallback, framing,
 * index), write throughput, and read throughput (XOR chunks read and
 * decoded; dense records decoded straight to samples; dense records
 * converted to XOR bytes as remote read ships them).
 * Register with `block: () => import("./block.bench.ts")` in bench/run.ts.
 * @module
 */
import { loadEngine, XorDecoder } from "../src/bindings/mod.ts";
import { labelsFrom } from "../src/model/labels.ts";
import {
  BlockReader,
  type BlockSeriesInput,
  writeBlock,
  type WrittenBlock,
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
    const write = async (dense: boolean) => {
      let ms = Infinity;
      let meta: WrittenBlock | null = null;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        meta = await writeBlock(tmp, {
          tenant: "bench",
          minTime: start,
          maxTime: start + 2 * 3600_000 + 60_000,
          series: input,
          engine,
          dense,
        });
        ms = Math.min(ms, performance.now() - t0);
      }
      let bytes = 0;
      for (const f of ["meta.json", "index", "chunks"]) {
        bytes += (await Deno.stat(`${meta!.dir}/${f}`)).size;
      }
      return { meta: meta!, ms, bytes };
    };
    const xor = await write(false);
    const dense = await write(true);
    const st = dense.meta.stats;
    const per = (x: number) => x / samples;
    const metaBytes = dense.bytes - dense.meta.files.index.size -
      dense.meta.files.chunks.size;
    const figures: Record<string, number> = {
      bytesPerSample_xorOnly: per(xor.bytes),
      bytesPerSample_dense: per(dense.bytes),
      dense_timestamps: per(st.streamBytes),
      dense_valuesDecimal: per(st.decimalBytes),
      dense_valuesBits: per(st.bitsBytes),
      dense_recordHeaders: per(st.denseBytes - st.decimalBytes - st.bitsBytes),
      dense_xorFallback: per(st.xorBytes),
      dense_framing: per(st.framingBytes + 8),
      dense_index: per(dense.meta.files.index.size),
      dense_meta: per(metaBytes),
      denseShareOfSamples: st.denseSamples / samples,
      writeSamplesPerSec_xorOnly: samples / (xor.ms / 1e3),
      writeSamplesPerSec_dense: samples / (dense.ms / 1e3),
    };

    const rx = await BlockReader.open(xor.meta.dir, { engine });
    const rd = await BlockReader.open(dense.meta.dir, { engine });
    const allX = [...rx.series()];
    const allD = [...rd.series()];
    const dec = new XorDecoder(engine);
    const cases: BenchCase[] = [
      {
        name: "xor-only: read and decode every chunk",
        items: samples,
        fn: () => {
          let n = 0;
          for (const s of allX) {
            for (const c of s.chunks) n += dec.decode(rx.chunk(c));
          }
          return n;
        },
      },
      {
        name: "dense: samples(ref) of every record",
        items: samples,
        fn: () => {
          let n = 0;
          for (const s of allD) {
            for (const c of s.chunks) n += rd.samples(c).ts.length;
          }
          return n;
        },
      },
      {
        name: "dense: chunk(ref) as XOR bytes (remote read)",
        items: samples,
        fn: () => {
          let n = 0;
          for (const s of allD) {
            for (const c of s.chunks) n += rd.chunk(c).length;
          }
          return n;
        },
      },
    ];
    const result = await runSuite("block", cases, figures);
    dec.free();
    rx.close();
    rd.close();
    return result;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
