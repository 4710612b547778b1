// Estimator accuracy of the engine's sketches against the true number of
// distinct values, which the tests know because they generate the inputs.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { HyperLogLog } from "../src/bindings/hll.ts";

const engine = await loadEngine();
const CARDINALITIES = [10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/** Adds the n distinct integers base, base + 1, ... in 1 Mi batches. */
function addDistinctNumbers(sketch: HyperLogLog, base: number, n: number) {
  const batch = new Float64Array(Math.min(n, 1 << 20));
  for (let start = 0; start < n; start += batch.length) {
    const count = Math.min(batch.length, n - start);
    for (let i = 0; i < count; i++) batch[i] = base + start + i;
    sketch.addNumbers(batch.subarray(0, count));
  }
}

Deno.test("p=14 numbers: within 2% from 10 to 10 million distinct values", async (t) => {
  using sketch = HyperLogLog.create(engine);
  for (const seed of [1, 2, 3]) {
    for (const n of CARDINALITIES) {
      await t.step(`seed ${seed} n ${n}`, () => {
        sketch.clear();
        addDistinctNumbers(sketch, seed * 1e12, n);
        // Each value again: duplicates must not count.
        if (n <= 100_000) addDistinctNumbers(sketch, seed * 1e12, n);
        const error = Math.abs(sketch.estimate() - n) / n;
        assert.ok(error < 0.02, `seed ${seed} n ${n}: relative error ${error}`);
      });
    }
  }
});

Deno.test("p=14 strings: within 2% from 10 to 1 million distinct values", async (t) => {
  using sketch = HyperLogLog.create(engine);
  for (const n of CARDINALITIES.slice(0, 6)) {
    await t.step(`n ${n}`, () => {
      sketch.clear();
      const batch: string[] = [];
      for (let i = 0; i < n; i++) {
        batch.push(`tenant-7/user-${i}@example.org`);
        if (batch.length === 65536 || i === n - 1) {
          sketch.addStrings(batch);
          batch.length = 0;
        }
      }
      const error = Math.abs(sketch.estimate() - n) / n;
      assert.ok(error < 0.02, `strings n ${n}: relative error ${error}`);
    });
  }
});

Deno.test("small cardinalities are (nearly) exact at p=14", () => {
  // Below ~20 values register collisions are vanishingly rare, so the
  // rounded estimate is exact; up to 100 a few of the values can share a
  // register (about n^2 / 2^15 pairs expected), each costing about one.
  using sketch = HyperLogLog.create(engine);
  assert.equal(sketch.estimate(), 0);
  for (let seed = 1; seed <= 30; seed++) {
    sketch.clear();
    const values: string[] = [];
    for (let n = 1; n <= 100; n++) {
      values.push(`s${seed}-v${n}`);
      sketch.add(values[n - 1]);
      sketch.add(values[0]); // a repeat never counts
      const estimate = sketch.estimate();
      if (n <= 20) {
        assert.equal(
          Math.round(estimate),
          n,
          `seed ${seed} n ${n}: ${estimate}`,
        );
      } else {
        assert.ok(
          Math.abs(estimate - n) <= 3,
          `seed ${seed} n ${n}: ${estimate}`,
        );
      }
    }
  }
});

Deno.test("every precision 4..18 is within 4 standard errors at 50k", async (t) => {
  for (let p = 4; p <= 18; p++) {
    await t.step(`p ${p}`, () => {
      using sketch = HyperLogLog.create(engine, p);
      const n = 50_000;
      addDistinctNumbers(sketch, p * 1e9, n);
      const error = Math.abs(sketch.estimate() - n) / n;
      const standardError = 1.04 / Math.sqrt(2 ** p);
      assert.ok(
        error < 4 * standardError,
        `p ${p}: relative error ${error}, standard error ${standardError}`,
      );
    });
  }
});

Deno.test("merged sketches estimate the union", () => {
  using a = HyperLogLog.create(engine);
  using b = HyperLogLog.create(engine);
  using fine = HyperLogLog.create(engine, 16);
  addDistinctNumbers(a, 0, 300_000); // [0, 300k)
  addDistinctNumbers(b, 200_000, 300_000); // [200k, 500k)
  addDistinctNumbers(fine, 450_000, 150_000); // [450k, 600k)
  a.merge(b);
  a.merge(fine);
  const error = Math.abs(a.estimate() - 600_000) / 600_000;
  assert.ok(error < 0.02, `union relative error ${error}`);
});
