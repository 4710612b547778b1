// Property tests: the WASM kernel (one-shot agg_buckets, and agg_init +
// agg_feed over random splits) against the reference implementation, over
// seeded random and adversarial cases, every output compared bit-exactly
// (Object.is: -0 differs from +0, any NaN equals any NaN).
import assert from "node:assert/strict";
import { type Engine, loadEngine } from "../src/bindings/engine.ts";
import { EngineError } from "../src/bindings/errors.ts";
import { BUCKET_FIELDS } from "../src/bindings/agg.ts";
import type { BucketAggregates } from "../src/bindings/agg.ts";
import { isStaleMarker, referenceAggregate } from "../src/reference/agg.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// Prometheus' stale marker. A NaN's payload does not reliably survive a trip
// through a JS number, so it is written into the arrays through a bit view.
const STALE_BITS = 0x7ff0000000000002n;
/** Sentinel in generated value lists: "put a stale marker here". */
const STALE = Symbol("stale");
/** A quiet NaN with a payload, to check min/max/first/last keep NaN-ness. */
const PAYLOAD_NAN_BITS = 0x7ff8000000000123n;
const PAYLOAD_NAN = Symbol("payload NaN");

interface Case {
  ts: Float64Array;
  values: Float64Array;
  start: number;
  end: number;
  step: number;
  cap: number;
}

type Outcome = { error: number } | BucketAggregates;

function reference(c: Case): Outcome {
  try {
    return referenceAggregate(c.ts, c.values, c.start, c.end, c.step, c.cap);
  } catch (e) {
    if (e instanceof EngineError) return { error: e.code };
    throw e;
  }
}

/** Copies samples into engine memory (bit-exact: same-type TypedArray set). */
function place(e: Engine, a: Float64Array): number {
  const p = e.alloc(Math.max(8, a.length * 8));
  e.f64.set(a, p >>> 3);
  return p;
}

function readOut(e: Engine, out: number, cap: number, n: number, c: Case) {
  const f = e.f64;
  const field = (k: number) =>
    f.slice((out >>> 3) + k * cap, (out >>> 3) + k * cap + n);
  return {
    start: c.start,
    end: c.end,
    step: c.step,
    length: n,
    count: field(0),
    sum: field(1),
    min: field(2),
    max: field(3),
    first: field(4),
    last: field(5),
    increase: field(6),
  };
}

function wasmOneShot(e: Engine, c: Case): Outcome {
  const ts = place(e, c.ts);
  const vs = place(e, c.values);
  const out = e.alloc(Math.max(8, c.cap * 56));
  try {
    const r = e.raw.agg_buckets(
      ts,
      vs,
      c.ts.length,
      c.start,
      c.end,
      c.step,
      out,
      c.cap,
    );
    return r < 0 ? { error: r } : readOut(e, out, c.cap, r, c);
  } finally {
    e.free(ts);
    e.free(vs);
    e.free(out);
  }
}

function wasmStreamed(e: Engine, c: Case, cuts: number[]): Outcome {
  const state = e.alloc(e.raw.agg_state_size());
  const out = e.alloc(Math.max(8, c.cap * 56));
  try {
    let r = e.raw.agg_init(state, c.start, c.end, c.step, out, c.cap);
    if (r < 0) return { error: r };
    let from = 0;
    for (const to of [...cuts, c.ts.length]) {
      const ts = place(e, c.ts.subarray(from, to));
      const vs = place(e, c.values.subarray(from, to));
      r = e.raw.agg_feed(state, ts, vs, to - from);
      e.free(ts);
      e.free(vs);
      if (r < 0) return { error: r };
      from = to;
    }
    return readOut(e, out, c.cap, r, c);
  } finally {
    e.free(state);
    e.free(out);
  }
}

function describe(c: Case): string {
  const pairs = Array.from(c.ts, (t, i) => `${t}:${c.values[i]}`).slice(0, 40);
  return `grid (${c.start}, ${c.end}, ${c.step}) cap ${c.cap} samples ${c.ts.length} [${
    pairs.join(" ")
  }${c.ts.length > 40 ? " ..." : ""}]`;
}

function assertSame(got: Outcome, want: Outcome, what: string): void {
  if ("error" in want || "error" in got) {
    assert.deepEqual(got, want, what);
    return;
  }
  assert.equal(got.length, want.length, `${what}: bucket count`);
  for (const f of BUCKET_FIELDS) {
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[f][i], want[f][i])) {
        assert.fail(
          `${what}: ${f}[${i}] is ${got[f][i]}, reference ${want[f][i]}`,
        );
      }
    }
  }
}

// ---- case generators ---------------------------------------------------

const specials: (number | symbol)[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  STALE,
  STALE,
  PAYLOAD_NAN,
  1e308,
  -1e308,
  5e-324,
];

function setValue(values: Float64Array, i: number, v: number | symbol): void {
  if (typeof v === "number") values[i] = v;
  else {
    new BigUint64Array(values.buffer, values.byteOffset + i * 8, 1)[0] =
      v === STALE ? STALE_BITS : PAYLOAD_NAN_BITS;
  }
}

function randomGrid(r: Prng): Pick<Case, "start" | "end" | "step"> {
  const kind = r.int(0, 19);
  if (kind === 0) { // a bad argument
    const bad = r.pick([NaN, Infinity, -Infinity, 0.5, 1e300, MAX_SAFE + 1]);
    const which = r.int(0, 2);
    const g = { start: 1000, end: 5000, step: 100 };
    if (which === 0) g.start = bad;
    if (which === 1) g.end = bad;
    if (which === 2) g.step = r.pick([bad, 0, -1, -0, -15000]);
    return g;
  }
  if (kind === 1) return { start: 5000, end: r.int(-5, 4999), step: 10 }; // end < start
  if (kind === 2) { // huge coordinates near ±2^53
    const start = r.pick([-MAX_SAFE, MAX_SAFE - 100, -(2 ** 52), 0]);
    const step = r.pick([1, 7, 2 ** 52, MAX_SAFE, 30]);
    const span = r.pick([0, 1, 31, 100, MAX_SAFE - start, MAX_SAFE]);
    return { start, end: start + span, step };
  }
  const step = r.pick([1, 2, 3, 7, 10, 15, 60, 1000, 15000, 2 ** 40]);
  const start = r.int(-1e6, 1e6) * r.pick([1, 1, 1000, 1e6]);
  const n = r.pick([0, 1, 1, 2, 3, r.int(0, 12), r.int(0, 60)]);
  const rem = r.pick([0, 0, r.int(0, step - 1)]); // step not dividing the range
  return { start, end: start + n * step + rem, step };
}

function randomCase(r: Prng): Case {
  const g = randomGrid(r);
  const sane = Number.isSafeInteger(g.start) && Number.isSafeInteger(g.end) &&
    Number.isSafeInteger(g.step) && g.step > 0 && g.end >= g.start &&
    g.end - g.start <= MAX_SAFE;
  const span = sane ? g.end - g.start : 1000;
  const origin = sane ? g.start : 0;
  // Timestamps: spread over the range with margins before and after.
  const len = r.pick([
    0,
    1,
    2,
    r.int(0, 10),
    r.int(0, 80),
    r.int(0, 400),
    r.int(100, 1000),
  ]);
  const margin = Math.max(1, Math.min(span, 1e12) * r.pick([0, 0.2, 1]));
  const lo = origin - margin * r.pick([0, 1]);
  const hi = origin + Math.min(span, 1e15) + margin * r.pick([0, 1]);
  const mode = r.int(0, 9);
  const ts = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    ts[i] = mode === 0
      ? origin - 1 - r.int(0, 50) // all before
      : mode === 1
      ? hi + r.int(0, 50) // all at/after end
      : Math.floor(lo + r.float() * (hi - lo + 1));
    if (r.int(0, 30) === 0) ts[i] += r.pick([0.5, 0.25, -0.5]); // fractional
  }
  ts.sort();
  for (let i = 1; i < len; i++) {
    if (r.int(0, 6) === 0) ts[i] = ts[i - 1]; // duplicates
  }
  if (len > 0 && r.int(0, 20) === 0) ts[0] = -Infinity;
  if (len > 0 && r.int(0, 20) === 0) ts[len - 1] = Infinity;
  if (len > 0 && r.int(0, 25) === 0) ts[r.int(0, len - 1)] = -0;
  ts.sort();
  if (len > 1 && r.int(0, 25) === 0) { // unsorted
    const i = r.int(1, len - 1);
    if (ts[i - 1] !== ts[i]) [ts[i - 1], ts[i]] = [ts[i], ts[i - 1]];
  }
  if (len > 0 && r.int(0, 40) === 0) ts[r.int(0, len - 1)] = NaN;

  const values = new Float64Array(len);
  const vmode = r.int(0, 4);
  let counter = r.pick([0, 0, 5, 1e15]);
  for (let i = 0; i < len; i++) {
    if (vmode <= 1) { // counter with resets
      counter = r.int(0, 15) === 0 ? r.int(0, 3) * r.float() : counter +
        r.pick([0, 1, r.float() * 100, 0.1]);
      values[i] = counter;
    } else if (vmode === 2) values[i] = r.normal() * 1000;
    else if (vmode === 3) setValue(values, i, r.pick(specials));
    else values[i] = r.pick([0, -0, 1, -1, 2]);
    if (vmode !== 3 && r.int(0, 25) === 0) {
      setValue(values, i, r.pick(specials));
    }
  }
  let cap = sane ? Math.ceil(span / g.step) : 10;
  if (!Number.isFinite(cap) || cap > 1e5) cap = 1e5; // ERR_CAPACITY for huge n
  cap += r.pick([0, 0, 0, 1, 5]);
  if (r.int(0, 20) === 0) cap = Math.max(0, cap - r.int(1, 3)); // too small
  return { ts, values, ...g, cap };
}

function randomCuts(r: Prng, len: number): number[] {
  const cuts: number[] = [];
  for (let i = 0; i <= len; i++) if (r.int(0, 4) === 0) cuts.push(i);
  return cuts; // may repeat positions: empty pieces
}

Deno.test("agg: WASM matches the reference on random and adversarial cases", () => {
  const base = 0x5eed_a99;
  let errors = 0;
  let filled = 0; // non-empty buckets
  let resets = 0; // buckets whose increase saw a drop or a NaN
  let stale = 0; // stale markers inside the range
  for (let k = 0; k < 3000; k++) {
    const seed = base + k;
    const r = new Prng(seed);
    const c = randomCase(r);
    const want = reference(c);
    const what = `seed ${seed}: ${describe(c)}`;
    assertSame(wasmOneShot(engine, c), want, `${what} (one-shot)`);
    assertSame(
      wasmStreamed(engine, c, randomCuts(r, c.ts.length)),
      want,
      `${what} (streamed)`,
    );
    if ("error" in want) errors++;
    else {
      for (let i = 0; i < c.ts.length; i++) {
        if (
          isStaleMarker(c.values, i) && c.ts[i] >= c.start && c.ts[i] < c.end
        ) stale++;
      }
      for (let i = 0; i < want.length; i++) {
        if (want.count[i] > 0) filled++;
        if (
          want.count[i] > 0 &&
          !(want.increase[i] <= want.last[i] - want.first[i])
        ) resets++;
      }
    }
  }
  // The generator must exercise both outcomes, and real data.
  console.log(
    `errors ${errors} filled ${filled} resets ${resets} stale ${stale}`,
  );
  assert.ok(errors > 150 && errors < 1500, `errors ${errors}`);
  assert.ok(filled > 4000, `non-empty buckets ${filled}`);
  assert.ok(resets > 500, `buckets with resets/NaN ${resets}`);
  assert.ok(stale > 500, `stale markers in range ${stale}`);
});

Deno.test("agg: feeding one sample at a time equals one call", () => {
  for (let k = 0; k < 200; k++) {
    const seed = 0xfeed_000 + k;
    const r = new Prng(seed);
    const c = randomCase(r);
    const ones = Array.from({ length: c.ts.length }, (_, i) => i);
    assertSame(
      wasmStreamed(engine, c, ones),
      wasmOneShot(engine, c),
      `seed ${seed}: ${describe(c)}`,
    );
  }
});

Deno.test("agg: dense counter over many buckets (long runs)", () => {
  for (let k = 0; k < 20; k++) {
    const seed = 0xd15e_000 + k;
    const r = new Prng(seed);
    const len = r.int(1000, 20000);
    const interval = r.pick([1, 10, 15000]);
    const step = r.pick([1, 7, 60000, 3600000]);
    const t0 = 1.7e12 + r.int(0, 1e6);
    const ts = new Float64Array(len);
    const values = new Float64Array(len);
    let counter = 0;
    for (let i = 0; i < len; i++) {
      ts[i] = t0 + i * interval + r.int(0, interval - 1);
      counter = r.int(0, 500) === 0 ? 0 : counter + r.int(0, 100);
      values[i] = counter;
    }
    ts.sort();
    const start = t0 + r.int(-1000, len * interval / 2);
    const end = start + r.int(0, len * interval);
    const cap = Math.ceil((end - start) / step);
    if (cap > 2e6) continue;
    const c = { ts, values, start, end, step, cap };
    const want = reference(c);
    assertSame(wasmOneShot(engine, c), want, `seed ${seed}`);
    assertSame(
      wasmStreamed(
        engine,
        c,
        randomCuts(new Prng(seed), 50).map((x) => Math.floor(x * len / 50)),
      ),
      want,
      `seed ${seed} (streamed)`,
    );
  }
});
