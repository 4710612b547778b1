// XXH64 in the engine and in the reference against the published xxHash test
// vectors, and the two implementations against each other.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { hashNumber, xxhash64 } from "../src/reference/hll.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const PRIME32 = 2654435761n;

/** The sanity buffer of xxHash's cli/xsum_sanity_check.c (XSUM_fillTestBuffer). */
function sanityBuffer(len: number): Uint8Array {
  const out = new Uint8Array(len);
  let gen = PRIME32;
  for (let i = 0; i < len; i++) {
    out[i] = Number(gen >> 56n);
    gen = BigInt.asUintN(64, gen * 11400714785074694797n);
  }
  return out;
}

/** XXH64 vectors from xxHash's cli/xsum_sanity_check.c: [length of sanity buffer, seed, hash]. */
const SANITY_VECTORS: [number, bigint, bigint][] = [
  [0, 0n, 0xEF46DB3751D8E999n],
  [0, PRIME32, 0xAC75FDA2929B17EFn],
  [1, 0n, 0xE934A84ADB052768n],
  [1, PRIME32, 0x5014607643A9B4C3n],
  [4, 0n, 0x9136A0DCA57457EEn],
  [14, 0n, 0x8282DCC4994E35C8n],
  [14, PRIME32, 0xC3BD6BF63DEB6DF0n],
  [222, 0n, 0xB641AE8CB691C174n],
  [222, PRIME32, 0x20CB8AB7AE10C14An],
];

/** Widely published XXH64 (seed 0) values of ASCII strings (e.g. python-xxhash, ClickHouse tests). */
const STRING_VECTORS: [string, bigint][] = [
  ["", 0xef46db3751d8e999n],
  ["a", 15154266338359012955n],
  ["ab", 7347350983217793633n],
  ["abc", 4952883123889572249n],
  ["ABC", 0xe66ae7354fcfee98n],
  ["xxhash", 0x32dd38952c4bc720n],
  ["foo", 3728699739546630719n],
  ["\x01", 9962287286179718960n],
];

function engineHash(bytes: Uint8Array, seed: bigint): bigint {
  const ptr = engine.alloc(bytes.length + 1);
  engine.u8.set(bytes, ptr);
  const h = engine.raw.hll_hash_bytes(ptr, bytes.length, seed) as bigint;
  engine.free(ptr);
  return BigInt.asUintN(64, h);
}

Deno.test("xxh64 matches xxHash's sanity-check vectors", async (t) => {
  const buffer = sanityBuffer(256);
  for (const [len, seed, expected] of SANITY_VECTORS) {
    await t.step(`len ${len} seed ${seed}`, () => {
      const bytes = buffer.subarray(0, len);
      assert.equal(engineHash(bytes, seed), expected, "engine");
      assert.equal(xxhash64(bytes, seed), expected, "reference");
    });
  }
});

Deno.test("xxh64 matches published string hashes", async (t) => {
  const enc = new TextEncoder();
  for (const [s, expected] of STRING_VECTORS) {
    await t.step(JSON.stringify(s), () => {
      assert.equal(engineHash(enc.encode(s), 0n), expected, "engine");
      assert.equal(xxhash64(enc.encode(s)), expected, "reference");
    });
  }
});

Deno.test("xxh64 engine and reference agree on every length 0..600 and random seeds", () => {
  const seed = 0x5eed1;
  const rng = new Prng(seed);
  const bytes = new Uint8Array(600).map(() => rng.u32() & 255);
  for (let len = 0; len <= bytes.length; len++) {
    const s = BigInt.asUintN(64, rng.i64());
    const view = bytes.subarray(0, len);
    assert.equal(
      engineHash(view, s),
      xxhash64(view, s),
      `seed ${seed} len ${len} hashSeed ${s}`,
    );
  }
});

Deno.test("hll_hash_bytes refuses a range outside memory", () => {
  const size = engine.raw.memory.buffer.byteLength;
  const r = BigInt.asIntN(64, engine.raw.hll_hash_bytes(size - 4, 8, 0n));
  assert.equal(r, -3n);
});

Deno.test("reference hashNumber: 8 LE bytes, -0 as 0, one NaN", () => {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, 1.5, true);
  assert.equal(hashNumber(1.5), xxhash64(bytes));
  assert.equal(hashNumber(-0), hashNumber(0));
  assert.equal(hashNumber(0), xxhash64(new Uint8Array(8)));
  assert.notEqual(hashNumber(1), hashNumber(-1));
  view.setBigUint64(0, 0x7ff8000000000000n, true);
  assert.equal(hashNumber(NaN), xxhash64(bytes));
});
