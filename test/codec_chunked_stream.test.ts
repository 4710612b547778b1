import assert from "node:assert/strict";
import {
  decodeFrames,
  encodeFrame,
  FrameError,
  FrameReader,
  readFrames,
} from "../src/codec/chunked_stream.ts";
import { Prng } from "../src/util/prng.ts";

const enc = new TextEncoder();
const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function throwsFrame(fn: () => unknown, kind: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FrameError, `not a FrameError: ${e}`);
    assert.equal(e.kind, kind, e.message);
    return true;
  });
}

Deno.test("chunked stream: frame layout is uvarint length, CRC-32C big-endian, message", () => {
  // CRC-32C("123456789") = 0xe3069283 (catalogue check value).
  assert.equal(
    hex(encodeFrame(enc.encode("123456789"))),
    "09" + "e3069283" + hex(enc.encode("123456789")),
  );
  assert.equal(hex(encodeFrame(new Uint8Array(0))), "00" + "00000000");
  const big = encodeFrame(new Uint8Array(300));
  assert.equal(hex(big.subarray(0, 2)), "ac02");
  assert.equal(big.length, 2 + 4 + 300);
});

function randomMessages(rng: Prng): Uint8Array[] {
  return Array.from(
    { length: rng.int(0, 12) },
    () => Uint8Array.from({ length: rng.int(0, 400) }, () => rng.u32() & 0xff),
  );
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

Deno.test("chunked stream: messages survive any split of the body", async () => {
  const seed = 0xf4a;
  const rng = new Prng(seed);
  for (let c = 0; c < 200; c++) {
    const msgs = randomMessages(rng);
    const body = concat(msgs.map(encodeFrame));
    assert.deepEqual(
      decodeFrames(body, 1 << 20),
      msgs,
      `seed ${seed} case ${c}`,
    );
    // Pushed in random pieces, including single bytes and empty pieces.
    const reader = new FrameReader(1 << 20);
    const got: Uint8Array[] = [];
    for (let at = 0; at < body.length;) {
      const k = rng.int(0, 40);
      reader.push(body.subarray(at, at + k));
      at += k;
      for (let m = reader.next(); m !== null; m = reader.next()) got.push(m);
    }
    reader.end();
    assert.deepEqual(got, msgs, `seed ${seed} case ${c} (pieces)`);
    // As a ReadableStream.
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let at = 0; at < body.length; at += 33) {
          ctl.enqueue(body.slice(at, at + 33));
        }
        ctl.close();
      },
    });
    const streamed: Uint8Array[] = [];
    for await (const m of readFrames(stream, 1 << 20)) streamed.push(m);
    assert.deepEqual(streamed, msgs, `seed ${seed} case ${c} (stream)`);
  }
});

Deno.test("chunked stream: damage is detected", async (t) => {
  const msg = enc.encode("a ChunkedReadResponse would be here");
  const frame = encodeFrame(msg);
  await t.step("flipped message bit fails the checksum", () => {
    for (let i = 5; i < frame.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = frame.slice();
        bad[i] ^= 1 << bit;
        throwsFrame(() => decodeFrames(bad, 1 << 20), "checksum");
      }
    }
  });
  await t.step("flipped checksum bit fails the checksum", () => {
    const bad = frame.slice();
    bad[3] ^= 0x10;
    throwsFrame(() => decodeFrames(bad, 1 << 20), "checksum");
  });
  await t.step("every strict prefix is truncated", () => {
    for (let cut = 1; cut < frame.length; cut++) {
      throwsFrame(
        () => decodeFrames(frame.subarray(0, cut), 1 << 20),
        "truncated",
      );
    }
  });
  await t.step("second frame cut short", () => {
    const two = concat([frame, frame.subarray(0, 10)]);
    throwsFrame(() => decodeFrames(two, 1 << 20), "truncated");
  });
  await t.step("length over the limit is refused from the header alone", () => {
    const reader = new FrameReader(1000);
    reader.push(Uint8Array.of(0xe9, 0x07)); // 1001, no payload yet
    throwsFrame(() => reader.next(), "too-large");
  });
  await t.step("4 GiB length header refused without buffering", () => {
    throwsFrame(
      () => decodeFrames(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), 50 << 20),
      "too-large",
    );
  });
  await t.step("length varint longer than 5 bytes", () => {
    throwsFrame(
      () =>
        decodeFrames(
          Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
          Infinity,
        ),
      "corrupt",
    );
  });
  await t.step(
    "empty body has no frames",
    () => assert.deepEqual(decodeFrames(new Uint8Array(0), 10), []),
  );
});
