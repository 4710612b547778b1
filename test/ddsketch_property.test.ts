// Property tests: the engine's DDSketch against the plain-TypeScript
// reference over thousands of seeded random and adversarial cases. Both must
// agree bit for bit: serialized blobs (bins, counts, collapse state, header
// statistics), quantiles, count/sum/min/max.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { DDSketch } from "../src/bindings/ddsketch.ts";
import {
  binValue,
  indexOf,
  lowerBound,
  MIN_NORMAL,
  multiplierFor,
  RefDDSketch,
} from "../src/reference/ddsketch.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

const DBL_MAX = Number.MAX_VALUE;
const SUBNORMAL_MIN = 5e-324;

/** One value from a randomly chosen family, adversarial ones included. */
function randomValue(r: Prng, alpha: number): number {
  const sign = r.float() < 0.35 ? -1 : 1;
  switch (r.int(0, 13)) {
    case 0:
      return sign * Math.exp(r.normal() * 3);
    case 1:
      return sign * r.float() * 1000;
    case 2:
      return r.pick([0, -0, SUBNORMAL_MIN, -SUBNORMAL_MIN, MIN_NORMAL / 2]);
    case 3:
      return sign * SUBNORMAL_MIN * r.int(1, 1 << 30);
    case 4:
      return sign * r.pick([MIN_NORMAL, MIN_NORMAL * (1 + 2 ** -52), DBL_MAX]);
    case 5:
      return sign * 2 ** r.int(-1022, 1023); // mantissa 0: segment edges
    case 6:
      return sign * DBL_MAX * r.float();
    case 7:
      return sign * 2 ** (r.float() * 2040 - 1020); // any magnitude
    case 8: {
      // Right at a bin's lower bound, or one ulp below it.
      const mult = multiplierFor(alpha);
      const k = r.int(Math.floor(-1000 * mult), Math.floor(1000 * mult));
      const lo = lowerBound(k, mult);
      return sign * (r.float() < 0.5 ? lo : lo * (1 - 2 ** -52));
    }
    case 9:
      return r.pick([NaN, Infinity, -Infinity]);
    case 10:
      return sign * 42.5; // repeated value
    case 11:
      return sign * r.int(1, 100);
    case 12: {
      // Arbitrary bit patterns (finite or not).
      const f = new Float64Array(1);
      new Uint32Array(f.buffer).set([r.u32(), r.u32()]);
      return f[0];
    }
    default:
      return sign * (1 + r.float() * 1e-9); // many values in one or two bins
  }
}

function randomAlpha(r: Prng): number {
  switch (r.int(0, 3)) {
    case 0:
      return 0.01;
    case 1:
      return 0.05;
    case 2:
      return 10 ** (-6 + r.float() * Math.log10(0.5e6)); // [1e-6, 0.5]
    default:
      return r.pick([1e-6, 0.5, 0.001, 0.2]);
  }
}

function randomBins(r: Prng): number {
  return r.pick([16, 17, 40, 100, 4096, r.int(16, 600)]);
}

const QS = [
  0,
  1e-9,
  0.001,
  0.01,
  0.1,
  0.25,
  0.5,
  0.75,
  0.9,
  0.95,
  0.99,
  0.999,
  1,
];

function assertSame(sk: DDSketch, ref: RefDDSketch, ctx: string): void {
  assert.deepEqual(sk.serialize(), ref.serialize(), `${ctx}: blobs differ`);
  assert.ok(Object.is(sk.count, ref.count), `${ctx}: count`);
  assert.ok(Object.is(sk.sum, ref.sum), `${ctx}: sum ${sk.sum} vs ${ref.sum}`);
  assert.ok(Object.is(sk.min, ref.min), `${ctx}: min`);
  assert.ok(Object.is(sk.max, ref.max), `${ctx}: max`);
  assert.ok(Object.is(sk.zeroCount, ref.zeroCount), `${ctx}: zero count`);
  for (const q of QS) {
    const a = sk.quantile(q);
    const b = ref.quantile(q);
    assert.ok(Object.is(a, b), `${ctx}: quantile(${q}) ${a} vs ${b}`);
  }
}

/** Feeds the same random operations to an engine sketch and a reference one. */
function feed(r: Prng, sk: DDSketch, ref: RefDDSketch, alpha: number): void {
  const ops = r.int(1, 6);
  for (let o = 0; o < ops; o++) {
    const kind = r.int(0, 2);
    const n = r.pick([1, 3, 20, 200, r.int(0, 3000)]);
    if (kind === 0) {
      const batch = new Float64Array(n);
      for (let i = 0; i < n; i++) batch[i] = randomValue(r, alpha);
      assert.equal(sk.addMany(batch), ref.addMany(batch));
    } else if (kind === 1) {
      for (let i = 0; i < n; i++) {
        const v = randomValue(r, alpha);
        sk.add(v);
        ref.add(v);
      }
    } else {
      for (let i = 0; i < Math.min(n, 300); i++) {
        const v = randomValue(r, alpha);
        const w = r.float() < 0.5 ? r.int(1, 1000) : r.float() * 10 + 1e-3;
        sk.addWeighted(v, w);
        ref.add(v, w);
      }
    }
  }
}

Deno.test("ddsketch: mapping keeps every normal magnitude within alpha", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = new Prng(seed);
    const alpha = randomAlpha(r);
    const mult = multiplierFor(alpha);
    for (let i = 0; i < 2000; i++) {
      let v = Math.abs(randomValue(r, alpha));
      if (!(v >= MIN_NORMAL && v <= DBL_MAX / 1.5)) v = 1 + r.float();
      const k = indexOf(v, mult);
      const lo = lowerBound(k, mult);
      const hi = lowerBound(k + 1, mult);
      const rep = binValue(k, alpha);
      // The bin brackets the value (up to float rounding at its edges).
      assert.ok(
        lo <= v * (1 + 1e-12) && v < hi * (1 + 1e-12),
        `seed ${seed}: ${v} not in bin ${k}`,
      );
      assert.ok(
        Math.abs(rep - v) <= alpha * v,
        `seed ${seed}: ${v} -> ${rep} alpha ${alpha}`,
      );
    }
  }
});

Deno.test("ddsketch: engine matches reference on random and adversarial cases", () => {
  let collapsed = 0;
  let fractional = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const r = new Prng(seed);
    const alpha = randomAlpha(r);
    const maxBins = randomBins(r);
    const sk = DDSketch.create(engine, alpha, maxBins);
    const ref = new RefDDSketch(alpha, maxBins);
    try {
      feed(r, sk, ref, alpha);
      assertSame(sk, ref, `seed ${seed} alpha ${alpha} maxBins ${maxBins}`);
      if (
        ref.positive.floor > -2147483648 || ref.negative.floor > -2147483648
      ) collapsed++;
      if (ref.count !== Math.floor(ref.count)) fractional++;
      // Random quantiles too.
      for (let i = 0; i < 5; i++) {
        const q = r.float();
        assert.ok(
          Object.is(sk.quantile(q), ref.quantile(q)),
          `seed ${seed}: q ${q}`,
        );
      }
    } finally {
      sk.free();
    }
  }
  // The generator must reach the interesting paths.
  assert.ok(collapsed > 200, `only ${collapsed} cases collapsed`);
  assert.ok(
    fractional > 200,
    `only ${fractional} cases had fractional weights`,
  );
});

Deno.test("ddsketch: merges match the reference and the sketch of the union", () => {
  for (let seed = 1; seed <= 600; seed++) {
    const r = new Prng(10_000 + seed);
    const alpha = randomAlpha(r);
    const binsA = randomBins(r);
    const binsB = r.float() < 0.5 ? binsA : randomBins(r);
    const a = DDSketch.create(engine, alpha, binsA);
    const b = DDSketch.create(engine, alpha, binsB);
    const union = DDSketch.create(engine, alpha, binsA);
    const refA = new RefDDSketch(alpha, binsA);
    const refB = new RefDDSketch(alpha, binsB);
    try {
      const va = Float64Array.from(
        { length: r.int(0, 2000) },
        () => randomValue(r, alpha),
      );
      const vb = Float64Array.from(
        { length: r.int(0, 2000) },
        () => randomValue(r, alpha),
      );
      a.addMany(va);
      refA.addMany(va);
      b.addMany(vb);
      refB.addMany(vb);
      union.addMany(va);
      union.addMany(vb);
      a.merge(b);
      refA.merge(refB);
      const ctx = `seed ${10_000 + seed} alpha ${alpha} bins ${binsA}/${binsB}`;
      assertSame(a, refA, ctx);
      assertSame(b, refB, `${ctx} (source unchanged)`);
      // Merged == union (when the source keeps at least as many bins):
      // identical header fields, stores and quantiles; only the sum may
      // differ in its last bits (different addition order).
      if (binsB >= binsA) {
        const m = a.serialize();
        const u = union.serialize();
        assert.deepEqual(
          m.subarray(0, 24),
          u.subarray(0, 24),
          `${ctx}: header`,
        );
        assert.deepEqual(
          m.subarray(32, 56),
          u.subarray(32, 56),
          `${ctx}: min/max/zero`,
        );
        assert.deepEqual(
          m.subarray(56, m.length - 4),
          u.subarray(56, u.length - 4),
          `${ctx}: stores`,
        );
        for (const q of QS) {
          assert.ok(
            Object.is(a.quantile(q), union.quantile(q)),
            `${ctx}: union q ${q}`,
          );
        }
        let magnitude = 0;
        for (const v of [...va, ...vb]) {
          if (Number.isFinite(v)) magnitude += Math.abs(v);
        }
        if (Number.isFinite(a.sum) && Number.isFinite(union.sum)) {
          assert.ok(
            Math.abs(a.sum - union.sum) <= 1e-9 * magnitude,
            `${ctx}: sum`,
          );
        }
      }
      // Self-merge doubles every count.
      if (seed % 10 === 0) {
        a.merge(a);
        refA.merge(refA);
        assertSame(a, refA, `${ctx} (self-merge)`);
      }
    } finally {
      a.free();
      b.free();
      union.free();
    }
  }
});
