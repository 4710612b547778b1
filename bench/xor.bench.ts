/**
 * XOR chunks: encode and decode samples/s, WASM against TypeScript, and
 * bytes/sample on regular and jittered scrapes of the shared workload.
 * @module
 */
import { encodeChunks, loadEngine } from "../src/bindings/mod.ts";
import { decodeChunk, encodeChunk } from "../src/reference/xor.ts";
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
      name: "wasm encode",
      items: samples,
      fn: () => {
        for (const s of series) encodeChunks(engine, s.timestamps, s.values);
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
  engine.free(base);
  engine.free(tsOut);
  engine.free(valOut);
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
