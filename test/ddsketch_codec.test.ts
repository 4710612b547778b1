// Serialization: exact round trips, the documented byte layout, and
// rejection of foreign, truncated and corrupt blobs (random bytes,
// truncations, bit flips, structurally bad blobs with a valid checksum).
// The engine must answer every input with a sketch or an error code (never
// a trap), and the same error code as the reference decoder.
import assert from "node:assert/strict";
import { crc32 as zlibCrc32 } from "node:zlib";
import { loadEngine } from "../src/bindings/engine.ts";
import { DDSketch } from "../src/bindings/ddsketch.ts";
import {
  EngineError,
  ERR_CORRUPT,
  ERR_FORMAT,
  ERR_TRUNCATED,
} from "../src/bindings/errors.ts";
import { crc32, RefDDSketch } from "../src/reference/ddsketch.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

/** Raw engine decode of arbitrary bytes: a handle (freed here) or an error code. */
function engineDecode(bytes: Uint8Array): number {
  const ptr = engine.alloc(Math.max(bytes.length, 1));
  try {
    engine.u8.set(bytes, ptr);
    const h = engine.raw.ddsk_deserialize(ptr, bytes.length);
    if (h > 0) {
      // A decoded sketch must be usable and re-encode to the same bytes.
      const size = engine.raw.ddsk_serialized_size(h);
      const out = engine.alloc(size);
      assert.equal(engine.raw.ddsk_serialize(h, out, size), size);
      assert.deepEqual(engine.u8.slice(out, out + size), bytes);
      engine.free(out);
      engine.raw.ddsk_quantile(h, 0.5);
      engine.raw.ddsk_free(h);
    }
    return h > 0 ? 1 : h;
  } finally {
    engine.free(ptr);
  }
}

function refDecode(bytes: Uint8Array): number {
  const r = RefDDSketch.deserialize(bytes);
  return typeof r === "number" ? r : 1;
}

function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

function sampleSketch(seed: number): DDSketch {
  const r = new Prng(seed);
  const sk = DDSketch.create(
    engine,
    r.pick([0.01, 0.05, 0.002]),
    r.pick([16, 64, 4096]),
  );
  const n = r.int(0, 500);
  for (let i = 0; i < n; i++) {
    const v = (r.float() < 0.3 ? -1 : 1) * Math.exp(r.normal() * 4);
    if (r.float() < 0.2) sk.addWeighted(v, r.float() * 3 + 0.1);
    else if (r.float() < 0.05) sk.add(0);
    else sk.add(v);
  }
  return sk;
}

Deno.test("ddsketch codec: checksum is standard CRC-32", () => {
  const r = new Prng(5);
  for (let i = 0; i < 50; i++) {
    const b = Uint8Array.from({ length: r.int(0, 300) }, () => r.int(0, 255));
    assert.equal(crc32(b), zlibCrc32(b), `seed 5 case ${i}`);
  }
});

Deno.test("ddsketch codec: round trips are exact", () => {
  for (let seed = 1; seed <= 300; seed++) {
    using sk = sampleSketch(seed);
    const blob = sk.serialize();
    using back = DDSketch.deserialize(engine, blob);
    assert.deepEqual(back.serialize(), blob, `seed ${seed}`);
    for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) {
      assert.ok(
        Object.is(back.quantile(q), sk.quantile(q)),
        `seed ${seed} q ${q}`,
      );
    }
    assert.ok(Object.is(back.count, sk.count), `seed ${seed}`);
    assert.ok(Object.is(back.sum, sk.sum), `seed ${seed}`);
    assert.ok(Object.is(back.min, sk.min), `seed ${seed}`);
    assert.ok(Object.is(back.max, sk.max), `seed ${seed}`);
    assert.equal(back.alpha, sk.alpha);
    assert.equal(back.maxBins, sk.maxBins);
    // A round-tripped sketch keeps working like the original.
    sk.add(123.25);
    back.add(123.25);
    assert.deepEqual(
      back.serialize(),
      sk.serialize(),
      `seed ${seed} after add`,
    );
  }
});

Deno.test("ddsketch codec: byte layout of a small sketch", () => {
  using sk = DDSketch.create(engine, 0.05, 100);
  sk.add(1);
  sk.add(1);
  sk.add(-2);
  sk.add(0);
  const b = sk.serialize();
  const dv = new DataView(b.buffer);
  assert.deepEqual([...b.subarray(0, 6)], [0x44, 0x44, 0x53, 0x4b, 1, 1]);
  assert.equal(dv.getUint16(6, true), 100);
  assert.equal(dv.getFloat64(8, true), 0.05);
  assert.equal(dv.getFloat64(16, true), 4); // count
  assert.equal(dv.getFloat64(24, true), 0); // sum
  assert.equal(dv.getFloat64(32, true), -2); // min
  assert.equal(dv.getFloat64(40, true), 1); // max
  assert.equal(dv.getFloat64(48, true), 1); // zero count
  // 1.0 has approximated log2 exactly 0: bin 0 (zigzag 0), count 2.
  assert.deepEqual([...b.subarray(56, 60)], [1, 0, 0, 2]);
  // -2 has log2 1: index floor(mult) stored negated.
  const mult = 1 / ((10 / 7) * 2 * Math.atanh(0.05 * (1 - 2 ** -20)));
  const k = -Math.floor(mult);
  assert.deepEqual([...b.subarray(60, 64)], [1, 0, 2 * -k - 1, 1]);
  assert.equal(b.length, 68);
  assert.equal(dv.getUint32(64, true), zlibCrc32(b.subarray(0, 64)));
});

Deno.test("ddsketch codec: random bytes are rejected without trapping", () => {
  const r = new Prng(31337);
  for (let i = 0; i < 3000; i++) {
    const len = r.int(0, 200);
    const b = Uint8Array.from({ length: len }, () => r.int(0, 255));
    if (i % 3 === 1 && len >= 6) b.set([0x44, 0x44, 0x53, 0x4b, 1, 1]); // valid prefix
    const got = engineDecode(b);
    assert.ok(got < 0, `seed 31337 case ${i}: random bytes accepted`);
    assert.equal(got, refDecode(b), `seed 31337 case ${i}`);
  }
});

Deno.test("ddsketch codec: every truncation and bit flip is rejected", () => {
  for (let seed = 1; seed <= 40; seed++) {
    using sk = sampleSketch(seed);
    const blob = sk.serialize();
    // Every length through the header and the last 64 bytes, a sample between.
    const r = new Prng(seed);
    const lengths = new Set<number>();
    for (let len = 0; len < blob.length; len++) {
      if (len < 80 || len >= blob.length - 64 || r.float() < 0.1) {
        lengths.add(len);
      }
    }
    for (const len of lengths) {
      const cut = blob.slice(0, len);
      const got = engineDecode(cut);
      assert.ok(got < 0, `seed ${seed}: truncation to ${len} accepted`);
      assert.equal(got, refDecode(cut), `seed ${seed} len ${len}`);
    }
    for (let i = 0; i < 200; i++) {
      const bad = blob.slice();
      const bit = r.int(0, blob.length * 8 - 1);
      bad[bit >> 3] ^= 1 << (bit & 7);
      const got = engineDecode(bad);
      assert.ok(got < 0, `seed ${seed}: flip of bit ${bit} accepted`);
      assert.equal(got, refDecode(bad), `seed ${seed} bit ${bit}`);
    }
    // Trailing bytes.
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);
    assert.ok(engineDecode(longer) < 0, `seed ${seed}: trailing byte accepted`);
  }
});

Deno.test("ddsketch codec: structural corruption behind a valid checksum", () => {
  // Mutate the body, re-seal it with a correct CRC: the structure checks
  // alone must reject what is invalid, and agree with the reference.
  let accepted = 0;
  let rejected = 0;
  for (let seed = 1; seed <= 60; seed++) {
    using sk = sampleSketch(seed);
    const blob = sk.serialize();
    const body = blob.subarray(0, blob.length - 4);
    const r = new Prng(1000 + seed);
    for (let i = 0; i < 150; i++) {
      const m = body.slice();
      const edits = r.int(1, 3);
      for (let e = 0; e < edits; e++) m[r.int(0, m.length - 1)] = r.int(0, 255);
      const sealed = withCrc(m);
      const got = engineDecode(sealed); // asserts re-encoding when accepted
      assert.equal(got, refDecode(sealed), `seed ${1000 + seed} case ${i}`);
      if (got > 0) accepted++;
      else rejected++;
    }
  }
  assert.ok(rejected > 1000, `rejected ${rejected}`);
  assert.ok(
    accepted > 0,
    "some mutations (e.g. of the sum) are valid sketches",
  );
});

Deno.test("ddsketch codec: specific invalid blobs", async (t) => {
  using sk = DDSketch.create(engine, 0.01);
  sk.addMany(new Float64Array([1, 2, 3, -4]));
  const blob = sk.serialize();
  const body = () => blob.slice(0, blob.length - 4);
  const cases: [string, Uint8Array, number][] = [
    ["empty", new Uint8Array(0), ERR_TRUNCATED],
    ["short magic", Uint8Array.of(0x44, 0x44), ERR_TRUNCATED],
    ["foreign magic", Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), ERR_FORMAT],
    ["version 2", withCrc(body().fill(2, 4, 5)), ERR_FORMAT],
    ["mapping 0", withCrc(body().fill(0, 5, 6)), ERR_FORMAT],
    ["header only", blob.slice(0, 56), ERR_TRUNCATED],
  ];
  const set = (f: (dv: DataView, b: Uint8Array) => void) => {
    const b = body();
    f(new DataView(b.buffer), b);
    return withCrc(b);
  };
  cases.push(
    ["maxBins 15", set((dv) => dv.setUint16(6, 15, true)), ERR_CORRUPT],
    ["alpha 0", set((dv) => dv.setFloat64(8, 0, true)), ERR_CORRUPT],
    ["alpha NaN", set((dv) => dv.setFloat64(8, NaN, true)), ERR_CORRUPT],
    ["alpha 0.6", set((dv) => dv.setFloat64(8, 0.6, true)), ERR_CORRUPT],
    ["negative count", set((dv) => dv.setFloat64(16, -4, true)), ERR_CORRUPT],
    ["count off", set((dv) => dv.setFloat64(16, 5, true)), ERR_CORRUPT],
    ["min > max", set((dv) => dv.setFloat64(32, 10, true)), ERR_CORRUPT],
    [
      "zero count w/o zero",
      set((dv) => dv.setFloat64(48, 1, true)),
      ERR_CORRUPT,
    ],
    ["store flags", set((_, b) => (b[57] = 4)), ERR_CORRUPT],
    [
      "bad crc",
      (() => {
        const b = blob.slice();
        b[b.length - 1] ^= 0x80;
        return b;
      })(),
      ERR_CORRUPT,
    ],
  );
  for (const [name, bytes, code] of cases) {
    await t.step(name, () => {
      assert.equal(engineDecode(bytes), code);
      assert.equal(refDecode(bytes), code);
      assert.throws(
        () => DDSketch.deserialize(engine, bytes),
        (e) => e instanceof EngineError && e.code === code,
      );
    });
  }
});
