import assert from "node:assert/strict";
import {
  ProtoError,
  ProtoReader,
  ProtoWriter,
  WireType,
} from "../src/codec/protowire.ts";
import { Prng } from "../src/util/prng.ts";

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const unhex = (s: string) =>
  Uint8Array.from(s.split(" ").filter(Boolean), (x) => parseInt(x, 16));

function throwsProto(fn: () => unknown, kind: string, msg: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtoError, `${msg}: not a ProtoError: ${e}`);
    assert.equal(e.kind, kind, `${msg}: ${e.message}`);
    return true;
  });
}

Deno.test("protowire: int64 varints, table", async (t) => {
  // [value, canonical encoding] — negatives are 10-byte two's complement.
  const cases: Array<[number, string]> = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "80 01"],
    [150, "96 01"],
    [300, "ac 02"],
    [2 ** 31, "80 80 80 80 08"],
    [2 ** 32, "80 80 80 80 10"],
    [1_700_000_000_000, "80 d0 95 ff bc 31"],
    [2 ** 53 - 1, "ff ff ff ff ff ff ff 0f"],
    [-1, "ff ff ff ff ff ff ff ff ff 01"],
    [-2, "fe ff ff ff ff ff ff ff ff 01"],
    [-10_800_000, "80 e9 ec fa ff ff ff ff ff 01"],
    [-(2 ** 53 - 1), "81 80 80 80 80 80 80 f0 ff 01"],
  ];
  for (const [v, enc] of cases) {
    await t.step(`${v}`, () => {
      const got = new ProtoWriter().int64(v).finish();
      assert.equal(hex(got), enc);
      const r = new ProtoReader(got);
      assert.equal(r.int64(), v);
      assert.ok(r.done());
      assert.equal(new ProtoReader(got).int64Big(), BigInt(v));
    });
  }
  await t.step("int64 extremes need BigInt", () => {
    const min = new ProtoWriter().int64Big(-(2n ** 63n)).finish();
    assert.equal(hex(min), "80 80 80 80 80 80 80 80 80 01");
    assert.equal(new ProtoReader(min).int64Big(), -(2n ** 63n));
    throwsProto(
      () => new ProtoReader(min).int64(),
      "range",
      "int64 min as number",
    );
    const max = new ProtoWriter().int64Big(2n ** 63n - 1n).finish();
    assert.equal(new ProtoReader(max).uint64Big(), 2n ** 63n - 1n);
    const umax = unhex("ff ff ff ff ff ff ff ff ff 01");
    assert.equal(new ProtoReader(umax).uint64Big(), 2n ** 64n - 1n);
  });
});

Deno.test("protowire: zigzag sint64, table", async (t) => {
  const cases: Array<[number, string]> = [
    [0, "00"],
    [-1, "01"],
    [1, "02"],
    [-2, "03"],
    [2147483647, "fe ff ff ff 0f"],
    [-2147483648, "ff ff ff ff 0f"],
    [2 ** 52, "80 80 80 80 80 80 80 10"],
    [-(2 ** 53) + 1, "fd ff ff ff ff ff ff 1f"],
  ];
  for (const [v, enc] of cases) {
    await t.step(`${v}`, () => {
      const got = new ProtoWriter().sint64(v).finish();
      assert.equal(hex(got), enc);
      assert.equal(new ProtoReader(got).sint64(), v);
    });
  }
});

Deno.test("protowire: fields as in the protobuf encoding guide", () => {
  // message { int32 a = 1; string b = 2; } with a=150, b="testing".
  const w = new ProtoWriter();
  w.tag(1, WireType.VARINT).uvarint(150);
  w.stringField(2, "testing");
  assert.equal(hex(w.finish()), "08 96 01 12 07 74 65 73 74 69 6e 67");
  const r = new ProtoReader(w.finish());
  assert.equal(r.tag(), 1);
  assert.equal(r.wireType, WireType.VARINT);
  assert.equal(r.int32(), 150);
  assert.equal(r.tag(), 2);
  assert.equal(r.string(), "testing");
  assert.ok(r.done());
});

Deno.test("protowire: doubles keep their bits, including NaN payloads", () => {
  const bits = [0x7ff0000000000002n, 0xfff8dead00000001n, 0x8000000000000000n];
  for (const b of bits) {
    const src = new Uint8Array(new BigUint64Array([b]).buffer);
    const enc = new ProtoWriter().tag(1, WireType.I64).raw8(src, 0).finish();
    const r = new ProtoReader(enc);
    r.tag();
    const dst = new Uint8Array(8);
    r.fixed64Into(dst, 0);
    assert.equal(new BigUint64Array(dst.buffer)[0], b);
  }
  const enc = new ProtoWriter().double(-1.5).fixed32(0xdeadbeef).finish();
  const r = new ProtoReader(enc);
  assert.equal(r.double(), -1.5);
  assert.equal(r.fixed32(), 0xdeadbeef);
});

Deno.test("protowire: nested messages with long bodies (fork/join)", () => {
  const w = new ProtoWriter(16);
  const outer = w.fork();
  w.stringField(1, "x".repeat(200)); // forces a 2-byte length
  const inner = w.fork();
  w.tag(1, WireType.VARINT).int64(-1);
  w.join(2, inner);
  w.join(5, outer);
  w.tag(6, WireType.VARINT).uvarint(7);
  const r = new ProtoReader(w.finish());
  assert.equal(r.tag(), 5);
  const m = r.message();
  assert.equal(m.tag(), 1);
  assert.equal(m.string(), "x".repeat(200));
  assert.equal(m.tag(), 2);
  const i = m.message();
  i.tag();
  assert.equal(i.int64(), -1);
  assert.ok(i.done() && m.done());
  assert.equal(r.tag(), 6);
  assert.equal(r.uint32(), 7);
  assert.ok(r.done());
});

Deno.test("protowire: skip() passes every wire type, groups nested", () => {
  const body = unhex(
    [
      "08 96 01", // 1: varint
      "11 01 02 03 04 05 06 07 08", // 2: fixed64
      "1a 03 61 62 63", // 3: bytes
      "25 01 02 03 04", // 4: fixed32
      "2b 08 01 33 10 02 34 2c", // 5: group { 1: 1, 6: group { 2: 2 } }
      "30 2a", // 6: varint 42 (the field we want)
    ].join(" "),
  );
  const r = new ProtoReader(body);
  const seen: number[] = [];
  let answer = -1;
  while (!r.done()) {
    const f = r.tag();
    seen.push(f);
    if (f === 6) answer = r.int32();
    else r.skip();
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.equal(answer, 42);
});

Deno.test("protowire: malformed input throws ProtoError", async (t) => {
  const cases: Array<[string, string, (r: ProtoReader) => unknown, string]> = [
    ["varint cut", "96", (r) => r.int64(), "truncated"],
    [
      "varint of 11 bytes",
      "ff ff ff ff ff ff ff ff ff ff 01",
      (r) => r.int64Big(),
      "corrupt",
    ],
    [
      "10th varint byte > 1",
      "ff ff ff ff ff ff ff ff ff 02",
      (r) => r.int64Big(),
      "corrupt",
    ],
    ["field number 0", "00", (r) => r.tag(), "corrupt"],
    ["wire type 6", "0e", (r) => r.tag(), "corrupt"],
    ["wire type 7", "0f", (r) => r.tag(), "corrupt"],
    ["tag over 32 bits", "80 80 80 80 80 01", (r) => r.tag(), "corrupt"],
    ["length past end", "0a 05 61", (r) => (r.tag(), r.bytes()), "truncated"],
    [
      "length >= 2^32",
      "0a 80 80 80 80 10",
      (r) => (r.tag(), r.bytes()),
      "truncated",
    ],
    ["fixed64 cut", "09 01 02", (r) => (r.tag(), r.skip()), "truncated"],
    ["fixed32 cut", "0d 01", (r) => (r.tag(), r.fixed32()), "truncated"],
    ["group never closed", "0b 08 01", (r) => (r.tag(), r.skip()), "truncated"],
    [
      "group closed by wrong field",
      "0b 08 01 14",
      (r) => (r.tag(), r.skip()),
      "corrupt",
    ],
    ["stray end-group", "0c", (r) => (r.tag(), r.skip()), "corrupt"],
    [
      "invalid UTF-8 string",
      "0a 02 c3 28",
      (r) => (r.tag(), r.string()),
      "corrupt",
    ],
    ["uint32 over 32 bits", "80 80 80 80 10", (r) => r.uint32(), "range"],
    ["int64 beyond 2^53", "80 80 80 80 80 80 80 10", (r) => r.int64(), "range"],
  ];
  for (const [name, input, op, kind] of cases) {
    await t.step(
      name,
      () => throwsProto(() => op(new ProtoReader(unhex(input))), kind, name),
    );
  }
  await t.step("sub-message reader stays inside its window", () => {
    // Outer field 1 holds 2 bytes; the inner varint claims to continue.
    const r = new ProtoReader(unhex("0a 02 08 96 01"));
    r.tag();
    const m = r.message();
    m.tag();
    throwsProto(() => m.int64(), "truncated", "inner varint");
  });
  await t.step("expect() rejects a mismatched wire type", () => {
    const r = new ProtoReader(unhex("08 01"));
    r.tag();
    throwsProto(() => r.expect(WireType.LEN), "corrupt", "expect");
  });
});

Deno.test("protowire: random round trip of mixed fields", () => {
  const seed = 0x9a11;
  const rng = new Prng(seed);
  for (let c = 0; c < 500; c++) {
    const items: Array<[number, number, unknown]> = [];
    const w = new ProtoWriter(16);
    for (let k = rng.int(0, 20); k > 0; k--) {
      const field = rng.int(1, 2 ** 29 - 1);
      const kind = rng.int(0, 4);
      if (kind === 0) {
        const v = rng.int(-(2 ** 53) + 1, 2 ** 53 - 1);
        w.tag(field, WireType.VARINT).int64(v);
        items.push([field, kind, v]);
      } else if (kind === 1) {
        const v = rng.i64();
        w.tag(field, WireType.VARINT).int64Big(v);
        items.push([field, kind, v]);
      } else if (kind === 2) {
        const v = rng.int(-(2 ** 52), 2 ** 52);
        w.tag(field, WireType.VARINT).sint64(v);
        items.push([field, kind, v]);
      } else if (kind === 3) {
        const v = String.fromCodePoint(
          ...Array.from(
            { length: rng.int(0, 200) },
            () => rng.pick([0x41, 0xe9, 0x4e2d, 0x1f600]),
          ),
        );
        w.stringField(field, v);
        items.push([field, kind, v]);
      } else {
        const v = rng.normal() * 1e6;
        w.tag(field, WireType.I64).double(v);
        items.push([field, kind, v]);
      }
    }
    const r = new ProtoReader(w.finish());
    for (const [field, kind, v] of items) {
      assert.equal(r.tag(), field, `seed ${seed} case ${c}`);
      const got = kind === 0
        ? r.int64()
        : kind === 1
        ? r.int64Big()
        : kind === 2
        ? r.sint64()
        : kind === 3
        ? r.string()
        : r.double();
      assert.equal(got, v, `seed ${seed} case ${c} field ${field}`);
    }
    assert.ok(r.done(), `seed ${seed} case ${c}: trailing bytes`);
  }
});

Deno.test("protowire: random bytes never hang or escape as another error", () => {
  const seed = 0xfeed;
  const rng = new Prng(seed);
  for (let c = 0; c < 5000; c++) {
    const buf = Uint8Array.from(
      { length: rng.int(0, 64) },
      () => rng.u32() & 0xff,
    );
    const r = new ProtoReader(buf);
    try {
      while (!r.done()) {
        const before = r.pos;
        r.tag();
        r.skip();
        assert.ok(r.pos > before, "progress");
      }
    } catch (e) {
      assert.ok(e instanceof ProtoError, `seed ${seed} case ${c}: ${e}`);
    }
  }
});
