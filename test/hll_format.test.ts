// The serialization format (docs/format/hll.md): hand-computed blobs, every
// documented error case, and fuzzing with random bytes, truncations and bit
// flips. The engine must answer with an error code (never trap), and agree
// with the reference decoder on every input.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import {
  ERR_ARG,
  ERR_BOUNDS,
  ERR_CORRUPT,
  ERR_FORMAT,
  ERR_TRUNCATED,
} from "../src/bindings/errors.ts";
import { HyperLogLog } from "../src/bindings/hll.ts";
import { ReferenceHll, xxhash64 } from "../src/reference/hll.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

/** Appends the checksum: the low 32 bits of XXH64 (seed 0) of the bytes, little-endian. */
function seal(bytes: number[]): Uint8Array {
  const sum = Number(xxhash64(new Uint8Array(bytes)) & 0xffffffffn);
  return new Uint8Array([
    ...bytes,
    sum & 255,
    (sum >>> 8) & 255,
    (sum >>> 16) & 255,
    sum >>> 24,
  ]);
}

/** Engine decode: the registers, or the error code. */
function engineDecode(bytes: Uint8Array): Uint8Array | number {
  const ptr = engine.alloc(bytes.length + 1);
  engine.u8.set(bytes, ptr);
  const h = engine.raw.hll_deserialize(ptr, bytes.length);
  engine.free(ptr);
  if (h < 0) return h;
  const regs = engine.raw.hll_registers(h);
  const out = engine.u8.slice(regs, regs + (1 << engine.raw.hll_precision(h)));
  assert.equal(engine.raw.hll_free(h), 0);
  return out;
}

function referenceDecode(bytes: Uint8Array): Uint8Array | number {
  const r = ReferenceHll.deserialize(bytes);
  return typeof r === "number" ? r : r.registers;
}

/** Decodes with both implementations, checks they agree, returns the result. */
function decode(bytes: Uint8Array, context: string): Uint8Array | number {
  const wasm = engineDecode(bytes);
  assert.deepEqual(wasm, referenceDecode(bytes), context);
  return wasm;
}

/** A hash that lands in register `index` with rank `rank` at precision p. */
function hashFor(p: number, index: number, rank: number): bigint {
  const q = BigInt(64 - p);
  const rest = rank > 64 - p ? 0n : 1n << (q - BigInt(rank));
  return (BigInt(index) << q) | rest;
}

Deno.test("sparse blob bytes are as documented", () => {
  using sketch = HyperLogLog.create(engine, 4);
  sketch.addHashes(new BigUint64Array([hashFor(4, 0, 1), hashFor(4, 1, 61)]));
  assert.deepEqual(
    [...sketch.registers()],
    [1, 61, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  // magic 'H' 'L', version 1, p 4, sparse; count 2; (gap 0, rank 1); (gap 0, rank 61)
  assert.deepEqual(
    sketch.serialize(),
    seal([0x48, 0x4c, 1, 4, 0, 2, 0x01, 0x3d]),
  );
  using empty = HyperLogLog.create(engine, 14);
  assert.deepEqual(empty.serialize(), seal([0x48, 0x4c, 1, 14, 0, 0]));
  // A gap of 300 registers: (300 << 6 | 5) = 19205 = LEB128 0x85 0x96 0x01.
  using gap = HyperLogLog.create(engine, 10);
  gap.addHashes(new BigUint64Array([hashFor(10, 300, 5)]));
  assert.deepEqual(
    gap.serialize(),
    seal([0x48, 0x4c, 1, 10, 0, 1, 0x85, 0x96, 0x01]),
  );
});

Deno.test("dense blob packs four 6-bit registers into 3 bytes, low bits first", () => {
  using sketch = HyperLogLog.create(engine, 4);
  const ranks = [1, 2, 3, 4, 61, 0, 61, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  sketch.addHashes(
    new BigUint64Array(
      ranks.flatMap((r, i) => r === 0 ? [] : [hashFor(4, i, r)]),
    ),
  );
  assert.deepEqual([...sketch.registers()], ranks);
  const body: number[] = [];
  for (let i = 0; i < 16; i += 4) {
    const word = ranks[i] | (ranks[i + 1] << 6) | (ranks[i + 2] << 12) |
      (ranks[i + 3] << 18);
    body.push(word & 255, (word >> 8) & 255, word >> 16);
  }
  assert.deepEqual(body.slice(0, 3), [0x81, 0x30, 0x10]);
  assert.deepEqual(
    sketch.serialize(),
    seal([0x48, 0x4c, 1, 4, 1, ...body]),
  );
});

Deno.test("decoding refuses each documented error case", async (t) => {
  const dense4 = (
    first: number,
  ) => [0x48, 0x4c, 1, 4, 1, first, ...new Array(11).fill(0)];
  const cases: [string, Uint8Array, number][] = [
    ["empty", new Uint8Array(0), ERR_TRUNCATED],
    ["header only", new Uint8Array([0x48, 0x4c, 1, 14, 0]), ERR_TRUNCATED],
    ["wrong magic", seal([0x48, 0x4d, 1, 14, 0, 0]), ERR_FORMAT],
    ["foreign first byte", new Uint8Array([0x7b]), ERR_FORMAT],
    ["version 2", seal([0x48, 0x4c, 2, 14, 0, 0]), ERR_FORMAT],
    ["version 0, short", new Uint8Array([0x48, 0x4c, 0]), ERR_FORMAT],
    ["p 3", seal([0x48, 0x4c, 1, 3, 0, 0]), ERR_CORRUPT],
    ["p 19", seal([0x48, 0x4c, 1, 19, 0, 0]), ERR_CORRUPT],
    ["encoding 2", seal([0x48, 0x4c, 1, 14, 2, 0]), ERR_CORRUPT],
    ["sparse rank 0", seal([0x48, 0x4c, 1, 4, 0, 1, 0x00]), ERR_CORRUPT],
    ["sparse rank 62 at p 4", seal([0x48, 0x4c, 1, 4, 0, 1, 62]), ERR_CORRUPT],
    [
      "sparse rank 52 at p 14",
      seal([0x48, 0x4c, 1, 14, 0, 1, 52]),
      ERR_CORRUPT,
    ],
    ["sparse rank 51 at p 14 is fine", seal([0x48, 0x4c, 1, 14, 0, 1, 51]), 0],
    [
      "sparse index 16 at p 4",
      seal([0x48, 0x4c, 1, 4, 0, 1, 0x81, 0x08]),
      ERR_CORRUPT,
    ],
    ["sparse count 17 at p 4", seal([0x48, 0x4c, 1, 4, 0, 17]), ERR_CORRUPT],
    [
      "sparse entries missing",
      seal([0x48, 0x4c, 1, 4, 0, 2, 1]),
      ERR_TRUNCATED,
    ],
    ["sparse varint cut", seal([0x48, 0x4c, 1, 10, 0, 1, 0x85]), ERR_TRUNCATED],
    [
      "overlong varint",
      seal([0x48, 0x4c, 1, 4, 0, 0x81, 0x00, 1]),
      ERR_CORRUPT,
    ],
    [
      "varint over 32 bits",
      seal([0x48, 0x4c, 1, 18, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x1f]),
      ERR_CORRUPT,
    ],
    [
      "varint of 6 bytes",
      seal([0x48, 0x4c, 1, 18, 0, 1, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00]),
      ERR_CORRUPT,
    ],
    ["sparse trailing byte", seal([0x48, 0x4c, 1, 4, 0, 1, 1, 0]), ERR_CORRUPT],
    ["dense register 62 at p 4", seal(dense4(62)), ERR_CORRUPT],
    ["dense register 61 at p 4 is fine", seal(dense4(61)), 0],
    ["dense body short", seal(dense4(1).slice(0, -1)), ERR_TRUNCATED],
    ["dense body long", seal([...dense4(1), 0]), ERR_CORRUPT],
    [
      "bad checksum",
      (() => {
        const b = seal([0x48, 0x4c, 1, 4, 0, 1, 1]);
        b[b.length - 1] ^= 0x40;
        return b;
      })(),
      ERR_CORRUPT,
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    await t.step(name, () => {
      const result = decode(bytes, name);
      if (expected === 0) assert.ok(result instanceof Uint8Array, name);
      else assert.equal(result, expected, name);
    });
  }
});

Deno.test("every truncation of valid blobs is refused", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new Prng(seed);
    const p = rng.int(4, 12);
    using sketch = HyperLogLog.create(engine, p);
    const n = rng.int(0, 3 << p);
    const values = new Float64Array(n).map(() => rng.normal());
    sketch.addNumbers(values);
    const blob = sketch.serialize();
    assert.deepEqual(decode(blob, `seed ${seed}`), sketch.registers());
    for (let len = 0; len < blob.length; len++) {
      const result = decode(blob.subarray(0, len), `seed ${seed} len ${len}`);
      assert.ok(
        result === ERR_TRUNCATED || result === ERR_CORRUPT,
        `seed ${seed} p ${p} truncated to ${len}/${blob.length}: ${result}`,
      );
    }
  }
});

Deno.test("every single-bit flip of valid blobs is refused", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rng = new Prng(seed * 3);
    const p = rng.int(4, 8);
    using sketch = HyperLogLog.create(engine, p);
    sketch.addNumbers(
      new Float64Array(rng.int(1, 2 << p)).map(() => rng.u32()),
    );
    const blob = sketch.serialize();
    for (let bit = 0; bit < blob.length * 8; bit++) {
      const damaged = blob.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      const result = decode(damaged, `seed ${seed} bit ${bit}`);
      assert.ok(
        typeof result === "number" && result < 0,
        `seed ${seed} bit ${bit}`,
      );
    }
  }
});

function randomBytes(rng: Prng, len: number): number[] {
  return Array.from({ length: len }, () => rng.u32() & 255);
}

/** A header and a body that are often valid and otherwise off by a little. */
function plausibleBlob(rng: Prng): number[] {
  const p = rng.float() < 0.9 ? rng.int(4, 18) : rng.int(0, 30);
  const dense = rng.float() < 0.3;
  const out = [0x48, 0x4c, 1, p, dense ? 1 : 0];
  if (dense) {
    const size = p <= 18 && p >= 4 ? (3 << p) >> 2 : rng.int(0, 50);
    for (let i = 0; i < size; i++) {
      out.push(rng.u32() & (rng.float() < 0.9 ? 0xbe : 0xff));
    }
  } else {
    const count = rng.int(0, 6);
    out.push(count);
    for (let k = 0; k < count; k++) {
      let v = rng.int(0, 70) * 64 +
        rng.int(rng.float() < 0.9 ? 1 : 0, rng.float() < 0.9 ? 14 : 63);
      while (v >= 128) {
        out.push((v & 127) | 128);
        v >>>= 7;
      }
      out.push(v);
    }
  }
  // Sometimes one byte too few or too many.
  const r = rng.float();
  if (r < 0.1) out.pop();
  else if (r < 0.2) out.push(rng.u32() & 255);
  return out;
}

Deno.test("random bytes never trap, and both decoders agree (5000 seeded blobs)", () => {
  const outcomes = new Map<string, number>();
  const tally = (r: Uint8Array | number) => {
    const key = typeof r === "number" ? String(r) : "ok";
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };
  for (let seed = 1; seed <= 5000; seed++) {
    const rng = new Prng(seed);
    const bytes = rng.float() < 0.5
      ? randomBytes(rng, rng.int(0, 80))
      : plausibleBlob(rng);
    tally(decode(new Uint8Array(bytes), `seed ${seed} raw`));
    // And with a valid checksum, so only the structure can refuse it.
    if (bytes.length >= 5) tally(decode(seal(bytes), `seed ${seed} sealed`));
  }
  // The fuzz reached every outcome, valid sketches included.
  for (const key of ["ok", "-1", "-4", "-7"]) {
    assert.ok((outcomes.get(key) ?? 0) > 20, `${key}: ${[...outcomes]}`);
  }
});

Deno.test("bad handles, arguments and ranges return error codes", () => {
  const raw = engine.raw;
  const memoryEnd = raw.memory.buffer.byteLength;
  assert.equal(raw.hll_create(3), ERR_ARG);
  assert.equal(raw.hll_create(19), ERR_ARG);
  const h = raw.hll_create(10);
  assert.ok(h > 0);
  for (const bad of [0, 8, 12345, memoryEnd - 16, memoryEnd + 64, -16]) {
    assert.equal(raw.hll_precision(bad), ERR_ARG, `handle ${bad}`);
    assert.equal(raw.hll_add_bytes(bad, 0, 0), ERR_ARG, `handle ${bad}`);
    assert.equal(raw.hll_estimate(bad), ERR_ARG, `handle ${bad}`);
    assert.equal(raw.hll_merge(h, bad), ERR_ARG, `handle ${bad}`);
    assert.equal(raw.hll_free(bad), ERR_ARG, `handle ${bad}`);
  }
  assert.equal(raw.hll_add_bytes(h, memoryEnd - 4, 8), ERR_BOUNDS);
  assert.equal(raw.hll_add_f64(h, memoryEnd - 8, 2), ERR_BOUNDS);
  assert.equal(raw.hll_add_hashes(h, memoryEnd - 8, 2), ERR_BOUNDS);
  assert.equal(raw.hll_add_f64(h, 0, 0x7fffffff), ERR_ARG);
  assert.equal(raw.hll_add_many(h, 0, memoryEnd - 4, 1), ERR_BOUNDS);
  assert.equal(raw.hll_deserialize(memoryEnd - 4, 10), ERR_BOUNDS);
  assert.equal(raw.hll_serialize(h, memoryEnd - 4, 100), ERR_BOUNDS);
  const buf = engine.alloc(64);
  assert.equal(raw.hll_serialize(h, buf, 9), -2 /* ERR_CAPACITY */);
  assert.equal(raw.hll_serialize(h, buf, 10), 10);
  // Offsets: decreasing, or reaching past memory, add nothing.
  engine.u32.set([0, 5, 3], buf >>> 2);
  assert.equal(raw.hll_add_many(h, buf + 16, buf, 2), ERR_ARG);
  engine.u32.set([0, 5, 0x7ffffff0], buf >>> 2);
  assert.equal(raw.hll_add_many(h, buf + 16, buf, 2), ERR_BOUNDS);
  assert.equal(raw.hll_estimate(h), 0, "nothing was added");
  engine.u32.set([0, 2, 2], buf >>> 2);
  assert.equal(raw.hll_add_many(h, buf + 16, buf, 2), 2);
  // A coarser sketch cannot be merged into a finer one.
  const coarse = raw.hll_create(8);
  assert.equal(raw.hll_merge(h, coarse), ERR_ARG);
  assert.equal(raw.hll_merge(coarse, h), 0);
  assert.equal(raw.hll_merge(h, h), 0);
  assert.equal(raw.hll_free(coarse), 0);
  assert.equal(raw.hll_free(h), 0);
  assert.equal(raw.hll_free(h), ERR_ARG, "double free is refused");
  assert.equal(raw.hll_estimate(h), ERR_ARG, "stale handle is refused");
  engine.free(buf);
});
