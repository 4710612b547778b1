// The TypeScript API of the agg kernel: aggregateBuckets and the streaming
// BucketAggregator against the reference, errors, and memory ownership.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { EngineError, ERR_ARG, ERR_CAPACITY } from "../src/bindings/errors.ts";
import {
  aggregateBuckets,
  BUCKET_FIELDS,
  type BucketAggregates,
  BucketAggregator,
  bucketCount,
} from "../src/bindings/agg.ts";
import { referenceAggregate } from "../src/reference/agg.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

function assertSame(
  got: BucketAggregates,
  want: BucketAggregates,
  what: string,
) {
  assert.equal(got.length, want.length, `${what}: length`);
  assert.deepEqual(
    [got.start, got.end, got.step],
    [want.start, want.end, want.step],
  );
  for (const f of BUCKET_FIELDS) {
    assert.equal(got[f].length, want.length, `${what}: ${f} length`);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[f][i], want[f][i])) {
        assert.fail(`${what}: ${f}[${i}] ${got[f][i]} vs ${want[f][i]}`);
      }
    }
  }
}

/** A scraped counter: 15 s interval with jitter, resets, stale markers. */
function series(seed: number, len: number) {
  const r = new Prng(seed);
  const ts = new Float64Array(len);
  const values = new Float64Array(len);
  const bits = new BigUint64Array(values.buffer);
  let t = 1_700_000_000_000;
  let c = 0;
  for (let i = 0; i < len; i++) {
    t += 15000 + r.int(-500, 500);
    ts[i] = t;
    c = r.int(0, 2000) === 0 ? r.int(0, 10) : c + r.int(0, 50);
    values[i] = c;
    if (r.int(0, 1000) === 0) bits[i] = 0x7ff0000000000002n;
  }
  return { ts, values };
}

const sumOf = (a: Float64Array) => a.reduce((x, y) => x + y, 0);

Deno.test("agg bindings: aggregateBuckets matches the reference (multi-chunk input)", () => {
  for (const [seed, len] of [[1, 0], [2, 1], [3, 1000], [4, 70000]]) {
    const { ts, values } = series(seed, len);
    const t0 = len ? ts[0] : 0;
    for (const step of [1000, 60000, 3600000]) {
      const start = t0 + 7 * step + 123;
      const end = start + 500 * step + 1;
      assertSame(
        aggregateBuckets(engine, ts, values, start, end, step),
        referenceAggregate(ts, values, start, end, step),
        `seed ${seed} len ${len} step ${step}`,
      );
    }
  }
});

Deno.test("agg bindings: BucketAggregator fed in pieces equals one call", () => {
  let nonEmpty = 0;
  for (let k = 0; k < 30; k++) {
    const seed = 100 + k;
    const r = new Prng(seed);
    const { ts, values } = series(seed, r.int(0, 40000));
    const start = (ts[0] || 0) + r.int(-1e6, 1e6);
    const step = r.pick([15000, 60000, 300000]);
    const end = start + r.int(0, 3000) * step;
    using agg = BucketAggregator.create(engine, start, end, step);
    assert.equal(agg.length, Math.ceil((end - start) / step));
    for (let at = 0; at < ts.length;) {
      const to = Math.min(ts.length, at + r.pick([1, 17, 1000, 20000]));
      agg.feed(ts.subarray(at, to), values.subarray(at, to));
      at = to;
    }
    const got = agg.result();
    nonEmpty += sumOf(got.count) > 0 ? 1 : 0;
    assertSame(
      got,
      referenceAggregate(ts, values, start, end, step),
      `seed ${seed}`,
    );
  }
  assert.ok(nonEmpty > 15, `cases with data: ${nonEmpty}`);
});

Deno.test("agg bindings: results survive engine memory growth", () => {
  const { ts, values } = series(7, 5000);
  const agg = BucketAggregator.create(engine, ts[0], ts[4999] + 1, 60000);
  agg.feed(ts.subarray(0, 2500), values.subarray(0, 2500));
  const big = engine.alloc(64 << 20); // grows memory, detaching old views
  agg.feed(ts.subarray(2500), values.subarray(2500));
  assertSame(
    agg.result(),
    referenceAggregate(ts, values, ts[0], ts[4999] + 1, 60000),
    "after growth",
  );
  engine.free(big);
  agg.free();
});

Deno.test("agg bindings: errors", () => {
  const isCode = (code: number) => (e: unknown) =>
    e instanceof EngineError && e.code === code;
  assert.throws(() => bucketCount(engine, 0, 10, 0), isCode(ERR_ARG));
  assert.equal(bucketCount(engine, 0, 10, 3), 4);
  assert.throws(
    () => BucketAggregator.create(engine, 0, 10, 1.5),
    isCode(ERR_ARG),
  );
  assert.throws(
    () => BucketAggregator.create(engine, 0, 1e15, 1),
    isCode(ERR_CAPACITY),
  );
  const one = new Float64Array([1]);
  assert.throws(
    () => aggregateBuckets(engine, one, new Float64Array(2), 0, 10, 1),
    isCode(ERR_ARG),
  );
  assert.throws(
    () =>
      aggregateBuckets(
        engine,
        new Float64Array([2, 1]),
        new Float64Array(2),
        0,
        10,
        1,
      ),
    isCode(ERR_ARG),
  );
  const agg = BucketAggregator.create(engine, 0, 10, 1);
  agg.feed(new Float64Array([5]), new Float64Array([1]));
  assert.throws(
    () => agg.feed(new Float64Array([4]), new Float64Array([1])),
    isCode(ERR_ARG),
  );
  assert.throws( // stays failed
    () => agg.feed(new Float64Array([6]), new Float64Array([1])),
    isCode(ERR_ARG),
  );
  agg.free();
  assert.throws(() => agg.result(), /after free/);
  agg.free(); // idempotent
});

Deno.test("agg bindings: create/free cycles do not leak engine memory", () => {
  const { ts, values } = series(9, 20000);
  const [start, end] = [ts[0], ts[19999]];
  const run = () => {
    using agg = BucketAggregator.create(engine, start, end, 60000);
    agg.feed(ts, values);
    return sumOf(agg.result().count);
  };
  const want = sumOf(referenceAggregate(ts, values, start, end, 60000).count);
  assert.equal(run(), want);
  const size = engine.raw.memory.buffer.byteLength;
  for (let i = 0; i < 300; i++) assert.equal(run(), want);
  assert.equal(engine.raw.memory.buffer.byteLength, size);
});
