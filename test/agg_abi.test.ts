// The raw ABI of the agg kernel: argument and pointer checks, capacity,
// aliasing, state validation and poisoning, NaN bits, and that a corrupted
// state never traps or writes outside the output.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { ERR_ARG, ERR_BOUNDS, ERR_CAPACITY } from "../src/bindings/errors.ts";
import { referenceAggregate } from "../src/reference/agg.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const raw = engine.raw;
const STATE_SIZE = 128;

function put(a: ArrayLike<number>): number {
  const p = engine.alloc(Math.max(8, a.length * 8));
  engine.f64.set(a, p >>> 3);
  return p;
}
const memEnd = () => engine.raw.memory.buffer.byteLength;

Deno.test("agg abi: state size and bucket count", () => {
  assert.equal(raw.agg_state_size(), STATE_SIZE);
  assert.equal(raw.agg_bucket_count(0, 30, 10), 3);
  assert.equal(raw.agg_bucket_count(0, 31, 10), 4);
  assert.equal(raw.agg_bucket_count(7, 7, 1), 0);
  assert.equal(raw.agg_bucket_count(0, 2 ** 53 - 1, 1), 2 ** 53 - 1);
  assert.equal(raw.agg_bucket_count(-5, 5, 3), 4);
  for (
    const [s, e, st] of [
      [0, 10, 0],
      [0, 10, 0.5],
      [10, 0, 1],
      [NaN, 1, 1],
      [0, 2 ** 53, 1],
      [-(2 ** 53 - 1), 2 ** 53 - 1, 1],
    ]
  ) {
    assert.equal(raw.agg_bucket_count(s, e, st), ERR_ARG, `${s} ${e} ${st}`);
  }
});

Deno.test("agg abi: agg_buckets argument, capacity and bounds checks", () => {
  const ts = put([1, 2, 3]);
  const vs = put([1, 2, 3]);
  const out = engine.alloc(7 * 8 * 4);
  try {
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 4, 1, out, 4), 4);
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 4, 1, out, 3), ERR_CAPACITY);
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 1e15, 1, 0, 0), ERR_CAPACITY);
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 4, 1, out, -1), ERR_ARG);
    assert.equal(raw.agg_buckets(ts, vs, -1, 0, 4, 1, out, 4), ERR_ARG);
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 4, 0, out, 4), ERR_ARG);
    // Pointers reaching outside memory.
    const end = memEnd();
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 4, 1, end - 8, 4), ERR_BOUNDS);
    assert.equal(
      raw.agg_buckets(ts, vs, 3, 0, 4, 1, out, 0x7fffffff),
      ERR_BOUNDS,
    );
    assert.equal(raw.agg_buckets(end - 16, vs, 3, 0, 4, 1, out, 4), ERR_BOUNDS);
    assert.equal(raw.agg_buckets(ts, end - 16, 3, 0, 4, 1, out, 4), ERR_BOUNDS);
    assert.equal(
      raw.agg_buckets(ts, vs, 0x7fffffff, 0, 4, 1, out, 4),
      ERR_BOUNDS,
    );
    assert.equal(
      raw.agg_buckets(0xfffffff8, vs, 1, 0, 4, 1, out, 4),
      ERR_BOUNDS,
    );
    // Output aliasing an input.
    assert.equal(raw.agg_buckets(out, vs, 3, 0, 4, 1, out, 4), ERR_ARG);
    assert.equal(raw.agg_buckets(ts, out + 8, 3, 0, 4, 1, out, 4), ERR_ARG);
    // Buffers exactly at the end of memory are fine. (A page of its own,
    // which the allocator does not know about: it grows from the new end.)
    engine.raw.memory.grow(1);
    const tail = memEnd() - 24;
    engine.f64.set([1, 2, 3], tail >>> 3);
    assert.equal(raw.agg_buckets(tail, tail, 3, 0, 4, 1, out, 4), 4);
    assert.equal(raw.agg_buckets(ts, vs, 0, 0, 4, 1, out, 4), 4);
  } finally {
    engine.free(ts);
    engine.free(vs);
    engine.free(out);
  }
});

Deno.test("agg abi: output layout is struct of arrays; slots past n untouched", () => {
  const cap = 5;
  const ts = put([0, 10, 11]);
  const vs = put([4, 6, 1]);
  const out = engine.alloc(7 * 8 * cap);
  try {
    engine.f64.fill(-123, out >>> 3, (out >>> 3) + 7 * cap);
    assert.equal(raw.agg_buckets(ts, vs, 3, 0, 20, 10, out, cap), 2);
    const f = engine.f64;
    const row = (k: number) =>
      Array.from(
        f.subarray((out >>> 3) + k * cap, (out >>> 3) + (k + 1) * cap),
      );
    assert.deepEqual(row(0), [1, 2, -123, -123, -123]); // count
    assert.deepEqual(row(1), [4, 7, -123, -123, -123]); // sum
    assert.deepEqual(row(2), [4, 1, -123, -123, -123]); // min
    assert.deepEqual(row(3), [4, 6, -123, -123, -123]); // max
    assert.deepEqual(row(4), [4, 6, -123, -123, -123]); // first
    assert.deepEqual(row(5), [4, 1, -123, -123, -123]); // last
    assert.deepEqual(row(6), [0, 3, -123, -123, -123]); // increase: 2, reset 1
  } finally {
    engine.free(ts);
    engine.free(vs);
    engine.free(out);
  }
});

Deno.test("agg abi: first/last keep a NaN's payload bits", () => {
  const ts = put([0, 1]);
  const vs = engine.alloc(16);
  const out = engine.alloc(7 * 8);
  try {
    const bits = new BigUint64Array(engine.raw.memory.buffer);
    bits[vs >>> 3] = 0x7ff8000000000123n;
    bits[(vs >>> 3) + 1] = 0xfff8000000000456n;
    assert.equal(raw.agg_buckets(ts, vs, 2, 0, 1, 1, out, 1), 1);
    assert.equal(raw.agg_buckets(ts, vs, 2, 0, 2, 2, out, 1), 1);
    const o = new BigUint64Array(engine.raw.memory.buffer, out, 7);
    assert.equal(o[4], 0x7ff8000000000123n, "first");
    assert.equal(o[5], 0xfff8000000000456n, "last");
  } finally {
    engine.free(ts);
    engine.free(vs);
    engine.free(out);
  }
});

Deno.test("agg abi: streaming state checks and poisoning", () => {
  const state = engine.alloc(STATE_SIZE);
  const out = engine.alloc(7 * 8 * 10);
  const a = put([1, 2, 3]);
  const b = put([2, 5]);
  try {
    engine.u8.fill(0, state, state + STATE_SIZE);
    assert.equal(raw.agg_feed(state, a, a, 3), ERR_ARG, "uninitialised");
    assert.equal(raw.agg_init(state, 0, 10, 1, out, 10), 10);
    assert.equal(raw.agg_init(state, 0, 10, 1, state + 8, 10), ERR_ARG);
    assert.equal(raw.agg_init(memEnd() - 64, 0, 10, 1, out, 10), ERR_BOUNDS);
    assert.equal(raw.agg_init(state, 0, 10, 1, out, 10), 10);
    assert.equal(raw.agg_feed(state, a, a, 3), 10);
    assert.equal(raw.agg_feed(state, out, a, 1), ERR_ARG, "input aliases out");
    assert.equal(raw.agg_feed(state, a, state, 1), ERR_ARG, "aliases state");
    assert.equal(raw.agg_feed(state, a, a, -3), ERR_ARG);
    assert.equal(raw.agg_feed(memEnd() - 8, a, a, 3), ERR_BOUNDS);
    // Equal timestamps across feeds are fine; going back is not.
    assert.equal(raw.agg_feed(state, a + 16, a + 16, 1), 10);
    assert.equal(raw.agg_feed(state, b, b, 2), ERR_ARG, "2 < 3");
    assert.equal(raw.agg_feed(state, a + 16, a + 16, 0), ERR_ARG, "poisoned");
    assert.equal(raw.agg_init(state, 0, 10, 1, out, 10), 10, "re-init");
    assert.equal(raw.agg_feed(state, b, b, 2), 10);
  } finally {
    for (const p of [state, out, a, b]) engine.free(p);
  }
});

Deno.test("agg abi: a corrupted state gives errors, never traps or strays", () => {
  const cap = 8;
  const guard = 64; // bytes watched on each side of the output
  const region = engine.alloc(guard + 7 * 8 * cap + guard);
  const out = region + guard;
  const state = engine.alloc(STATE_SIZE);
  const r = new Prng(0xc0ffee);
  let errors = 0;
  for (let k = 0; k < 2000; k++) {
    const seed = 0xc0ffee + k;
    const p = new Prng(seed);
    const len = p.int(0, 30);
    const ts = put(
      Array.from({ length: len }, (_, i) => i * 3 - 10).sort((x, y) => x - y),
    );
    const vs = put(Array.from({ length: len }, () => p.int(0, 5)));
    engine.u8.fill(0xa5, region, region + guard);
    engine.u8.fill(0xa5, out + 7 * 8 * cap, out + 7 * 8 * cap + guard);
    assert.equal(raw.agg_init(state, -5, 50, 7, out, cap), 8);
    raw.agg_feed(state, ts, vs, len >> 1);
    // Overwrite a few random bytes (or a whole field with a chosen value).
    // Not the output pointer and capacity (bytes 8..15): those are trusted
    // as far as memory bounds go (a test below), and a changed pointer would
    // legitimately move the writes (into the allocator's own data here).
    const fieldOffsets = [
      0,
      4,
      ...Array.from({ length: 14 }, (_, i) => 16 + i * 8),
    ];
    const u8 = engine.u8;
    if (p.int(0, 1) === 0) {
      for (let j = p.int(1, 3); j > 0; j--) {
        let off = p.int(0, STATE_SIZE - 9);
        if (off >= 8) off += 8;
        u8[state + off] = p.int(0, 255);
      }
    } else {
      const off = p.pick(fieldOffsets);
      if (off === 0 || off === 4) engine.u32[(state + off) >>> 2] = p.u32();
      else if (off === 16) {
        engine.i32[(state + 16 + 4 * p.int(0, 1)) >>> 2] = p.pick([
          -2,
          -1,
          0,
          7,
          8,
          2 ** 31 - 1,
        ]);
      } else {
        engine.f64[(state + off) >>> 3] = r.pick([
          -1,
          1e300,
          NaN,
          2 ** 31,
          -(2 ** 53),
          0.5,
          100,
          Infinity,
        ]);
      }
    }
    let result = 0;
    try {
      result = raw.agg_feed(
        state,
        ts + (len >> 1) * 8,
        vs + (len >> 1) * 8,
        len - (len >> 1),
      );
    } catch (e) {
      assert.fail(`seed ${seed}: agg_feed trapped: ${e}`);
    }
    if (result < 0) errors++;
    engine.free(ts);
    engine.free(vs);
    const u = engine.u8;
    for (let i = 0; i < guard; i++) {
      assert.equal(u[region + i], 0xa5, `seed ${seed}: wrote before output`);
      assert.equal(
        u[out + 7 * 8 * cap + i],
        0xa5,
        `seed ${seed}: wrote after output`,
      );
    }
  }
  assert.ok(errors > 500, `corruptions detected: ${errors}`);
  engine.free(state);
  engine.free(region);
});

Deno.test("agg abi: the output is complete after every feed", () => {
  for (let k = 0; k < 200; k++) {
    const seed = 0xabc00 + k;
    const p = new Prng(seed);
    const len = p.int(1, 60);
    const tsA = new Float64Array(len).map(() => p.int(-20, 120)).sort();
    const vsA = new Float64Array(len).map(() => p.int(0, 9));
    const [start, end, step] = [0, p.int(0, 100), p.pick([1, 7, 30])];
    const cap = Math.ceil(end / step);
    const state = engine.alloc(STATE_SIZE);
    const out = engine.alloc(Math.max(8, 56 * cap));
    assert.equal(raw.agg_init(state, start, end, step, out, cap), cap);
    for (let at = 0; at < len;) {
      const to = Math.min(len, at + p.int(1, 10));
      const ts = put(tsA.subarray(at, to));
      const vs = put(vsA.subarray(at, to));
      assert.equal(raw.agg_feed(state, ts, vs, to - at), cap);
      engine.free(ts);
      engine.free(vs);
      at = to;
      const want = referenceAggregate(
        tsA.subarray(0, to),
        vsA.subarray(0, to),
        start,
        end,
        step,
      );
      const f = engine.f64;
      const fields = [
        want.count,
        want.sum,
        want.min,
        want.max,
        want.first,
        want.last,
        want.increase,
      ];
      fields.forEach((w, j) => {
        for (let i = 0; i < cap; i++) {
          const g = f[(out >>> 3) + j * cap + i];
          assert.ok(
            Object.is(g, w[i]),
            `seed ${seed}: field ${j} bucket ${i} after ${to}: ${g} vs ${w[i]}`,
          );
        }
      });
    }
    engine.free(state);
    engine.free(out);
  }
});

Deno.test("agg abi: a state whose output left memory gives ERR_BOUNDS", () => {
  const state = engine.alloc(STATE_SIZE);
  const out = engine.alloc(7 * 8 * 4);
  const ts = put([1, 2]);
  try {
    assert.equal(raw.agg_init(state, 0, 4, 1, out, 4), 4);
    engine.u32[(state + 8) >>> 2] = memEnd() - 8; // output pointer
    assert.equal(raw.agg_feed(state, ts, ts, 2), ERR_BOUNDS);
    engine.u32[(state + 8) >>> 2] = out;
    engine.u32[(state + 12) >>> 2] = 0x7fffffff; // capacity
    assert.equal(raw.agg_feed(state, ts, ts, 2), ERR_BOUNDS);
    engine.u32[(state + 12) >>> 2] = 3; // capacity below the bucket count
    assert.equal(raw.agg_feed(state, ts, ts, 2), ERR_ARG);
    engine.u32[(state + 12) >>> 2] = 4;
    assert.equal(raw.agg_feed(state, ts, ts, 2), 4);
  } finally {
    engine.free(state);
    engine.free(out);
    engine.free(ts);
  }
});
