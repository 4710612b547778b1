// Dense records: lossless round trips of every XOR test shape that fits a
// block (timestamps and value bits exact, through both samples(ref) and the
// XOR bytes of chunk(ref)), the value and timestamp codecs against
// adversarial inputs, and damage: flipped bytes are BlockCorruptError,
// structural damage with valid CRCs is DecodeError only, a record pointing
// at the wrong kind of record is BlockCorruptError.
import assert from "node:assert/strict";
import { encodeChunks, loadEngine } from "../src/bindings/mod.ts";
import { crc32c } from "../src/codec/crc32c.ts";
import { labelsFrom } from "../src/model/labels.ts";
import { decodeChunk, type ExactSample } from "../src/reference/xor.ts";
import {
  BlockCorruptError,
  BlockReader,
  type BlockSeriesInput,
  ChunkEncoding,
  writeBlock,
} from "../src/storage/block/mod.ts";
import { ByteReader } from "../src/storage/block/bytes.ts";
import { DecodeError } from "../src/storage/block/errors.ts";
import {
  decodeDenseRecord,
  decodeTimestampStream,
  DENSE_VALUE_LIMIT,
  encodeDenseRecord,
  encodeTimestampStream,
  encodeValues,
} from "../src/storage/block/dense_record.ts";
import { Prng } from "../src/util/prng.ts";
import { makeSeries, SHAPES, SPECIAL_BITS } from "./_xor_series.ts";
import { bitsOf, withTempDir } from "./_block_helpers.ts";
import { generateWorkload } from "../bench/data/generator.ts";
import { toBlockSeries } from "./_block_helpers.ts";

const engine = await loadEngine();
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Samples with strictly rising timestamps (later duplicates dropped). */
function rising(samples: ExactSample[]): ExactSample[] {
  const out: ExactSample[] = [];
  for (const s of samples) {
    if (!out.length || s.t > out[out.length - 1].t) out.push(s);
  }
  return out;
}

function xorChunks(samples: ExactSample[], perChunk: number) {
  const ts = BigInt64Array.from(samples, (s) => s.t);
  const values = new Float64Array(
    BigUint64Array.from(samples, (s) => s.vbits).buffer,
  );
  let at = 0;
  return encodeChunks(engine, ts, values, perChunk).map((data) => {
    const n = (data[0] << 8) | data[1];
    const c = {
      minTime: Number(ts[at]),
      maxTime: Number(ts[at + n - 1]),
      data,
    };
    at += n;
    return c;
  });
}

Deno.test("every XOR test shape within ±2^53 round-trips exactly", async (t) => {
  const used = new Map<string, number[]>();
  for (const shape of SHAPES) {
    await t.step(shape, async () => {
      const counts = [0, 0, 0];
      for (let seed = 1; seed <= 12; seed++) {
        const rng = new Prng(seed * 31 + shape.length);
        const series: BlockSeriesInput[] = [];
        const want = new Map<string, ExactSample[]>();
        let lo = MAX_SAFE, hi = -MAX_SAFE;
        for (let k = 0; k < 6; k++) {
          const samples = rising(
            makeSeries(rng, shape, rng.int(1, k === 0 ? 3000 : 700)),
          );
          const first = samples[0].t, last = samples[samples.length - 1].t;
          if (first < -MAX_SAFE || last >= MAX_SAFE) continue;
          if (first < lo) lo = first;
          if (last > hi) hi = last;
          const labels = labelsFrom({ __name__: shape, k: String(k) });
          want.set(String(k), samples);
          series.push({ labels, chunks: xorChunks(samples, rng.int(1, 200)) });
        }
        if (!series.length) continue;
        await withTempDir(async (dir) => {
          const meta = await writeBlock(dir, {
            tenant: "t",
            minTime: Number(lo),
            maxTime: Number(hi) + 1,
            series,
            engine,
          });
          const r = await BlockReader.open(meta.dir, { engine });
          for (const s of r.series()) {
            const exp = want.get(s.labels[1].value)!;
            const gotFast: ExactSample[] = [];
            const gotXor: ExactSample[] = [];
            for (const ref of s.chunks) {
              counts[r.record(ref).encoding]++;
              const fast = r.samples(ref);
              const bits = bitsOf(fast.values);
              fast.ts.forEach((t, i) =>
                gotFast.push({ t: BigInt(t), vbits: bits[i] })
              );
              gotXor.push(...decodeChunk(r.chunk(ref)));
            }
            const msg = `shape ${shape} seed ${seed} series ${
              s.labels[1].value
            }`;
            assert.deepEqual(gotFast, exp, msg + " samples(ref)");
            assert.deepEqual(gotXor, exp, msg + " chunk(ref)");
          }
          r.close();
        });
      }
      used.set(shape, counts);
    });
  }
  // The dense encoding carries the ordinary shapes (random picks among the
  // special values stay XOR: Gorilla's XOR is smaller for them).
  for (const shape of ["regular", "jitter", "counter", "walk"]) {
    const [, xor, dense] = used.get(shape)!;
    assert.ok(dense > 0 && dense >= xor, `${shape}: ${used.get(shape)}`);
  }
});

/** Value arrays of many kinds, as float64 bits. */
function valueCases(rng: Prng, n: number): [string, BigUint64Array][] {
  const make = (f: (i: number) => bigint) =>
    BigUint64Array.from({ length: n }, (_, i) => f(i));
  const num = (x: number) => new BigUint64Array(Float64Array.of(x).buffer)[0];
  let walk = 0;
  const k = rng.int(0, 6);
  return [
    ["special", make(() => rng.pick(SPECIAL_BITS))],
    ["random bits", make(() => BigInt.asUintN(64, rng.i64()))],
    ["constant", make(() => num(42.5))],
    [
      "decimal walk",
      make(() => {
        walk += Math.round(rng.normal() * 50);
        return num(walk / 10 ** k);
      }),
    ],
    [
      "decimal walk with specials",
      make(() => {
        walk += rng.int(-3, 3);
        return rng.float() < 0.03 ? rng.pick(SPECIAL_BITS) : num(walk / 100);
      }),
    ],
    [
      "near the integer limit",
      make(() => num(rng.pick([1, -1]) * (DENSE_VALUE_LIMIT - rng.int(0, 3)))),
    ],
    [
      "at and past the limit",
      make(() =>
        num(rng.pick([1, -1]) * (DENSE_VALUE_LIMIT + rng.int(-1, 1) * 2))
      ),
    ],
    ["float counter", make((i) => num(1e5 + i * 7.3 + rng.float()))],
    [
      "wide magnitudes",
      make(() => num(rng.float() * 10 ** rng.int(-300, 300))),
    ],
    ["alternating signs", make((i) => num((i % 2 ? -1 : 1) * rng.int(0, 1e6)))],
    [
      "decimals at every k",
      make(() => num(rng.int(-1e6, 1e6) / 10 ** rng.int(0, 8))),
    ],
  ];
}

Deno.test("value codec: bit-exact over adversarial inputs", async (t) => {
  for (const n of [1, 2, 3, 17, 120, 480, 2048]) {
    await t.step(`n = ${n}`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const rng = new Prng(seed * 1009 + n);
        for (const [name, bits] of valueCases(rng, n)) {
          const values = new Float64Array(bits.buffer);
          const record = encodeDenseRecord(
            { n, streamOffset: 8, streamStart: 0 },
            encodeValues(values),
          );
          const { header, values: got } = decodeDenseRecord(record);
          assert.equal(header.n, n);
          assert.deepEqual(bitsOf(got), bits, `${name}, seed ${seed}, n ${n}`);
        }
      }
    });
  }
});

Deno.test("value codec: small encodings where the values are simple", () => {
  const n = 480;
  const size = (f: (i: number) => number) =>
    encodeValues(Float64Array.from({ length: n }, (_, i) => f(i))).length;
  assert.ok(size(() => 1) <= 8, "constant");
  assert.ok(size((i) => i * 4096) <= 12, "linear in pages");
  // Page-sized steps: the common divisor removes 12 bits per value.
  const rng = new Prng(5);
  let v = 4096 * 1e6;
  const pages = size(() => (v += 4096 * rng.int(-100, 100)));
  assert.ok(pages <= n + 64, `pages ${pages}`);
  // Hundredths stepping by about ±0.1: under 7 bits each, not 64.
  let w = 20;
  const hundredths = size(
    () => (w = Math.round((w + rng.normal() * 0.1) * 100) / 100),
  );
  assert.ok(hundredths <= n * 7 / 8 + 64, `hundredths ${hundredths}`);
});

Deno.test("timestamp streams: exact over adversarial inputs", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Prng(seed);
    const n = rng.int(1, 3000);
    const ts = new Float64Array(n);
    let t = rng.pick([0, -(DENSE_VALUE_LIMIT - 1), rng.int(-1e12, 2e12)]);
    const gap = rng.pick([1, 15_000, 2 ** 40]);
    for (let i = 0; i < n; i++) {
      ts[i] = t;
      const step = rng.float() < 0.01 ? rng.int(1, 2 ** 45) : rng.int(1, gap);
      t = Math.min(t + step, DENSE_VALUE_LIMIT - 1 - (n - i));
      if (t <= ts[i]) t = ts[i] + 1;
    }
    const got = decodeTimestampStream(encodeTimestampStream(ts));
    assert.deepEqual(got, ts, `seed ${seed}`);
  }
  // Jittered 15 s scrapes cost about one byte per timestamp.
  const rng = new Prng(9);
  const ts = Float64Array.from(
    { length: 480 },
    (_, i) => 1.7e12 + i * 15_000 + rng.int(-50, 50),
  );
  assert.ok(encodeTimestampStream(ts).length <= 520);
});

Deno.test("structural damage with valid CRCs throws DecodeError only", () => {
  const rng = new Prng(77);
  const samples: Uint8Array[] = [];
  for (const [, bits] of valueCases(rng, 200)) {
    samples.push(
      encodeDenseRecord(
        { n: 200, streamOffset: 8, streamStart: 3 },
        encodeValues(new Float64Array(bits.buffer)),
      ),
    );
  }
  const stream = encodeTimestampStream(
    Float64Array.from({ length: 300 }, (_, i) => 1e12 + i * 15_000 + (i % 7)),
  );
  let threw = 0, returned = 0;
  for (let trial = 0; trial < 20_000; trial++) {
    const isStream = trial % 4 === 0;
    const base = isStream ? stream : rng.pick(samples);
    const bad = base.slice(
      0,
      rng.float() < 0.2 ? rng.int(0, base.length) : base.length,
    );
    for (let k = rng.int(1, 3); k > 0 && bad.length; k--) {
      bad[rng.int(0, bad.length - 1)] ^= 1 << rng.int(0, 7);
    }
    try {
      if (isStream) decodeTimestampStream(bad);
      else decodeDenseRecord(bad);
      returned++;
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        throw new Error(`trial ${trial}: ${e}`);
      }
      threw++;
    }
  }
  assert.ok(threw > 5000, `threw ${threw}, returned ${returned}`);
});

/** Parses the chunks file into records: offset, encoding, data. */
function records(file: Uint8Array) {
  const out: { offset: number; encoding: number; data: Uint8Array }[] = [];
  const r = new ByteReader(file, 8);
  while (r.remaining > 0) {
    const offset = r.pos;
    const len = r.uvarint();
    const encoding = r.u8();
    const data = r.bytes(len);
    r.u32be();
    out.push({ offset, encoding, data });
  }
  return out;
}

Deno.test("a dense record pointing at a non-stream record is BlockCorruptError", async () => {
  await withTempDir(async (tmp) => {
    const start = Date.UTC(2026, 0, 1);
    const workload = generateWorkload({
      instances: 1,
      durationMs: 20 * 60_000,
      startMs: start,
    }).slice(0, 20);
    const meta = await writeBlock(tmp, {
      tenant: "t",
      minTime: start,
      maxTime: start + 3600_000,
      series: workload.map((s) => toBlockSeries(engine, s)),
      engine,
    });
    const path = `${meta.dir}/chunks`;
    const file = await Deno.readFile(path);
    const recs = records(file);
    const dense = recs.filter((x) => x.encoding === ChunkEncoding.DENSE);
    assert.ok(dense.length >= 2);
    // Rewrite the first dense record's stream offset to the second dense
    // record's offset (same varint length here), with a fresh CRC.
    const victim = dense[0];
    const { header } = decodeDenseRecord(victim.data);
    const values = victim.data.subarray(
      encodeDenseRecord(header, new Uint8Array(0)).length,
    );
    const forged = encodeDenseRecord(
      { ...header, streamOffset: dense[1].offset },
      values,
    );
    assert.equal(forged.length, victim.data.length);
    const dataAt = victim.offset + 1 + 1; // one-byte length varint, encoding
    assert.ok(victim.data.length < 128);
    file.set(forged, dataAt);
    const crc = crc32c(forged, crc32c(Uint8Array.of(ChunkEncoding.DENSE)));
    new DataView(file.buffer).setUint32(dataAt + forged.length, crc);
    await Deno.writeFile(path, file);
    const r = await BlockReader.open(meta.dir, { engine });
    let corrupt = 0, fine = 0;
    for (const s of r.series()) {
      for (const ref of s.chunks) {
        if (ref.offset === victim.offset) {
          assert.throws(() => r.samples(ref), BlockCorruptError);
          assert.throws(() => r.chunk(ref), BlockCorruptError);
          corrupt++;
        } else {
          r.samples(ref);
          fine++;
        }
      }
    }
    r.close();
    assert.equal(corrupt, 1);
    assert.equal(fine, 19);
  });
});

Deno.test("flipped bytes in dense and stream records are BlockCorruptError", async () => {
  await withTempDir(async (tmp) => {
    const start = Date.UTC(2026, 0, 1);
    const workload = generateWorkload({
      instances: 2,
      durationMs: 10 * 60_000,
      startMs: start,
    }).filter((_, i) => i % 10 === 0);
    const meta = await writeBlock(tmp, {
      tenant: "t",
      minTime: start,
      maxTime: start + 3600_000,
      series: workload.map((s) => toBlockSeries(engine, s)),
      engine,
    });
    const path = `${meta.dir}/chunks`;
    const clean = await Deno.readFile(path);
    const r0 = await BlockReader.open(meta.dir, { engine });
    const want = [...r0.series()].map((s) =>
      s.chunks.map((c) => r0.samples(c))
    );
    r0.close();
    const rng = new Prng(3);
    for (let trial = 0; trial < 150; trial++) {
      const at = rng.int(8, clean.length - 1);
      const bad = clean.slice();
      bad[at] ^= 1 << rng.int(0, 7);
      await Deno.writeFile(path, bad);
      const r = await BlockReader.open(meta.dir, { engine });
      let failures = 0;
      [...r.series()].forEach((s, i) => {
        s.chunks.forEach((ref, k) => {
          try {
            const got = r.samples(ref);
            assert.deepEqual(got.ts, want[i][k].ts, `flip at ${at}`);
            assert.deepEqual(
              bitsOf(got.values),
              bitsOf(want[i][k].values),
              `flip at ${at}`,
            );
          } catch (e) {
            if (!(e instanceof BlockCorruptError)) throw e;
            failures++;
          }
        });
      });
      r.close();
      assert.ok(failures > 0, `flip at ${at} went unnoticed`);
    }
    await Deno.writeFile(path, clean);
  });
});
