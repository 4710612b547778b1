// The WASM XOR codec against the plain-TS reference (the oracle) over seeded
// random and adversarial series, plus hand-computed encodings from the spec.
import assert from "node:assert/strict";
import {
  encodeChunks,
  EngineError,
  ERR_CAPACITY,
  ERR_CORRUPT,
  ERR_TRUNCATED,
  loadEngine,
  XorAppender,
  XorDecoder,
} from "../src/bindings/mod.ts";
import {
  bitsOf,
  decodeChunk,
  encodeChunk,
  type ExactSample,
} from "../src/reference/xor.ts";
import { Prng } from "../src/util/prng.ts";
import { makeSeries, SHAPES, toArrays } from "./_xor_series.ts";

const engine = await loadEngine();

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function decodedSamples(dec: XorDecoder): ExactSample[] {
  const ts = dec.exactTimestamps;
  const bits = dec.valueBits;
  return Array.from(ts, (t, i) => ({ t, vbits: bits[i] }));
}

Deno.test("hand-computed encodings from the format spec", async (t) => {
  // f(samples, expected chunk hex); "|00" marks the empty byte Prometheus
  // 2.x leaves after whole bytes written at a byte boundary.
  const cases: [string, ExactSample[], string][] = [
    ["empty chunk", [], "0000"],
    [
      // count 1, zigzag varint(0) = 00, then float64 0.
      "one sample at t=0, v=0",
      [{ t: 0n, vbits: 0n }],
      "0001" + "00" + "0000000000000000" + "|00",
    ],
    [
      // zigzag(1000) = 2000 = 0xd0 0x0f; v = 1.0 = 3ff0000000000000.
      "one sample at t=1000, v=1",
      [{ t: 1000n, vbits: bitsOf(1) }],
      "0001" + "d00f" + "3ff0000000000000" + "|00",
    ],
    [
      // zigzag(-1) = 1; second sample: uvarint(15000) = 98 75, unchanged
      // value = one 0 bit, padded to a byte.
      "two samples, same value",
      [{ t: -1n, vbits: bitsOf(2) }, { t: 14999n, vbits: bitsOf(2) }],
      "0002" + "01" + "4000000000000000" + "9875" + "00",
    ],
    [
      // third sample with dod = 0 and the same value: bits "0" "0".
      "three regular samples, same value",
      [
        { t: 0n, vbits: bitsOf(5) },
        { t: 15000n, vbits: bitsOf(5) },
        { t: 30000n, vbits: bitsOf(5) },
      ],
      "0003" + "00" + "4014000000000000" + "9875" + "00",
    ],
    [
      // 1.0 -> 3.0: xor = 0x7ff8000000000000: leading 1, trailing 51,
      // 12 significant bits: '1' '1' 00001 001100 111111111111
      // = 1100 0010 0110 0111 1111 1111 1(000 0000) -> c2 67 ff 80.
      "value change writes leading/sig/bits",
      [{ t: 0n, vbits: bitsOf(1) }, { t: 1n, vbits: bitsOf(3) }],
      "0002" + "00" + "3ff0000000000000" + "01" + "c267ff80",
    ],
  ];
  for (const [name, samples, want] of cases) {
    await t.step(name, () => {
      for (const legacyPadding of [true, false]) {
        const expected = legacyPadding
          ? want.replace("|", "")
          : want.replace(/\|.*/, "");
        const what = legacyPadding ? "prometheus 2" : "prometheus 3";
        assert.equal(
          hex(encodeChunk(samples, legacyPadding)),
          expected,
          `reference, ${what}`,
        );
        const { ts, values } = toArrays(samples);
        const wasm = samples.length === 0
          ? new Uint8Array([0, 0])
          : encodeChunks(engine, ts, values, 120, { legacyPadding })[0];
        assert.equal(hex(wasm), expected, `wasm, ${what}`);
      }
    });
  }
});

Deno.test("wasm encode/decode equals the reference on seeded series", async (t) => {
  const dec = new XorDecoder(engine);
  for (const shape of SHAPES) {
    await t.step(shape, () => {
      for (let seed = 1; seed <= 150; seed++) {
        const rng = new Prng(seed * 7919 + shape.length);
        const n = rng.pick([1, 2, 3, 4, 7, 50, 120, 121, 240, 500]);
        const samples = makeSeries(rng, shape, n);
        const { ts, values } = toArrays(samples);
        const per = rng.pick([1, 2, 120, 1000]);
        const legacyPadding = seed % 2 === 0;
        const chunks = encodeChunks(engine, ts, values, per, { legacyPadding });
        assert.equal(chunks.length, Math.ceil(n / per), `seed ${seed}`);
        let at = 0;
        for (const chunk of chunks) {
          const part = samples.slice(at, at + per);
          at += part.length;
          assert.equal(
            hex(chunk),
            hex(encodeChunk(part, legacyPadding)),
            `seed ${seed}: bytes differ from the reference`,
          );
          assert.equal(dec.decodeExact(chunk), part.length);
          assert.deepEqual(decodedSamples(dec), part, `seed ${seed}`);
          assert.deepEqual(decodeChunk(chunk), part, `seed ${seed} (ref)`);
        }
      }
    });
  }
  dec.free();
});

Deno.test("f64 timestamps decode equal to int64 ones within 2^53", () => {
  const dec = new XorDecoder(engine);
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Prng(seed);
    const samples = makeSeries(
      rng,
      rng.pick(["regular", "jitter", "walk"]),
      130,
    );
    const { ts, values } = toArrays(samples);
    const f64ts = Float64Array.from(ts, Number);
    const [chunk] = encodeChunks(engine, f64ts, values, 200);
    assert.equal(hex(chunk), hex(encodeChunk(samples)), `seed ${seed}`);
    dec.decode(chunk);
    assert.deepEqual(Array.from(dec.timestamps), Array.from(f64ts));
  }
  dec.free();
});

Deno.test("appender: one at a time equals whole-series encoding; resume at every point", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Prng(seed * 31);
    const shape = SHAPES[seed % SHAPES.length];
    const samples = makeSeries(rng, shape, rng.int(1, 150));
    const legacyPadding = seed % 2 === 0;
    const want = hex(encodeChunk(samples, legacyPadding));
    // A small buffer exercises growth.
    const app = XorAppender.create(engine, 32, { legacyPadding });
    for (const s of samples) {
      const b = new BigUint64Array([s.vbits]);
      app.appendExact(s.t, new Float64Array(b.buffer)[0]);
    }
    assert.equal(hex(app.bytes()), want, `seed ${seed} ${shape}`);
    assert.equal(app.count, samples.length);
    app.free();

    for (
      let cut = 0;
      cut <= samples.length;
      cut += Math.max(1, samples.length >> 3)
    ) {
      const head = cut === 0
        ? new Uint8Array([0, 0])
        : encodeChunk(samples.slice(0, cut), legacyPadding);
      const resumed = XorAppender.resume(engine, head, { legacyPadding });
      assert.equal(resumed.count, cut);
      for (const s of samples.slice(cut)) {
        const b = new BigUint64Array([s.vbits]);
        resumed.appendExact(s.t, new Float64Array(b.buffer)[0]);
      }
      assert.equal(
        hex(resumed.bytes()),
        want,
        `seed ${seed} resumed at ${cut}`,
      );
      resumed.free();
    }
  }
});

Deno.test("appender stops at 65535 samples with ERR_FULL", () => {
  const app = XorAppender.create(engine);
  for (let i = 0; i < 0xffff; i++) app.append(i * 1000, i % 7);
  assert.throws(
    () => app.append(1e12, 1),
    (e: unknown) => e instanceof EngineError && e.code === -5,
  );
  assert.equal(app.count, 0xffff);
  const dec = new XorDecoder(engine);
  assert.equal(dec.decode(app.bytes()), 0xffff);
  assert.equal(dec.values[0xfffe], 0xfffe % 7);
  dec.free();
  app.free();
});

Deno.test("seek and decodeRange match a scan of the decoded samples", () => {
  const dec = new XorDecoder(engine);
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Prng(seed * 101);
    const samples = makeSeries(
      rng,
      rng.pick(["regular", "jitter", "counter"]),
      rng.int(1, 120),
    );
    const ts = samples.map((s) => Number(s.t));
    const { values } = toArrays(samples);
    const [chunk] = encodeChunks(engine, Float64Array.from(ts), values);
    const lo = ts[0] - 20000, hi = ts[ts.length - 1] + 20000;
    for (let k = 0; k < 10; k++) {
      const t = rng.float() < 0.3 ? rng.pick(ts) : rng.int(lo, hi);
      const want = ts.findIndex((x) => x >= t);
      assert.equal(
        dec.seek(chunk, t),
        want < 0 ? ts.length : want,
        `seed ${seed} t ${t}`,
      );
      const a = rng.int(lo, hi), b = rng.int(lo, hi);
      const [mint, maxt] = a < b ? [a, b] : [b, a];
      const n = dec.decodeRange(chunk, mint, maxt);
      const inRange = ts.filter((x) => x >= mint && x <= maxt);
      assert.equal(n, inRange.length);
      assert.deepEqual(Array.from(dec.timestamps), inRange);
    }
  }
  dec.free();
});

Deno.test("truncated chunks are rejected, never misread", () => {
  const dec = new XorDecoder(engine);
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Prng(seed * 17);
    const samples = makeSeries(
      rng,
      SHAPES[seed % SHAPES.length],
      rng.int(1, 120),
    );
    // Prometheus 3 layout: no trailing empty byte, so every cut loses data.
    const chunk = encodeChunk(samples, false);
    for (let len = 0; len < chunk.length; len++) {
      assert.throws(
        () => dec.decodeExact(chunk.subarray(0, len)),
        (e: unknown) => e instanceof EngineError && e.code === ERR_TRUNCATED,
        `seed ${seed}: truncated to ${len} of ${chunk.length} bytes`,
      );
    }
  }
  dec.free();
});

Deno.test("corrupt bytes: wasm and reference agree on error or result", () => {
  const dec = new XorDecoder(engine);
  let errors = 0, decoded = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rng = new Prng(seed * 13);
    let chunk: Uint8Array;
    if (seed % 3 === 0) {
      chunk = new Uint8Array(rng.int(0, 64)).map(() => rng.int(0, 255));
    } else {
      chunk = encodeChunk(
        makeSeries(rng, SHAPES[seed % SHAPES.length], rng.int(1, 40)),
      );
      for (let k = rng.int(1, 4); k > 0; k--) {
        chunk[rng.int(0, chunk.length - 1)] ^= 1 << rng.int(0, 7);
      }
    }
    let want: ExactSample[] | null = null;
    try {
      want = decodeChunk(chunk);
    } catch {
      want = null;
    }
    // The header count bounds the output buffer: keep corrupt counts small.
    try {
      dec.decodeExact(chunk);
      assert.ok(
        want !== null,
        `seed ${seed}: wasm decoded what the reference rejects`,
      );
      assert.deepEqual(decodedSamples(dec), want, `seed ${seed}`);
      decoded++;
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      assert.ok([ERR_TRUNCATED, ERR_CORRUPT, ERR_CAPACITY].includes(e.code));
      assert.equal(
        want,
        null,
        `seed ${seed}: wasm rejected (${e.message}) what the reference reads`,
      );
      errors++;
    }
  }
  assert.ok(
    errors > 100 && decoded > 100,
    `both paths exercised: ${errors} errors, ${decoded} decoded`,
  );
  dec.free();
});

Deno.test("bad arguments are errors, not traps", () => {
  const raw = engine.raw;
  const memSize = engine.raw.memory.buffer.byteLength;
  assert.equal(raw.xor_decode_f64t(memSize - 4, 4, 0, 0, 1000), -3);
  assert.equal(raw.xor_decode_f64t(0, 0xffffffff, 0, 0, 1000), -3);
  assert.equal(raw.xor_app_init(memSize, 0, 100), -3);
  assert.throws(
    () => encodeChunks(engine, new Float64Array([1.5]), new Float64Array([1])),
    EngineError,
  );
});
