/**
 * Bucket aggregation: samples/s of the WASM kernel against the TypeScript
 * reference, on the shared workload, for a dense grid (1 h buckets of 15 s
 * samples) and a fine one (one bucket per scrape, as a query_range step).
 * @module
 */
import { loadEngine } from "../src/bindings/mod.ts";
import { referenceAggregate } from "../src/reference/agg.ts";
import { generateWorkload, sampleCount } from "./data/generator.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const series = generateWorkload({ instances: 10 });
  const samples = sampleCount(series);
  const first = series[0].timestamps[0];
  const last = series[0].timestamps[series[0].timestamps.length - 1];
  const start = Math.floor(first / 60_000) * 60_000;
  const end = Math.ceil((last + 1) / 60_000) * 60_000;

  // All series' samples in engine memory, as decoded chunks would be.
  const n = series[0].values.length;
  const tsPtr = engine.alloc(series.length * n * 8);
  const valPtr = engine.alloc(series.length * n * 8);
  series.forEach((s, i) => {
    engine.f64.set(s.timestamps, (tsPtr >> 3) + i * n);
    engine.f64.set(s.values, (valPtr >> 3) + i * n);
  });
  const cap = Math.ceil((end - start) / 15_000) + 1;
  const out = engine.alloc(cap * 7 * 8);
  const kernel = engine.raw.agg_buckets;
  const wasm = (step: number) => () => {
    for (let i = 0; i < series.length; i++) {
      kernel(
        tsPtr + i * n * 8,
        valPtr + i * n * 8,
        n,
        start,
        end,
        step,
        out,
        cap,
      );
    }
  };
  const ref = (step: number) => () => {
    for (const s of series) {
      referenceAggregate(s.timestamps, s.values, start, end, step);
    }
  };
  const cases: BenchCase[] = [
    { name: "wasm, 1 h buckets", items: samples, fn: wasm(3_600_000) },
    { name: "wasm, 15 s buckets", items: samples, fn: wasm(15_000) },
    { name: "ts reference, 1 h buckets", items: samples, fn: ref(3_600_000) },
    { name: "ts reference, 15 s buckets", items: samples, fn: ref(15_000) },
  ];
  const result = await runSuite("agg", cases);
  engine.free(tsPtr);
  engine.free(valPtr);
  engine.free(out);
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
