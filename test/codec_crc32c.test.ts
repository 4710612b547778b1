import assert from "node:assert/strict";
import { crc32c } from "../src/codec/crc32c.ts";
import { Prng } from "../src/util/prng.ts";

// Bit-at-a-time CRC-32C straight from the definition: the oracle.
function crcBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

Deno.test("crc32c: published check values", async (t) => {
  const enc = new TextEncoder();
  const cases: Array<[string, Uint8Array, number]> = [
    ["empty", new Uint8Array(0), 0x00000000],
    [
      "'123456789' (catalogue check value)",
      enc.encode("123456789"),
      0xe3069283,
    ],
    ["32 zero bytes (RFC 3720 B.4)", new Uint8Array(32), 0x8a9136aa],
    ["32 0xff bytes (RFC 3720 B.4)", new Uint8Array(32).fill(0xff), 0x62a8ab43],
    [
      "0..31 ascending (RFC 3720 B.4)",
      Uint8Array.from({ length: 32 }, (_, i) => i),
      0x46dd794e,
    ],
    [
      "31..0 descending (RFC 3720 B.4)",
      Uint8Array.from({ length: 32 }, (_, i) => 31 - i),
      0x113fdb5c,
    ],
  ];
  for (const [name, bytes, want] of cases) {
    await t.step(name, () => assert.equal(crc32c(bytes), want));
  }
});

Deno.test("crc32c: matches the bitwise definition on random data, any split", () => {
  const seed = 0xc5c;
  const rng = new Prng(seed);
  for (let i = 0; i < 300; i++) {
    const n = rng.int(0, 700);
    const bytes = Uint8Array.from({ length: n }, () => rng.u32() & 0xff);
    // Unaligned views too: the table path must not assume alignment.
    const off = rng.int(0, 3);
    const padded = new Uint8Array(n + off);
    padded.set(bytes, off);
    const view = padded.subarray(off);
    const want = crcBitwise(bytes);
    assert.equal(crc32c(view), want, `seed ${seed} case ${i} n=${n}`);
    const cut = rng.int(0, n);
    assert.equal(
      crc32c(view.subarray(cut), crc32c(view.subarray(0, cut))),
      want,
      `seed ${seed} case ${i}: incremental at ${cut}`,
    );
  }
});
