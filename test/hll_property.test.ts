// Property tests: the engine's sketches against the plain TypeScript
// reference (src/reference/hll.ts) over thousands of seeded random cases.
// Registers, estimates (bit for bit) and serialized bytes must be identical.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { HyperLogLog } from "../src/bindings/hll.ts";
import { ReferenceHll } from "../src/reference/hll.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();

/** A precision, mostly small (fast reference) but covering 4..18. */
function randomPrecision(rng: Prng): number {
  return rng.float() < 0.85 ? rng.int(4, 14) : rng.int(15, 18);
}

/** A count skewed toward small sketches, sometimes large enough to go dense. */
function randomCount(rng: Prng): number {
  const r = rng.float();
  if (r < 0.1) return 0;
  if (r < 0.6) return rng.int(1, 40);
  if (r < 0.9) return rng.int(41, 600);
  return rng.int(601, 4000);
}

function randomString(
  rng: Prng,
  earlier: string[],
  asciiOnly: boolean,
): string {
  const kind = rng.float();
  if (kind < 0.1) return "";
  if (kind < 0.2 && earlier.length > 0) return rng.pick(earlier);
  const length = kind < 0.22 ? rng.int(200, 3000) : rng.int(1, 24);
  let s = "";
  for (let i = 0; i < length; i++) {
    const c = asciiOnly ? 0 : rng.float();
    if (c < 0.6) s += String.fromCharCode(rng.int(0x20, 0x7e));
    else if (c < 0.75) s += String.fromCharCode(rng.int(0x80, 0x7ff));
    else if (c < 0.85) s += String.fromCharCode(rng.int(0x800, 0xd7ff));
    else if (c < 0.95) s += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
    else s += String.fromCharCode(rng.int(0xd800, 0xdfff)); // lone surrogate
  }
  return s;
}

const SPECIAL_NUMBERS = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.EPSILON,
  2 ** 53,
  1,
  -1,
];

/** A float64 array with random, integral, special and odd-payload NaN values. */
function randomNumbers(rng: Prng, n: number): Float64Array {
  const out = new Float64Array(n);
  const bits = new BigUint64Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 4);
    if (kind === 0) out[i] = rng.pick(SPECIAL_NUMBERS);
    else if (kind === 1) out[i] = rng.int(-1000, 1000);
    else if (kind === 2) bits[i] = BigInt.asUintN(64, rng.i64());
    else if (kind === 3) bits[i] = 0x7ff0000000000001n + BigInt(rng.u32());
    else out[i] = rng.normal() * 1e6;
  }
  return out;
}

// How many blobs of each encoding (byte 4) the comparisons produced.
const encodingsSeen = [0, 0];

function assertSame(
  wasm: HyperLogLog,
  ref: ReferenceHll,
  context: string,
): void {
  assert.equal(wasm.precision, ref.p, context);
  assert.deepEqual(wasm.registers(), ref.registers, `${context}: registers`);
  assert.equal(wasm.estimate(), ref.estimate(), `${context}: estimate`);
  const bytes = wasm.serialize();
  assert.deepEqual(bytes, ref.serialize(), `${context}: serialized bytes`);
  encodingsSeen[bytes[4]]++;
  const decoded = ReferenceHll.deserialize(bytes);
  assert.ok(decoded instanceof ReferenceHll, `${context}: ref decode`);
  assert.deepEqual(decoded.registers, ref.registers, `${context}: ref decode`);
  using back = HyperLogLog.deserialize(engine, bytes);
  assert.deepEqual(back.registers(), ref.registers, `${context}: wasm decode`);
}

Deno.test("strings: engine equals reference (1500 seeded cases)", () => {
  for (let seed = 1; seed <= 1500; seed++) {
    const rng = new Prng(seed);
    const p = randomPrecision(rng);
    const n = randomCount(rng);
    const values: string[] = [];
    // A quarter of the cases are pure ASCII (the bindings' one-call encoding path).
    const asciiOnly = seed % 4 === 0;
    for (let i = 0; i < n; i++) {
      values.push(randomString(rng, values, asciiOnly));
    }
    using sketch = HyperLogLog.create(engine, p);
    const ref = new ReferenceHll(p);
    // Half the cases add one by one, half in one batch.
    if (seed % 2 === 0) sketch.addStrings(values);
    else for (const v of values) sketch.add(v);
    for (const v of values) ref.addString(v);
    assertSame(sketch, ref, `strings seed ${seed} p ${p} n ${n}`);
  }
});

Deno.test("byte strings: engine equals reference (500 seeded cases)", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const rng = new Prng(seed * 7919);
    const p = randomPrecision(rng);
    const n = randomCount(rng);
    using sketch = HyperLogLog.create(engine, p);
    const ref = new ReferenceHll(p);
    for (let i = 0; i < n; i++) {
      const bytes = new Uint8Array(rng.int(0, rng.float() < 0.9 ? 40 : 700));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rng.u32() & 255;
      sketch.add(bytes);
      ref.addBytes(bytes);
    }
    assertSame(sketch, ref, `bytes seed ${seed} p ${p} n ${n}`);
  }
});

Deno.test("numbers: engine equals reference (1000 seeded cases)", () => {
  for (let seed = 1; seed <= 1000; seed++) {
    const rng = new Prng(seed * 104729);
    const p = randomPrecision(rng);
    const values = randomNumbers(rng, randomCount(rng));
    using sketch = HyperLogLog.create(engine, p);
    const ref = new ReferenceHll(p);
    if (seed % 3 === 0) { for (const v of values) sketch.add(v); }
    else sketch.addNumbers(values);
    for (const v of values) ref.addNumber(v);
    assertSame(sketch, ref, `numbers seed ${seed} p ${p} n ${values.length}`);
  }
});

Deno.test("precomputed hashes: engine equals reference (500 seeded cases)", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const rng = new Prng(seed * 31337);
    const p = randomPrecision(rng);
    const n = randomCount(rng);
    const hashes = new BigUint64Array(n);
    for (let i = 0; i < n; i++) {
      // Some hashes with long zero runs to reach the rank cap.
      const h = BigInt.asUintN(64, rng.i64());
      hashes[i] = rng.float() < 0.2 ? h >> BigInt(rng.int(0, 64)) : h;
    }
    using sketch = HyperLogLog.create(engine, p);
    const ref = new ReferenceHll(p);
    sketch.addHashes(hashes);
    for (const h of hashes) ref.addHash(h);
    assertSame(sketch, ref, `hashes seed ${seed} p ${p} n ${n}`);
  }
});

Deno.test("merges (equal and folded precision): engine equals reference (800 seeded cases)", () => {
  for (let seed = 1; seed <= 800; seed++) {
    const rng = new Prng(seed * 65537);
    const pDst = rng.int(4, 14);
    const pSrc = rng.float() < 0.4 ? pDst : rng.int(pDst, 16);
    using dst = HyperLogLog.create(engine, pDst);
    using src = HyperLogLog.create(engine, pSrc);
    const refDst = new ReferenceHll(pDst);
    const refSrc = new ReferenceHll(pSrc);
    const nDst = randomCount(rng);
    const nSrc = randomCount(rng);
    const a = new BigUint64Array(nDst);
    const b = new BigUint64Array(nSrc);
    for (let i = 0; i < nDst; i++) a[i] = BigInt.asUintN(64, rng.i64());
    for (let i = 0; i < nSrc; i++) {
      const h = BigInt.asUintN(64, rng.i64());
      b[i] = rng.float() < 0.2 ? h >> BigInt(rng.int(0, 64)) : h;
    }
    dst.addHashes(a);
    src.addHashes(b);
    a.forEach((h) => refDst.addHash(h));
    b.forEach((h) => refSrc.addHash(h));
    dst.merge(src);
    assert.equal(refDst.merge(refSrc), 0);
    const context = `merge seed ${seed} p ${pDst} <- ${pSrc}`;
    assertSame(dst, refDst, context);
    // Independent oracle: folding equals adding the same hashes at the low precision.
    const direct = new ReferenceHll(pDst);
    a.forEach((h) => direct.addHash(h));
    b.forEach((h) => direct.addHash(h));
    assert.deepEqual(dst.registers(), direct.registers, `${context}: direct`);
    // The source is untouched.
    assertSame(src, refSrc, `${context}: source`);
  }
});

Deno.test("the comparisons covered both the sparse and the dense encoding", () => {
  // Runs after the cases above (tests in a file run in order).
  assert.ok(
    encodingsSeen[0] > 500 && encodingsSeen[1] > 500,
    `${encodingsSeen}`,
  );
});
