// Accuracy against exact quantiles: for seeded uniform, log-normal, Pareto
// and bimodal data, every sketch quantile is within relative error alpha of
// the exact lower quantile, the sorted element at 0-based rank
// floor(q * (n - 1)) (the rank definition the sketch documents).
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { DDSketch } from "../src/bindings/ddsketch.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

const N = 300_000;
const QS = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

const distributions: Record<string, (r: Prng) => number> = {
  uniform: (r) => r.float() * 1000,
  lognormal: (r) => Math.exp(r.normal() * 2 + 1),
  pareto: (r) => 1 / (1 - r.float()) ** (1 / 1.2), // x_m = 1, shape 1.2: heavy tail
  bimodal: (r) =>
    r.float() < 0.7 ? 10 + r.normal() : 5000 * Math.exp(0.1 * r.normal()),
  signed: (r) => (r.float() < 0.4 ? -1 : 1) * Math.exp(r.normal() * 3),
  withZeros: (r) => (r.float() < 0.2 ? 0 : r.float() * 50 - 10),
};

function exactLower(sorted: Float64Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

for (const alpha of [0.01, 0.05]) {
  Deno.test(`ddsketch accuracy: alpha ${alpha} against exact quantiles`, async (t) => {
    for (const [name, draw] of Object.entries(distributions)) {
      await t.step(name, () => {
        const seed = Math.round(alpha * 1000) * 100 + name.length;
        const r = new Prng(seed);
        const data = new Float64Array(N);
        for (let i = 0; i < N; i++) data[i] = draw(r);
        const sorted = Float64Array.from(data).sort();
        using sk = DDSketch.create(engine, alpha);
        sk.addMany(data);
        assert.equal(sk.count, N);
        assert.equal(sk.min, sorted[0]);
        assert.equal(sk.max, sorted[N - 1]);
        for (const q of QS) {
          const exact = exactLower(sorted, q);
          const got = sk.quantile(q);
          const err = Math.abs(got - exact);
          assert.ok(
            err <= alpha * Math.abs(exact),
            `seed ${seed} ${name} q ${q}: ${got} vs exact ${exact} (rel ${
              err / Math.abs(exact)
            })`,
          );
        }
      });
    }
  });
}

Deno.test("ddsketch accuracy: every rank of a small wide-range set", () => {
  // Every q = i / (n - 1) hits a distinct element: all must be within alpha.
  const seed = 77;
  const r = new Prng(seed);
  const n = 2001;
  const data = Float64Array.from(
    { length: n },
    () => (r.float() < 0.5 ? -1 : 1) * 2 ** (r.float() * 120 - 60),
  );
  const sorted = Float64Array.from(data).sort();
  for (const alpha of [0.001, 0.01, 0.05, 0.2]) {
    // 120 octaves need ~42k bins per sign at alpha 0.001: no collapsing here.
    using sk = DDSketch.create(engine, alpha, 65535);
    sk.addMany(data);
    for (let i = 0; i < n; i++) {
      const q = i / (n - 1);
      const exact = exactLower(sorted, q);
      const got = sk.quantile(q);
      assert.ok(
        Math.abs(got - exact) <= alpha * Math.abs(exact),
        `seed ${seed} alpha ${alpha} rank ${i}: ${got} vs ${exact}`,
      );
    }
  }
});

Deno.test("ddsketch accuracy: one million log-normal values, alpha 0.01", () => {
  const seed = 4242;
  const r = new Prng(seed);
  const n = 1_000_000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.exp(r.normal() * 1.5 + 4);
  const sorted = Float64Array.from(data).sort();
  using sk = DDSketch.create(engine, 0.01);
  sk.addMany(data);
  for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
    const exact = exactLower(sorted, q);
    const got = sk.quantile(q);
    assert.ok(
      Math.abs(got - exact) <= 0.01 * exact,
      `seed ${seed} q ${q}: ${got} vs ${exact}`,
    );
  }
});

Deno.test("ddsketch accuracy: collapsing gives up only the low end", () => {
  // 2^-100 .. 2^100 needs ~7000 bins at alpha 0.01; with 1024 bins the
  // lowest ones collapse, and quantiles above the collapsed range stay exact
  // to alpha while those inside it are clamped up to the floor bin.
  const seed = 99;
  const r = new Prng(seed);
  const n = 200_000;
  const data = Float64Array.from(
    { length: n },
    () => 2 ** (r.float() * 200 - 100),
  );
  const sorted = Float64Array.from(data).sort();
  using sk = DDSketch.create(engine, 0.01, 1024);
  sk.addMany(data);
  // 1024 bins cover about 1024 / 35.5 = 28.8 octaves below the maximum.
  const covered = sorted[n - 1] / 2 ** 28;
  let checked = 0;
  for (const q of [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1]) {
    const exact = exactLower(sorted, q);
    const got = sk.quantile(q);
    if (exact >= covered) {
      checked++;
      assert.ok(
        Math.abs(got - exact) <= 0.01 * exact,
        `seed ${seed} q ${q}: ${got} vs ${exact}`,
      );
    } else {
      assert.ok(
        got >= exact,
        `seed ${seed} q ${q}: collapsed values must be clamped upwards`,
      );
    }
  }
  assert.ok(checked >= 2, "some quantiles above the collapsed range");
  // The low quantiles are clamped onto the floor bin: far above the data.
  assert.ok(sk.quantile(0.01) > 1000 * exactLower(sorted, 0.01));
});
