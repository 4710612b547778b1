import assert from "node:assert/strict";
import {
  ByteBuf,
  ByteReader,
  putString,
  putUvarint,
  unzigzag,
  zigzag,
} from "../src/storage/wal/bytes.ts";
import { Prng } from "../src/util/prng.ts";

/** LEB128 from the definition, over BigInt: the oracle. */
function uvarintBig(z: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    out.push(b);
  } while (z > 0n);
  return out;
}

Deno.test("wal bytes: varints match LEB128 and round-trip up to 2^53", () => {
  const prng = new Prng(3);
  const values = [
    0,
    1,
    127,
    128,
    16383,
    16384,
    2 ** 28 - 1,
    2 ** 28,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 33,
    2 ** 52,
    2 ** 53,
  ];
  for (let i = 0; i < 2000; i++) values.push(prng.int(0, 2 ** 53));
  const out = new Uint8Array(16);
  for (const z of values) {
    const end = putUvarint(out, 0, z);
    assert.deepEqual(
      Array.from(out.subarray(0, end)),
      uvarintBig(BigInt(z)),
      `z=${z} (seed 3)`,
    );
    const r = new ByteReader(out, 0, end);
    assert.equal(r.uvarint(8), z, `z=${z}`);
    assert.equal(r.bad, false);
    assert.equal(r.pos, end);
  }
});

Deno.test("wal bytes: zigzag matches the definition for |d| < 2^52", () => {
  const prng = new Prng(4);
  const ds = [
    0,
    -1,
    1,
    -2,
    2,
    2 ** 30,
    -(2 ** 30),
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 52 - 1,
    -(2 ** 52 - 1),
  ];
  for (let i = 0; i < 2000; i++) ds.push(prng.int(-(2 ** 52 - 1), 2 ** 52 - 1));
  for (const d of ds) {
    const big = BigInt(d);
    const expected = Number(big >= 0n ? big * 2n : -big * 2n - 1n);
    assert.equal(zigzag(d), expected, `d=${d} (seed 4)`);
    assert.equal(unzigzag(zigzag(d)), d, `d=${d}`);
  }
});

Deno.test("wal bytes: malformed varints and strings are flagged, not misread", () => {
  // Nine continuation bytes: longer than any varint the WAL writes.
  const long = new Uint8Array(9).fill(0x80);
  const r = new ByteReader(long, 0, long.length);
  r.uvarint(8);
  assert.equal(r.bad, true);
  // A varint running past the end of its range.
  const cut = new ByteReader(Uint8Array.of(0x80, 0x80, 0x01), 0, 2);
  cut.uvarint(8);
  assert.equal(cut.bad, true);
  // A string longer than the bytes left.
  const s = new ByteReader(Uint8Array.of(5, 0x61, 0x62), 0, 3);
  assert.equal(s.string(), "");
  assert.equal(s.bad, true);
});

Deno.test("wal bytes: strings round-trip (ASCII fast path and UTF-8)", () => {
  const strs = [
    "",
    "a",
    "up",
    "x".repeat(33),
    "ünïcødé",
    "日本語",
    "🙂 emoji",
    "mixed ascii then ü".repeat(5),
  ];
  const buf = new ByteBuf(4);
  for (const s of strs) putString(buf, s);
  const r = new ByteReader(buf.bytes, 0, buf.pos);
  for (const s of strs) assert.equal(r.string(), s);
  assert.equal(r.pos, buf.pos);
  assert.equal(r.bad, false);
});
