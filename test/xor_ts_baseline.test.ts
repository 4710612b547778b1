// The fast pure-TS XOR codec (the benchmark baseline) against the BigInt
// reference (the oracle): identical bytes, bit-identical samples, and the
// same verdict on truncated, corrupt and mutated chunks.
import assert from "node:assert/strict";
import {
  decodeChunkTs,
  encodeChunkTs,
  xorChunkMaxBytes,
} from "../bench/baseline/xor_ts.ts";
import {
  bitsOf,
  decodeChunk,
  encodeChunk,
  type ExactSample,
} from "../src/reference/xor.ts";
import { encodeChunks, loadEngine, XorDecoder } from "../src/bindings/mod.ts";
import { Prng } from "../src/util/prng.ts";
import { makeSeries, type Shape, SHAPES, toArrays } from "./_xor_series.ts";

/** Shapes whose timestamps makeSeries keeps within ±2^53 (checked per series). */
const SAFE_SHAPES: Shape[] = [
  "regular",
  "jitter",
  "counter",
  "walk",
  "floats",
  "special",
  "bits",
  "dod-edges",
];
const LIMIT = 1n << 53n;

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A series length: mostly chunk-sized, sometimes tiny or long. */
function seriesLength(rng: Prng): number {
  const r = rng.float();
  if (r < 0.15) return rng.int(0, 3);
  if (r < 0.9) return rng.int(4, 240);
  return rng.int(241, 2000);
}

/** Decodes with the TS codec; returns samples as exact BigInts. */
function decodeTs(chunk: Uint8Array): ExactSample[] {
  const cap = chunk.length >= 2 ? (chunk[0] << 8) | chunk[1] : 0;
  const ts = new Float64Array(cap);
  const values = new Float64Array(cap);
  const n = decodeChunkTs(chunk, ts, values);
  const bits = new BigUint64Array(values.buffer);
  return Array.from(
    { length: n },
    (_, i) => ({ t: BigInt(ts[i]), vbits: bits[i] }),
  );
}

/** Asserts that the TS decoder gives `want` (t rounded to f64) bit for bit. */
function assertDecodes(
  chunk: Uint8Array,
  want: readonly ExactSample[],
  msg: string,
): void {
  const ts = new Float64Array(want.length + 3);
  const values = new Float64Array(want.length + 3);
  assert.equal(decodeChunkTs(chunk, ts, values), want.length, msg);
  const bits = new BigUint64Array(values.buffer);
  for (let i = 0; i < want.length; i++) {
    if (ts[i] !== Number(want[i].t) || bits[i] !== want[i].vbits) {
      assert.fail(
        `${msg}: sample ${i}: got (${ts[i]}, ${bits[i].toString(16)}), ` +
          `want (${Number(want[i].t)}, ${want[i].vbits.toString(16)})`,
      );
    }
  }
}

Deno.test("encode and decode equal the reference over seeded series", () => {
  let series = 0;
  let samples = 0;
  let filtered = 0;
  // A dirty output buffer: the encoder must not rely on zeroed memory.
  const out = new Uint8Array(xorChunkMaxBytes(2000)).fill(0xa5);
  for (let seed = 1; seed <= 4000; seed++) {
    const rng = new Prng(seed);
    const shape = SAFE_SHAPES[seed % SAFE_SHAPES.length];
    const all = makeSeries(rng, shape, seriesLength(rng));
    if (all.some((s) => s.t > LIMIT || s.t < -LIMIT)) {
      filtered++;
      continue;
    }
    const msg = `seed ${seed} shape ${shape} n ${all.length}`;
    // Encode a sub-range of the arrays, as a chunker cutting a series does.
    const { ts: ts64, values } = toArrays(all);
    const ts = Float64Array.from(ts64, Number);
    const start = all.length > 4 ? rng.int(0, 3) : 0;
    const end = Math.min(all.length, start + rng.int(0, 300));
    const samplesIn = all.slice(start, end);
    const want = encodeChunk(samplesIn, false);
    const len = encodeChunkTs(ts, values, start, end, out);
    assert.equal(hex(out.subarray(0, len)), hex(want), msg);
    assertDecodes(want, samplesIn, msg);
    series++;
    samples += samplesIn.length;
  }
  assert.ok(
    series >= 3900,
    `only ${series} series kept (${filtered} filtered)`,
  );
  assert.ok(samples > 300_000, `only ${samples} samples`);
});

Deno.test("decoding matches the reference over the whole int64 range", async () => {
  // wild-time timestamps are beyond 2^53: the TS decoder rounds each to the
  // nearest f64, as Number(bigint) and the WASM f64 decoder do.
  const engine = await loadEngine();
  const dec = new XorDecoder(engine);
  try {
    for (let seed = 1; seed <= 1500; seed++) {
      const rng = new Prng(seed * 31);
      const shape = SHAPES[seed % SHAPES.length];
      const samples = makeSeries(rng, shape, rng.int(0, 200));
      const chunk = encodeChunk(samples, false);
      const msg = `seed ${seed * 31} shape ${shape}`;
      assertDecodes(chunk, samples, msg);
      const n = dec.decode(chunk);
      const ts = new Float64Array(n);
      const values = new Float64Array(n);
      decodeChunkTs(chunk, ts, values);
      assert.deepEqual(ts, dec.timestamps.slice(), `${msg} vs WASM`);
      assert.deepEqual(
        new BigUint64Array(values.buffer),
        dec.valueBits.slice(),
        `${msg} vs WASM`,
      );
    }
  } finally {
    dec.free();
  }
});

Deno.test("encoding is exact for f64 timestamps beyond 2^53", () => {
  // Timestamps that are f64 integers anywhere in int64 (multiples of large
  // powers of two): exercises the int64-halves paths of both directions.
  for (let seed = 1; seed <= 1500; seed++) {
    const rng = new Prng(seed * 7 + 3);
    const raw = makeSeries(rng, "wild-time", rng.int(1, 150));
    const samples = raw
      .map((s) => ({ t: BigInt(Number(s.t)), vbits: s.vbits }))
      .filter((s) => s.t < 1n << 63n);
    const ts = Float64Array.from(samples, (s) => Number(s.t));
    const { values } = toArrays(samples);
    const out = new Uint8Array(xorChunkMaxBytes(samples.length));
    const len = encodeChunkTs(ts, values, 0, samples.length, out);
    const want = encodeChunk(samples, false);
    const msg = `seed ${seed * 7 + 3}`;
    assert.equal(hex(out.subarray(0, len)), hex(want), msg);
    assertDecodes(want, samples, msg);
  }
});

Deno.test("chunks from the WASM encoder decode identically", async () => {
  const engine = await loadEngine();
  const rng = new Prng(99);
  for (let k = 0; k < 200; k++) {
    const samples = makeSeries(rng, SAFE_SHAPES[k % 8], rng.int(1, 400));
    const { values } = toArrays(samples);
    const ts = Float64Array.from(samples, (s) => Number(s.t));
    const chunks = encodeChunks(engine, ts, values, 120, {
      legacyPadding: false,
    });
    let at = 0;
    const out = new Uint8Array(xorChunkMaxBytes(120));
    for (const chunk of chunks) {
      const n = (chunk[0] << 8) | chunk[1];
      const len = encodeChunkTs(ts, values, at, at + n, out);
      assert.equal(hex(out.subarray(0, len)), hex(chunk), `series ${k}`);
      assertDecodes(chunk, samples.slice(at, at + n), `series ${k}`);
      at += n;
    }
    assert.equal(at, samples.length);
  }
});

Deno.test("arrays that are views at an offset of a larger buffer", () => {
  const rng = new Prng(4242);
  const samples = makeSeries(rng, "special", 100);
  const { values: v0 } = toArrays(samples);
  // Inputs and outputs live 3 doubles into shared buffers.
  const tsBuf = new Float64Array(110);
  const valBuf = new Float64Array(110);
  const ts = tsBuf.subarray(3, 103);
  const values = valBuf.subarray(3, 103);
  ts.set(samples.map((s) => Number(s.t)));
  new BigUint64Array(valBuf.buffer, 24, 100).set(new BigUint64Array(v0.buffer));
  const out = new Uint8Array(xorChunkMaxBytes(100) + 7).subarray(7);
  const len = encodeChunkTs(ts, values, 10, 90, out);
  assert.equal(
    hex(out.subarray(0, len)),
    hex(encodeChunk(samples.slice(10, 90), false)),
  );
  const decTs = tsBuf.subarray(5, 90);
  const decVals = valBuf.subarray(5, 90);
  valBuf.fill(0);
  assert.equal(decodeChunkTs(out.subarray(0, len), decTs, decVals), 80);
  const bits = new BigUint64Array(valBuf.buffer, 40, 80);
  for (let i = 0; i < 80; i++) {
    assert.equal(decTs[i], Number(samples[10 + i].t), `t ${i}`);
    assert.equal(bits[i], samples[10 + i].vbits, `bits ${i}`);
  }
  assert.equal(valBuf[4], 0, "wrote before the view");
  assert.equal(valBuf[85], 0, "wrote after the samples");
});

Deno.test("hand-computed encodings from the format spec", () => {
  // 1.0 -> 3.0: '11' 00001 001100 then 12 bits of 0x7ff (docs/format/xor-chunk.md).
  const cases: [number[], number[], string][] = [
    [[], [], "0000"],
    [[1000], [1], "0001" + "d00f" + "3ff0000000000000"],
    [[-1, 14999], [2, 2], "0002" + "01" + "4000000000000000" + "9875" + "00"],
    [[0, 1], [1, 3], "0002" + "00" + "3ff0000000000000" + "01" + "c267ff80"],
  ];
  for (const [t, v, want] of cases) {
    const out = new Uint8Array(64);
    const len = encodeChunkTs(
      Float64Array.from(t),
      Float64Array.from(v),
      0,
      t.length,
      out,
    );
    assert.equal(hex(out.subarray(0, len)), want);
    const ts = new Float64Array(t.length);
    const values = new Float64Array(t.length);
    assert.equal(decodeChunkTs(out.subarray(0, len), ts, values), t.length);
    assert.deepEqual(Array.from(ts), t);
    assert.deepEqual(Array.from(values), v);
  }
});

Deno.test("every truncation of a chunk throws RangeError", () => {
  let checked = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const rng = new Prng(seed * 13);
    const shape = SAFE_SHAPES[seed % SAFE_SHAPES.length];
    const chunk = encodeChunk(makeSeries(rng, shape, rng.int(1, 60)), false);
    // The last byte always holds a bit of the last sample, so every proper
    // prefix is missing data.
    for (let len = 0; len < chunk.length; len++) {
      const cut = chunk.slice(0, len);
      assert.throws(() => decodeChunk(cut), RangeError, "reference");
      assert.throws(
        () => decodeTs(cut),
        RangeError,
        `seed ${seed * 13} length ${len} of ${chunk.length}`,
      );
      checked++;
    }
  }
  assert.ok(checked > 5_000, `${checked}`);
});

Deno.test("mutated chunks: same samples or same error as the reference", () => {
  let threw = 0;
  let decoded = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rng = new Prng(seed * 17);
    const shape = SHAPES[seed % SHAPES.length];
    const chunk = encodeChunk(makeSeries(rng, shape, rng.int(1, 40)), false);
    const flips = rng.int(1, 3);
    for (let f = 0; f < flips; f++) {
      // Keep the header's count believable most of the time.
      const at = rng.float() < 0.9
        ? rng.int(2, chunk.length - 1)
        : rng.int(0, 1);
      chunk[at] ^= 1 << rng.int(0, 7);
    }
    if (((chunk[0] << 8) | chunk[1]) > 4096) continue;
    const msg = `seed ${seed * 17}`;
    let want: ExactSample[] | null = null;
    try {
      want = decodeChunk(chunk);
    } catch (e) {
      assert.ok(e instanceof RangeError);
    }
    if (want === null) {
      assert.throws(() => decodeTs(chunk), RangeError, msg);
      threw++;
    } else {
      assertDecodes(chunk, want, msg);
      decoded++;
    }
  }
  assert.ok(threw > 300 && decoded > 300, `threw ${threw}, decoded ${decoded}`);
});

Deno.test("a window wider than 64 bits is corrupt", () => {
  // Sample 0 (t=0, v=0), sample 1: uvarint 1, then '11' L=31 S=40 (71 > 64).
  // bits: 11 11111 101000 then payload; pad generously so it is not truncated.
  const chunk = new Uint8Array([
    0x00,
    0x02,
    0x00,
    ...new Array(8).fill(0),
    0x01,
    0b11111111,
    0b10100000,
    ...new Array(8).fill(0),
  ]);
  assert.throws(() => decodeChunk(chunk), /corrupt/);
  assert.throws(() => decodeTs(chunk), /corrupt/);
});

Deno.test("bad arguments throw RangeError", () => {
  const ts = Float64Array.from([0, 15000, 30000]);
  const values = Float64Array.from([1, 2, 3]);
  const out = new Uint8Array(64);
  for (const bad of [NaN, 0.5, Infinity, 2 ** 63, -(2 ** 64)]) {
    for (let at = 0; at < 3; at++) {
      const t = ts.slice();
      t[at] = bad;
      assert.throws(
        () => encodeChunkTs(t, values, 0, 3, out),
        RangeError,
        `t[${at}] = ${bad}`,
      );
    }
  }
  // -2^63 is a valid int64 timestamp.
  const lowest = Float64Array.from([-(2 ** 63), 0]);
  const len = encodeChunkTs(lowest, values, 0, 2, out);
  assert.equal(
    hex(out.subarray(0, len)),
    hex(
      encodeChunk([
        { t: -(1n << 63n), vbits: bitsOf(1) },
        { t: 0n, vbits: bitsOf(2) },
      ], false),
    ),
  );
  assert.throws(() => encodeChunkTs(ts, values, 2, 1, out), RangeError);
  assert.throws(() => encodeChunkTs(ts, values, 0, 4, out), RangeError);
  assert.throws(
    () => encodeChunkTs(ts, values, 0, 3, new Uint8Array(5)),
    /too small/,
  );
  const many = new Float64Array(0x10000);
  assert.throws(
    () => encodeChunkTs(many, many, 0, many.length, new Uint8Array(1 << 21)),
    /exceed/,
  );
  const chunk = encodeChunk([
    { t: 0n, vbits: 0n },
    { t: 1n, vbits: 0n },
  ]);
  assert.throws(
    () => decodeChunkTs(chunk, new Float64Array(1), new Float64Array(2)),
    /fewer/,
  );
});
