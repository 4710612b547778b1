import assert from "node:assert/strict";
import {
  maxEncodedLength,
  snappyDecode,
  snappyDecodedLength,
  snappyElementCounts,
  snappyEncode,
  SnappyError,
} from "../src/codec/snappy.ts";
import { Prng } from "../src/util/prng.ts";

const bytes = (...xs: Array<number | string>): Uint8Array =>
  Uint8Array.from(
    xs.flatMap((x) =>
      typeof x === "string" ? [...x].map((c) => c.charCodeAt(0)) : [x]
    ),
  );
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function throwsSnappy(fn: () => unknown, kind?: string, msg = ""): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SnappyError, `${msg}: not a SnappyError: ${e}`);
    if (kind) assert.equal(e.kind, kind, `${msg}: ${e.message}`);
    return true;
  });
}

Deno.test("snappy decode: hand-assembled blocks of every element kind", async (t) => {
  const lit = (n: number) => Uint8Array.from({ length: n }, (_, i) => i * 7);
  const cases: Array<[string, Uint8Array, Uint8Array]> = [
    ["empty block", bytes(0x00), new Uint8Array(0)],
    ["short literal", bytes(3, 0x08, "abc"), bytes("abc")],
    [
      "literal, 1-byte length (tag 60)",
      bytes(100, 60 << 2, 99, ...lit(100)),
      lit(100),
    ],
    [
      "literal, 2-byte length (tag 61)",
      bytes(0xac, 0x02, 61 << 2, 0x2b, 0x01, ...lit(300)),
      lit(300),
    ],
    [
      "literal, 3-byte length (tag 62)",
      bytes(0xac, 0x02, 62 << 2, 0x2b, 0x01, 0x00, ...lit(300)),
      lit(300),
    ],
    [
      "literal, 4-byte length (tag 63)",
      bytes(0xac, 0x02, 63 << 2, 0x2b, 0x01, 0, 0, ...lit(300)),
      lit(300),
    ],
    [
      "copy-1, offset 4 length 4",
      bytes(8, 0x0c, "abcd", 0x01, 0x04),
      bytes("abcdabcd"),
    ],
    [
      "copy-1, length 11",
      bytes(15, 0x0c, "abcd", 0x01 | (7 << 2), 0x04),
      bytes("abcdabcdabcdabc"),
    ],
    [
      "copy-2 overlapping (offset 2, length 6)",
      bytes(8, 0x04, "ab", 0x02 | (5 << 2), 2, 0),
      bytes("abababab"),
    ],
    [
      "copy-2 run of one byte (offset 1, length 64)",
      bytes(65, 0x00, "z", 0x02 | (63 << 2), 1, 0),
      bytes("z".repeat(65)),
    ],
    [
      "copy-4 (offset 3, length 3)",
      bytes(6, 0x08, "xyz", 0x03 | (2 << 2), 3, 0, 0, 0),
      bytes("xyzxyz"),
    ],
  ];
  for (const [name, block, want] of cases) {
    await t.step(name, () => {
      assert.deepEqual(snappyDecode(block, 1 << 20), want);
      assert.equal(snappyDecodedLength(block), want.length);
    });
  }
  await t.step("copy-1 using the high offset bits (offset 2047)", () => {
    const head = lit(2047);
    // 2047 = 0x7ff: bits 8..10 go in the tag's top three bits.
    const block = bytes(
      0x83,
      0x10,
      61 << 2,
      0xfe,
      0x07,
      ...head,
      0x01 | (0x7 << 5),
      0xff,
    );
    const out = snappyDecode(block, 1 << 20);
    assert.deepEqual(out.subarray(0, 2047), head);
    assert.deepEqual(out.subarray(2047), head.subarray(0, 4));
  });
});

Deno.test("snappy decode: corrupt and truncated blocks throw SnappyError", async (t) => {
  const cases: Array<[string, Uint8Array, string]> = [
    ["empty input", bytes(), "truncated"],
    ["length header cut", bytes(0x80), "truncated"],
    [
      "length header 6 bytes",
      bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
      "corrupt",
    ],
    [
      "length header over 2^32-1",
      bytes(0xff, 0xff, 0xff, 0xff, 0x1f),
      "corrupt",
    ],
    ["literal longer than input", bytes(5, 0x10, "ab"), "truncated"],
    ["literal length bytes missing", bytes(100, 61 << 2, 0x01), "truncated"],
    ["literal past announced length", bytes(2, 0x08, "abc"), "corrupt"],
    ["copy offset 0", bytes(8, 0x0c, "abcd", 0x01, 0x00), "corrupt"],
    [
      "copy offset before output start",
      bytes(8, 0x0c, "abcd", 0x01, 0x05),
      "corrupt",
    ],
    ["copy as first element", bytes(4, 0x01, 0x01), "corrupt"],
    [
      "copy past announced length",
      bytes(6, 0x0c, "abcd", 0x01, 0x04),
      "corrupt",
    ],
    ["copy-1 offset byte missing", bytes(8, 0x0c, "abcd", 0x01), "truncated"],
    ["copy-2 offset cut", bytes(8, 0x0c, "abcd", 0x0e, 0x04), "truncated"],
    ["copy-4 offset cut", bytes(8, 0x0c, "abcd", 0x0f, 4, 0, 0), "truncated"],
    [
      "block shorter than announced",
      bytes(9, 0x0c, "abcd", 0x01, 0x04),
      "truncated",
    ],
    [
      "huge copy-4 offset",
      bytes(8, 0x0c, "abcd", 0x0f, 0xff, 0xff, 0xff, 0xff),
      "corrupt",
    ],
  ];
  for (const [name, block, kind] of cases) {
    await t.step(
      name,
      () => throwsSnappy(() => snappyDecode(block, 1 << 20), kind, name),
    );
  }
});

Deno.test("snappy decode: refuses a 4 GiB claim before allocating", () => {
  const claim = bytes(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, "x");
  assert.equal(snappyDecodedLength(claim), 0xffffffff);
  const before = Deno.memoryUsage().rss;
  throwsSnappy(() => snappyDecode(claim, 32 << 20), "too-large", "cap");
  // Even with no cap, 2 bytes cannot expand to 4 GiB: refused up front.
  throwsSnappy(() => snappyDecode(claim, Infinity), "truncated", "no cap");
  assert.ok(
    Deno.memoryUsage().rss - before < 64 << 20,
    "memory stayed bounded",
  );
  // The cap is inclusive.
  assert.deepEqual(snappyDecode(bytes(3, 0x08, "abc"), 3), bytes("abc"));
  throwsSnappy(() => snappyDecode(bytes(3, 0x08, "abc"), 2), "too-large");
});

function corpus(rng: Prng, kind: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  switch (kind) {
    case "random":
      for (let i = 0; i < n; i++) out[i] = rng.u32() & 0xff;
      break;
    case "zeros":
      break;
    case "small alphabet":
      for (let i = 0; i < n; i++) out[i] = 97 + rng.int(0, 3);
      break;
    case "text": {
      const words = [
        "metric",
        "label",
        "value",
        "series",
        "chunk",
        "{job=",
        '"api"}',
        " ",
        "\n",
        "1700000000000",
      ];
      let s = "";
      while (s.length < n) s += rng.pick(words);
      out.set(new TextEncoder().encode(s.slice(0, n)));
      break;
    }
    case "far repeat": {
      // Random half, then the same bytes again: the match is far back.
      const half = n >> 1;
      for (let i = 0; i < half; i++) out[i] = rng.u32() & 0xff;
      out.copyWithin(half, 0, n - half);
      break;
    }
    default: { // mixed: random with copied runs from anywhere before
      for (let i = 0; i < n;) {
        if (i > 8 && rng.float() < 0.5) {
          const from = rng.int(0, i - 1);
          const len = Math.min(rng.int(1, 300), n - i);
          for (let k = 0; k < len; k++) out[i + k] = out[from + k];
          i += len;
        } else out[i++] = rng.u32() & 0xff;
      }
    }
  }
  return out;
}

const KINDS = [
  "random",
  "zeros",
  "small alphabet",
  "text",
  "far repeat",
  "mixed",
];
const SIZES = [
  0,
  1,
  2,
  3,
  4,
  5,
  15,
  16,
  17,
  18,
  31,
  63,
  64,
  65,
  100,
  1000,
  4096,
  65535,
  65536,
  65537,
  140_000,
];

Deno.test("snappy: round trip over kinds and sizes", () => {
  const seed = 0x5a;
  const rng = new Prng(seed);
  for (const kind of KINDS) {
    for (const n of SIZES) {
      const src = corpus(rng, kind, n);
      const enc = snappyEncode(src);
      assert.ok(
        enc.length <= maxEncodedLength(n),
        `seed ${seed} ${kind} n=${n}: bound`,
      );
      assert.equal(snappyDecodedLength(enc), n);
      assert.deepEqual(
        snappyDecode(enc, n),
        src,
        `seed ${seed} ${kind} n=${n}`,
      );
      if (kind === "random" && n > 0) {
        assert.ok(
          enc.length <= n + 10,
          `seed ${seed} incompressible n=${n}: ${enc.length}`,
        );
      }
      if ((kind === "zeros" || kind === "text") && n >= 4096) {
        assert.ok(
          enc.length < n / 3,
          `seed ${seed} ${kind} n=${n}: ratio ${enc.length / n}`,
        );
      }
    }
  }
});

Deno.test("snappy encode: uses copies with 1-, 2- and 4-byte offsets", () => {
  const rng = new Prng(7);
  const counts = snappyElementCounts(
    snappyEncode(corpus(rng, "far repeat", 200_000)),
  );
  assert.ok(
    counts.copy4 > 0,
    `far repeat uses copy-4: ${JSON.stringify(counts)}`,
  );
  const text = snappyElementCounts(snappyEncode(corpus(rng, "text", 100_000)));
  assert.ok(text.copy1 > 0 && text.literals > 0, JSON.stringify(text));
  const mixed = snappyElementCounts(
    snappyEncode(corpus(rng, "mixed", 100_000)),
  );
  assert.ok(mixed.copy2 > 0, JSON.stringify(mixed));
  // A long run becomes a chain of 64-byte copies, not a literal.
  const zeros = snappyEncode(new Uint8Array(10_000));
  assert.ok(zeros.length < 600, `10000 zeros -> ${zeros.length} bytes`);
});

Deno.test("snappy decode: every strict prefix of a block is refused", () => {
  const seed = 11;
  const rng = new Prng(seed);
  for (const kind of KINDS) {
    const src = corpus(rng, kind, 700);
    const enc = snappyEncode(src);
    for (let cut = 0; cut < enc.length; cut++) {
      throwsSnappy(
        () => snappyDecode(enc.subarray(0, cut), 1 << 20),
        undefined,
        `seed ${seed} ${kind} cut ${cut}`,
      );
    }
  }
});

Deno.test("snappy decode: random damage never escapes as another error", () => {
  const seed = 0xbad;
  const rng = new Prng(seed);
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const src = corpus(rng, rng.pick(KINDS), rng.int(0, 2000));
    const enc = snappyEncode(src);
    const bad = enc.slice();
    if (i % 3 === 0) {
      // Pure noise.
      for (let k = 0; k < bad.length; k++) bad[k] = rng.u32() & 0xff;
    } else {
      for (let k = rng.int(1, 4); k > 0 && bad.length > 0; k--) {
        bad[rng.int(0, bad.length - 1)] ^= 1 << rng.int(0, 7);
      }
    }
    try {
      const out = snappyDecode(bad, 1 << 16);
      // Accepted: it must be exactly the length the header announces.
      assert.equal(
        out.length,
        snappyDecodedLength(bad),
        `seed ${seed} case ${i}`,
      );
    } catch (e) {
      assert.ok(e instanceof SnappyError, `seed ${seed} case ${i}: ${e}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `most damage is detected (${refused})`);
});

Deno.test("snappy interop: decodes Prometheus' own Snappy (committed response body)", () => {
  const body = Deno.readFileSync(
    new URL("./testdata/xor/remote_read_samples.snappy", import.meta.url),
  );
  const counts = snappyElementCounts(body);
  assert.ok(counts.copy1 > 0 && counts.copy2 > 0, JSON.stringify(counts));
  const raw = snappyDecode(body, 64 << 20);
  assert.equal(raw.length, snappyDecodedLength(body));
  // Our encoder's output of the same bytes decodes back to them.
  assert.deepEqual(snappyDecode(snappyEncode(raw), raw.length), raw);
  // Spot-check content: the protobuf carries the golden metric names.
  assert.ok(text(raw).includes("golden_random_walk"));
});
