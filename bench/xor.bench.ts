/**
 * XOR chunks: encode and decode samples/s, WASM against TypeScript, and
 * bytes/sample on regular and jittered scrapes of the shared workload.
 * @module
 */
import { encodeChunks, loadEngine } from "../src/bindings/mod.ts";
import { decodeChunk, encodeChunk } from "../src/reference/xor.ts";
import {
  decodeChunkTs,
  encodeChunkTs,
  xorChunkMaxBytes,
} from "./baseline/xor_ts.ts";
import { generateWorkload, sampleCount } from "./data/generator.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

const READ_SLACK = 32;

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const figures: Record<string, number> = {};
  // Bytes/sample over the full 10k-series workload, both scrape shapes.
  for (const jitterMs of [0, 50]) {
    const all = generateWorkload({ jitterMs });
    let bytes = 0;
    for (const s of all) {
      for (const c of encodeChunks(engine, s.timestamps, s.values)) {
        bytes += c.length;
      }
    }
    figures[`bytesPerSample_${jitterMs ? "jittered" : "regular"}`] = bytes /
      sampleCount(all);
  }

  // Timing set: 10 instances (1,000 series, 480k samples), jittered.
  const series = generateWorkload({ instances: 10 });
  const samples = sampleCount(series);
  const chunks = series.flatMap((s) =>
    encodeChunks(engine, s.timestamps, s.values)
  );
  // Chunks laid out in engine memory, as the storage head and blocks hold them.
  const total = chunks.reduce((a, c) => a + c.length + READ_SLACK, 0);
  const base = engine.alloc(total);
  const where: number[] = [];
  let at = base;
  for (const c of chunks) {
    engine.u8.set(c, at);
    where.push(at, c.length);
    at += c.length + READ_SLACK;
  }
  const tsOut = engine.alloc(120 * 8);
  const valOut = engine.alloc(120 * 8);
  const decode = engine.raw.xor_decode_f64t;

  // Series samples in engine memory for the raw encode kernel.
  const n = series[0].values.length;
  const tsIn = engine.alloc(series.length * n * 8);
  const valIn = engine.alloc(series.length * n * 8);
  series.forEach((s, i) => {
    engine.f64.set(s.timestamps, (tsIn >> 3) + i * n);
    engine.f64.set(s.values, (valIn >> 3) + i * n);
  });
  const perSeriesChunks = Math.ceil(n / 120);
  const encCap = 32 * perSeriesChunks + 19 * n + 16;
  const encOut = engine.alloc(encCap);
  const encIndex = engine.alloc(perSeriesChunks * 8);
  const encState = engine.alloc(engine.raw.XOR_STATE_SIZE.value);
  const encode = engine.raw.xor_encode_f64t;

  // The tuned TypeScript baseline works on the same data.
  const tsTs = new Float64Array(120);
  const tsVals = new Float64Array(120);
  const tsOutBytes = new Uint8Array(xorChunkMaxBytes(120));

  const cases: BenchCase[] = [
    {
      name: "wasm decode",
      items: samples,
      fn: () => {
        let n = 0;
        for (let k = 0; k < where.length; k += 2) {
          n += decode(where[k], where[k + 1], tsOut, valOut, 120);
        }
        return n;
      },
    },
    {
      name: "ts tuned decode",
      items: samples,
      fn: () => {
        let m = 0;
        for (const c of chunks) m += decodeChunkTs(c, tsTs, tsVals);
        return m;
      },
    },
    {
      name: "wasm encode (kernel, data in engine memory)",
      items: samples,
      fn: () => {
        for (let i = 0; i < series.length; i++) {
          encode(
            tsIn + i * n * 8,
            valIn + i * n * 8,
            n,
            120,
            encOut,
            encCap,
            encIndex,
            perSeriesChunks,
            encState,
            1,
          );
        }
      },
    },
    {
      name: "wasm encodeChunks (copies in and out)",
      items: samples,
      fn: () => {
        for (const s of series) encodeChunks(engine, s.timestamps, s.values);
      },
    },
    {
      name: "ts tuned encode",
      items: samples,
      fn: () => {
        for (const s of series) {
          for (let a = 0; a < n; a += 120) {
            encodeChunkTs(
              s.timestamps,
              s.values,
              a,
              Math.min(n, a + 120),
              tsOutBytes,
            );
          }
        }
      },
    },
  ];

  // The BigInt reference is slow: time it on a slice.
  const refChunks = chunks.slice(0, 40);
  const refSamples = refChunks.reduce((a, c) => a + ((c[0] << 8) | c[1]), 0);
  const refSeries = refChunks.map(decodeChunk);
  cases.push(
    {
      name: "ts reference decode",
      items: refSamples,
      fn: () => refChunks.forEach((c) => decodeChunk(c)),
    },
    {
      name: "ts reference encode",
      items: refSamples,
      fn: () => refSeries.forEach((s) => encodeChunk(s)),
    },
  );
  const result = await runSuite("xor", cases, figures);
  for (
    const p of [base, tsOut, valOut, tsIn, valIn, encOut, encIndex, encState]
  ) {
    engine.free(p);
  }
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
