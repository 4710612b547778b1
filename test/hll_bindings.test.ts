// The TypeScript API over the engine (src/bindings/hll.ts), checked against
// the reference implementation and against the documented error behaviour.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import {
  EngineError,
  ERR_ARG,
  ERR_FORMAT,
  ERR_TRUNCATED,
} from "../src/bindings/errors.ts";
import { HyperLogLog } from "../src/bindings/hll.ts";
import { ReferenceHll } from "../src/reference/hll.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

function assertEngineError(fn: () => unknown, code: number): void {
  assert.throws(fn, (e) => e instanceof EngineError && e.code === code);
}

Deno.test("a string and its UTF-8 bytes are the same value; numbers are not strings", () => {
  using sketch = HyperLogLog.create(engine);
  const ref = new ReferenceHll();
  sketch.add("héllo");
  sketch.add(new TextEncoder().encode("héllo"));
  sketch.add("héllo");
  ref.addString("héllo");
  assert.deepEqual(sketch.registers(), ref.registers);
  assert.equal(Math.round(sketch.estimate()), 1);
  sketch.add(1);
  sketch.add("1");
  sketch.add(1);
  assert.equal(Math.round(sketch.estimate()), 3);
});

Deno.test("-0 counts as 0 and every NaN counts as one value", () => {
  using sketch = HyperLogLog.create(engine);
  const values = new Float64Array(6);
  const bits = new BigUint64Array(values.buffer);
  values[0] = 0;
  values[1] = -0;
  bits[2] = 0x7ff8000000000000n; // canonical NaN
  bits[3] = 0xfff8000000000000n; // negative NaN
  bits[4] = 0x7ff0000000000001n; // signalling NaN
  bits[5] = 0x7fffffffffffffffn; // NaN with a full payload
  sketch.addNumbers(values);
  sketch.add(-0);
  sketch.add(NaN);
  const ref = new ReferenceHll();
  ref.addNumber(0);
  ref.addNumber(NaN);
  assert.deepEqual(sketch.registers(), ref.registers);
  assert.equal(Math.round(sketch.estimate()), 2);
  sketch.addNumbers([1, 2, 2, 1]);
  assert.equal(Math.round(sketch.estimate()), 4);
});

Deno.test("addStrings over several batches (many, long and empty strings) equals the reference", () => {
  const seed = 42;
  const rng = new Prng(seed);
  const values: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const r = rng.float();
    if (r < 0.05) values.push("");
    else if (r < 0.06) values.push("ω".repeat(rng.int(1000, 20_000)));
    else values.push(`k${rng.int(0, 30_000)}-🙂`);
  }
  values.push("x".repeat(1_500_000)); // larger than one batch on its own
  using batch = HyperLogLog.create(engine, 12);
  using single = HyperLogLog.create(engine, 12);
  const ref = new ReferenceHll(12);
  batch.addStrings(values);
  for (const v of values) {
    single.add(v);
    ref.addString(v);
  }
  assert.deepEqual(batch.registers(), ref.registers, `seed ${seed}`);
  assert.deepEqual(single.registers(), ref.registers, `seed ${seed}`);
  assert.equal(batch.estimate(), ref.estimate());
});

Deno.test("addHashes takes signed and unsigned 64-bit arrays", () => {
  const seed = 7;
  const rng = new Prng(seed);
  const unsigned = new BigUint64Array(70_000);
  for (let i = 0; i < unsigned.length; i++) {
    unsigned[i] = BigInt.asUintN(64, rng.i64());
  }
  using a = HyperLogLog.create(engine, 10);
  using b = HyperLogLog.create(engine, 10);
  a.addHashes(unsigned);
  b.addHashes(new BigInt64Array(unsigned.buffer));
  const ref = new ReferenceHll(10);
  unsigned.forEach((h) => ref.addHash(h));
  assert.deepEqual(a.registers(), ref.registers, `seed ${seed}`);
  assert.deepEqual(b.registers(), ref.registers, `seed ${seed}`);
});

Deno.test("serialize and deserialize round-trip precision, registers and estimate", () => {
  for (const p of [4, 9, 14, 18]) {
    using sketch = HyperLogLog.create(engine, p);
    sketch.addNumbers(new Float64Array(5000).map((_, i) => i * 0.5));
    using back = HyperLogLog.deserialize(engine, sketch.serialize());
    assert.equal(back.precision, p);
    assert.deepEqual(back.registers(), sketch.registers(), `p ${p}`);
    assert.equal(back.estimate(), sketch.estimate(), `p ${p}`);
  }
});

Deno.test("invalid blobs, precisions and merges throw EngineError", () => {
  assertEngineError(
    () => HyperLogLog.deserialize(engine, new Uint8Array([1, 2, 3])),
    ERR_FORMAT,
  );
  using sketch = HyperLogLog.create(engine, 8);
  const blob = sketch.serialize();
  assertEngineError(
    () => HyperLogLog.deserialize(engine, blob.subarray(0, 6)),
    ERR_TRUNCATED,
  );
  assertEngineError(() => HyperLogLog.create(engine, 3), ERR_ARG);
  assertEngineError(() => HyperLogLog.create(engine, 19), ERR_ARG);
  assertEngineError(() => HyperLogLog.create(engine, 10.5), ERR_ARG);
  using fine = HyperLogLog.create(engine, 12);
  assertEngineError(() => fine.merge(sketch), ERR_ARG);
  sketch.merge(fine); // a finer sketch folds into a coarser one
});

Deno.test("merge folds a finer sketch exactly like adding at the coarser precision", () => {
  using coarse = HyperLogLog.create(engine, 10);
  using fine = HyperLogLog.create(engine, 16);
  const values = Array.from({ length: 20_000 }, (_, i) => `v${i}`);
  fine.addStrings(values);
  coarse.merge(fine);
  const ref = new ReferenceHll(10);
  values.forEach((v) => ref.addString(v));
  assert.deepEqual(coarse.registers(), ref.registers);
});

Deno.test("clear empties; free is idempotent and use after free throws", () => {
  const sketch = HyperLogLog.create(engine);
  sketch.addStrings(["a", "b"]);
  sketch.clear();
  assert.equal(sketch.estimate(), 0);
  assert.deepEqual(sketch.registers(), new Uint8Array(1 << 14));
  sketch.free();
  sketch.free();
  assertEngineError(() => sketch.estimate(), ERR_ARG);
  assertEngineError(() => sketch.add("a"), ERR_ARG);
});

Deno.test("sketches are released: creating and freeing many does not grow memory", () => {
  for (let i = 0; i < 50; i++) HyperLogLog.create(engine, 18).free();
  const before = engine.raw.memory.buffer.byteLength;
  for (let i = 0; i < 500; i++) {
    using s = HyperLogLog.create(engine, 18);
    s.add(i);
  }
  assert.equal(engine.raw.memory.buffer.byteLength, before);
});

Deno.test("merge across engines is refused", async () => {
  const other = await loadEngine();
  using a = HyperLogLog.create(engine);
  using b = HyperLogLog.create(other);
  assertEngineError(() => a.merge(b), ERR_ARG);
});
