/**
 * HyperLogLog: inserts/s through the bindings (numbers, strings), WASM
 * against the TypeScript reference, and the estimate's error at 1M.
 * @module
 */
import { HyperLogLog, loadEngine } from "../src/bindings/mod.ts";
import { ReferenceHll } from "../src/reference/hll.ts";
import { Prng } from "../src/util/prng.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const rng = new Prng(42);
  const numbers = Float64Array.from({ length: 1_000_000 }, () => rng.float());
  const strings = Array.from(
    { length: 100_000 },
    (_, i) => `user-${i}-${rng.u32().toString(36)}`,
  );
  const hll = HyperLogLog.create(engine);
  const figures: Record<string, number> = {};
  hll.addNumbers(numbers);
  figures.relErrorAt1M = Math.abs(hll.estimate() - 1e6) / 1e6;

  const refSlice = strings.slice(0, 5_000);
  const cases: BenchCase[] = [
    {
      name: "wasm addNumbers",
      items: numbers.length,
      fn: () => hll.addNumbers(numbers),
    },
    {
      name: "wasm addStrings",
      items: strings.length,
      fn: () => hll.addStrings(strings),
    },
    {
      name: "ts reference add strings",
      items: refSlice.length,
      fn: () => {
        const r = new ReferenceHll(14);
        for (const s of refSlice) r.addString(s);
      },
    },
    { name: "wasm estimate (p=14)", items: 1, fn: () => hll.estimate() },
  ];
  const result = await runSuite("hll", cases, figures);
  hll.free();
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
