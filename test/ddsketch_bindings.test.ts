// The DDSketch bindings and the raw ABI: argument checks, error codes,
// special values, chunked batches, lifetime and memory reuse.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { DDSketch } from "../src/bindings/ddsketch.ts";
import {
  EngineError,
  ERR_ARG,
  ERR_BOUNDS,
  ERR_CAPACITY,
} from "../src/bindings/errors.ts";
import { RefDDSketch } from "../src/reference/ddsketch.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

function isCode(code: number) {
  return (e: unknown) => e instanceof EngineError && e.code === code;
}

Deno.test("ddsketch bindings: defaults and argument checks", () => {
  using sk = DDSketch.create(engine);
  assert.equal(sk.alpha, 0.01);
  assert.equal(sk.maxBins, 4096);
  for (const alpha of [0, -0.01, 0.6, NaN, 1e-7, Infinity]) {
    assert.throws(
      () => DDSketch.create(engine, alpha),
      isCode(ERR_ARG),
      `alpha ${alpha}`,
    );
  }
  for (const bins of [0, 15, 65536, -1]) {
    assert.throws(
      () => DDSketch.create(engine, 0.01, bins),
      isCode(ERR_ARG),
      `bins ${bins}`,
    );
  }
  using edge = DDSketch.create(engine, 1e-6, 16);
  edge.add(1);
  assert.equal(edge.count, 1);
  for (const q of [-0.1, 1.1, NaN]) {
    assert.throws(() => sk.quantile(q), isCode(ERR_ARG), `q ${q}`);
  }
  for (const w of [0, -1, NaN, Infinity, 2 ** 53 + 2]) {
    assert.throws(() => sk.addWeighted(1, w), isCode(ERR_ARG), `w ${w}`);
  }
});

Deno.test("ddsketch bindings: empty sketch, NaN and infinities", () => {
  using sk = DDSketch.create(engine);
  assert.ok(Number.isNaN(sk.quantile(0.5)));
  assert.equal(sk.count, 0);
  assert.equal(sk.sum, 0);
  assert.ok(Number.isNaN(sk.min));
  assert.ok(Number.isNaN(sk.max));
  sk.add(NaN);
  sk.add(Infinity);
  sk.addWeighted(-Infinity, 3);
  assert.equal(sk.addMany([NaN, 1, Infinity, -Infinity, 2]), 2);
  assert.equal(sk.count, 2);
  assert.equal(sk.sum, 3);
  assert.equal(sk.min, 1);
  assert.equal(sk.max, 2);
});

Deno.test("ddsketch bindings: zero bucket holds zeros and subnormals", () => {
  using sk = DDSketch.create(engine);
  sk.addMany([0, -0, 5e-324, -1e-310, 2.2250738585072014e-308]);
  assert.equal(sk.zeroCount, 4); // 2^-1022 itself is the first indexable value
  assert.equal(sk.count, 5);
  assert.equal(sk.quantile(0), 0); // the zero bucket stands for 0
  assert.equal(sk.quantile(0.5), 0);
  assert.ok(
    Math.abs(sk.quantile(1) - 2.2250738585072014e-308) <=
      0.01 * 2.2250738585072014e-308,
  );
});

Deno.test("ddsketch bindings: weights, exact min/max and simple quantiles", () => {
  using sk = DDSketch.create(engine, 0.01);
  sk.addWeighted(10, 99);
  sk.add(1000);
  // A bin's value is clamped into [min, max]: a lone 1e-300 comes back exact.
  using lone = DDSketch.create(engine, 0.05);
  lone.add(1e-300);
  assert.equal(lone.quantile(0.5), 1e-300);
  assert.equal(sk.count, 100);
  assert.equal(sk.sum, 1990);
  // rank q * 99: every q < 1 lands in the weight-99 bin of 10.
  assert.ok(Math.abs(sk.quantile(0.99) - 10) <= 0.1);
  assert.ok(Math.abs(sk.quantile(1) - 1000) <= 10);
  assert.equal(sk.min, 10);
  assert.equal(sk.max, 1000);
});

Deno.test("ddsketch bindings: batches larger than one chunk match the reference", () => {
  const seed = 12;
  const r = new Prng(seed);
  const n = 200_003; // more than three 64Ki chunks
  const data = Float64Array.from({ length: n }, () => r.normal() * 100);
  using sk = DDSketch.create(engine, 0.02);
  const ref = new RefDDSketch(0.02);
  assert.equal(sk.addMany(data), n);
  ref.addMany(data);
  assert.deepEqual(sk.serialize(), ref.serialize(), `seed ${seed}`);
  // Plain arrays are accepted too.
  using small = DDSketch.create(engine, 0.02);
  small.addMany([...data.subarray(0, 1000)]);
  const refSmall = new RefDDSketch(0.02);
  refSmall.addMany(data.subarray(0, 1000));
  assert.deepEqual(small.serialize(), refSmall.serialize());
});

Deno.test("ddsketch bindings: merge checks", async () => {
  using a = DDSketch.create(engine, 0.01);
  using b = DDSketch.create(engine, 0.02);
  assert.throws(() => a.merge(b), isCode(ERR_ARG));
  const other = await loadEngine();
  using c = DDSketch.create(other, 0.01);
  assert.throws(() => a.merge(c), isCode(ERR_ARG));
  using d = DDSketch.create(engine, 0.01, 64);
  d.addMany([1, 2, 3]);
  a.merge(d);
  assert.equal(a.count, 3);
  assert.equal(d.count, 3);
});

Deno.test("ddsketch bindings: freed sketches refuse every call", () => {
  const sk = DDSketch.create(engine);
  sk.add(1);
  sk.free();
  sk.free(); // idempotent
  assert.equal(sk.handle, 0);
  assert.throws(() => sk.add(1), isCode(ERR_ARG));
  assert.throws(() => sk.addMany([1]), isCode(ERR_ARG));
  assert.throws(() => sk.quantile(0.5), isCode(ERR_ARG));
  assert.throws(() => sk.count, isCode(ERR_ARG));
  assert.throws(() => sk.serialize(), isCode(ERR_ARG));
  using live = DDSketch.create(engine);
  assert.throws(() => live.merge(sk), isCode(ERR_ARG));
});

Deno.test("ddsketch raw ABI: bad handles and pointers give error codes", () => {
  const raw = engine.raw;
  const memBytes = engine.u8.length;
  for (const h of [0, 1, 8, 16, 4096, memBytes - 16, memBytes, 0x7ffffff0]) {
    assert.equal(raw.ddsk_add(h, 1), ERR_ARG, `handle ${h}`);
    assert.equal(raw.ddsk_add_many(h, 0, 0), ERR_ARG, `handle ${h}`);
    assert.equal(raw.ddsk_merge(h, h), ERR_ARG, `handle ${h}`);
    assert.equal(raw.ddsk_free(h), ERR_ARG, `handle ${h}`);
    assert.equal(raw.ddsk_serialized_size(h), ERR_ARG, `handle ${h}`);
    assert.ok(Number.isNaN(raw.ddsk_quantile(h, 0.5)), `handle ${h}`);
    assert.ok(Number.isNaN(raw.ddsk_count(h)), `handle ${h}`);
  }
  using sk = DDSketch.create(engine);
  sk.addMany([1, 2, 3]);
  const h = sk.handle;
  const size = raw.ddsk_serialized_size(h);
  const end = engine.u8.length;
  assert.equal(raw.ddsk_add_many(h, end - 8, 2), ERR_BOUNDS);
  assert.equal(raw.ddsk_add_many(h, 0, 0x7fffffff), ERR_BOUNDS);
  assert.equal(raw.ddsk_add_many(h, 0x20000000 * 7, 0x20000001), ERR_BOUNDS);
  assert.equal(raw.ddsk_add_many(h, 0, -1), ERR_ARG);
  assert.equal(raw.ddsk_serialize(h, end - 4, size), ERR_BOUNDS);
  const out = engine.alloc(size);
  assert.equal(raw.ddsk_serialize(h, out, size - 1), ERR_CAPACITY);
  assert.equal(raw.ddsk_serialize(h, out, size), size);
  engine.free(out);
  assert.equal(raw.ddsk_deserialize(end - 10, 100), ERR_BOUNDS);
  assert.equal(raw.ddsk_deserialize(0, -1), ERR_ARG);
  assert.equal(sk.count, 3, "failed calls leave the sketch unchanged");
});

Deno.test("ddsketch bindings: freed memory is reused (no leak)", () => {
  const r = new Prng(3);
  const data = Float64Array.from(
    { length: 50_000 },
    () => (r.float() - 0.3) * 2 ** (r.float() * 100 - 50),
  );
  const round = () => {
    const a = DDSketch.create(engine, 0.01, 2048);
    const b = DDSketch.create(engine, 0.01, 2048);
    a.addMany(data);
    b.addMany(data.subarray(0, 1000));
    b.merge(a);
    const c = DDSketch.deserialize(engine, b.serialize());
    a.free();
    b.free();
    c.free();
  };
  round();
  const before = engine.u8.length;
  for (let i = 0; i < 200; i++) round();
  assert.equal(engine.u8.length, before);
});
