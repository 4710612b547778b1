/**
 * DDSketch: inserts/s and merges/s of the WASM sketch against npm's
 * @datadog/sketches-js (same run, same data, same 1% accuracy) and the
 * TypeScript reference, plus the worst relative quantile error measured.
 * @module
 */
import { DDSketch as DatadogSketch } from "@datadog/sketches-js";
import { DDSketch, loadEngine } from "../src/bindings/mod.ts";
import { RefDDSketch } from "../src/reference/ddsketch.ts";
import { Prng } from "../src/util/prng.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

export async function run(): Promise<SuiteResult> {
  const engine = await loadEngine();
  const rng = new Prng(7);
  // Log-normal latencies, the usual shape of what a distribution records.
  const values = Float64Array.from(
    { length: 1_000_000 },
    () => Math.exp(3 + 1.5 * rng.normal()),
  );
  const figures: Record<string, number> = {};
  {
    const s = DDSketch.create(engine, 0.01);
    s.addMany(values);
    const sorted = Float64Array.from(values).sort();
    let worst = 0;
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))];
      worst = Math.max(worst, Math.abs(s.quantile(q) - exact) / exact);
    }
    figures.worstRelErrorP50toP999 = worst;
    figures.serializedBytes1M = s.serialize().length;
    s.free();
  }

  const wasm = DDSketch.create(engine, 0.01);
  const other = DDSketch.create(engine, 0.01);
  other.addMany(values.subarray(0, 100_000));
  const dd = new DatadogSketch({ relativeAccuracy: 0.01 });
  const ddOther = new DatadogSketch({ relativeAccuracy: 0.01 });
  for (let i = 0; i < 100_000; i++) ddOther.accept(values[i]);
  const ref = new RefDDSketch(0.01);
  const refSlice = values.subarray(0, 100_000);

  const cases: BenchCase[] = [
    {
      name: "wasm addMany",
      items: values.length,
      fn: () => wasm.addMany(values),
    },
    {
      name: "wasm add (one call per value)",
      items: values.length,
      fn: () => {
        for (let i = 0; i < values.length; i++) wasm.add(values[i]);
      },
    },
    {
      name: "sketches-js accept",
      items: values.length,
      fn: () => {
        for (let i = 0; i < values.length; i++) dd.accept(values[i]);
      },
    },
    {
      name: "ts reference add",
      items: refSlice.length,
      fn: () => {
        for (let i = 0; i < refSlice.length; i++) ref.add(refSlice[i]);
      },
    },
    { name: "wasm merge", items: 1, fn: () => wasm.merge(other) },
    { name: "sketches-js merge", items: 1, fn: () => dd.merge(ddOther) },
    { name: "wasm quantile p99", items: 1, fn: () => wasm.quantile(0.99) },
    {
      name: "sketches-js quantile p99",
      items: 1,
      fn: () => dd.getValueAtQuantile(0.99),
    },
  ];
  const result = await runSuite("ddsketch", cases, figures);
  for (
    const [a, b] of [["wasm addMany", "sketches-js accept"], [
      "wasm add (one call per value)",
      "sketches-js accept",
    ]]
  ) {
    const x = result.cases.find((c) => c.name === a)!.itemsPerSec;
    const y = result.cases.find((c) => c.name === b)!.itemsPerSec;
    result.figures[`ratio ${a} / ${b}`] = x / y;
  }
  wasm.free();
  other.free();
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
