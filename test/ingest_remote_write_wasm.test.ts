/**
 * The WASM decode stage of remote write 1.0 (assembly/rw, src/bindings/rw.ts,
 * src/ingest/remote_write_wasm.ts) against the TS decoder as oracle:
 * seeded random, mutated and raw-byte bodies must give the same series,
 * labels, samples (bit-exact) and metadata, or the same error class, and
 * never anything else (no trap, no other exception).
 */
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import {
  snappyDecode,
  snappyEncode,
  SnappyError,
} from "../src/codec/snappy.ts";
import { loadEngine } from "../src/bindings/engine.ts";
import {
  EngineError,
  ERR_ARG,
  ERR_BOUNDS,
  ERR_CAPACITY,
} from "../src/bindings/errors.ts";
import { RwDecoder, RwLabelCache } from "../src/bindings/rw.ts";
import { formatLabels } from "../src/model/labels.ts";
import { DecodedBatch } from "../src/ingest/remote_write_batch.ts";
import { decodeWriteRequestV1 } from "../src/ingest/remote_write_decode.ts";
import { LabelCache } from "../src/ingest/remote_write_labels.ts";
import {
  decodeWriteRequestV1Wasm,
  snappyDecodeWasm,
  WasmLabelCache,
  WasmTenantLabelCaches,
} from "../src/ingest/remote_write_wasm.ts";
import { RemoteWriteFormatError } from "../src/ingest/remote_write_wire.ts";
import { createRemoteWriteHandler } from "../src/server/handlers/remote_write.ts";
import {
  call,
  countSamples,
  dump,
  openTestDb,
} from "./ingest_remote_write_helpers.ts";

const engine = await loadEngine();
const MAX = 1 << 20;

// ---- a small protobuf writer that can also write odd-but-legal encodings

function varint(out: number[], v: bigint | number): void {
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function tagBytes(out: number[], field: number, wire: number, long = false) {
  const t = field * 8 + wire;
  if (long && t < 0x80) out.push(t | 0x80, 0); // non-canonical two-byte tag
  else varint(out, t);
}

function lenField(out: number[], field: number, body: number[], long = false) {
  tagBytes(out, field, 2, long);
  varint(out, body.length);
  for (const b of body) out.push(b);
}

const enc = new TextEncoder();

function randomUnknown(rng: Prng, out: number[]): void {
  const field = rng.int(5, 20);
  switch (rng.int(0, 4)) {
    case 0:
      tagBytes(out, field, 0);
      varint(out, rng.i64());
      break;
    case 1:
      tagBytes(out, field, 1);
      for (let k = 0; k < 8; k++) out.push(rng.int(0, 255));
      break;
    case 2:
      lenField(out, field, [1, 2, 3].slice(0, rng.int(0, 3)));
      break;
    case 3:
      tagBytes(out, field, 5);
      out.push(1, 2, 3, 4);
      break;
    default: // a group with a nested group inside
      tagBytes(out, field, 3);
      tagBytes(out, field + 1, 3);
      tagBytes(out, 1, 0);
      out.push(7);
      tagBytes(out, field + 1, 4);
      tagBytes(out, field, 4);
  }
}

const NAMES = ["__name__", "a", "b", "job", "le", "é", ""];
const VALUES = ["x", "1", "2", "", "ü", "\u{1F600}"];

function randomLabel(rng: Prng): number[] {
  const m: number[] = [];
  const name = rng.pick(NAMES);
  const value = rng.pick(VALUES);
  if (name !== "" || rng.int(0, 1)) lenField(m, 1, [...enc.encode(name)]);
  if (value !== "" || rng.int(0, 1)) lenField(m, 2, [...enc.encode(value)]);
  if (rng.int(0, 20) === 0) m.push(0x12, 1, 0xff); // invalid UTF-8 value
  if (rng.int(0, 20) === 0) randomUnknown(rng, m);
  return m;
}

const SPECIAL_BITS = [
  0x7ff0000000000002n, // stale marker (signalling NaN)
  0x7ff8000000000001n,
  0xfff0000000000000n,
  0x8000000000000000n,
  0n,
];

function randomSample(rng: Prng): number[] {
  const m: number[] = [];
  if (rng.int(0, 10) > 0) {
    const bits = rng.int(0, 4) === 0
      ? rng.pick(SPECIAL_BITS)
      : BigInt.asUintN(64, BigInt(rng.i64()));
    m.push(0x09);
    for (let k = 0n; k < 8n; k++) m.push(Number((bits >> (8n * k)) & 0xffn));
  }
  if (rng.int(0, 10) > 0) {
    const t = rng.pick([
      () => 1767225600000 + rng.int(-1000, 100000),
      () => -rng.int(1, 1e6),
      () => rng.i64(),
      () => 2 ** 53 + 1,
    ])();
    m.push(0x10);
    varint(m, BigInt(t));
  }
  if (rng.int(0, 15) === 0) randomUnknown(rng, m);
  if (rng.int(0, 15) === 0) m.push(0x89, 0, 1, 2, 3, 4, 5, 6, 7, 8); // long-tag value: skipped
  return m;
}

function randomSeriesBytes(rng: Prng, out: number[], pool: number[][]): void {
  const s: number[] = [];
  const labels: number[][] = rng.int(0, 3) === 0 && pool.length
    ? [rng.pick(pool)]
    : [];
  if (labels.length === 0) {
    for (let k = rng.int(0, 4); k > 0; k--) labels.push(randomLabel(rng));
    if (labels.length && pool.length < 50) pool.push(labels.flat());
  }
  const samples: number[][] = [];
  for (let k = rng.int(0, 3); k > 0; k--) samples.push(randomSample(rng));
  const interleave = rng.int(0, 8) === 0;
  const long = rng.int(0, 20) === 0;
  if (interleave) {
    for (const l of labels) {
      lenField(s, 1, l, long);
      if (samples.length) lenField(s, 2, samples.pop()!);
    }
  } else if (
    labels.length && labels[0].length && labels.length === 1 &&
    pool.includes(labels[0])
  ) {
    // A pooled label run: the Label fields' bytes again.
    for (const b of labels[0]) s.push(b);
  } else for (const l of labels) lenField(s, 1, l, long);
  for (const smp of samples) lenField(s, 2, smp);
  for (let k = rng.int(0, 6) === 0 ? rng.int(1, 2) : 0; k > 0; k--) {
    lenField(s, 3, [0x18, 1]);
  }
  for (let k = rng.int(0, 6) === 0 ? rng.int(1, 2) : 0; k > 0; k--) {
    lenField(s, 4, [0x78, 5]);
  }
  if (rng.int(0, 10) === 0) randomUnknown(rng, s);
  lenField(out, 1, s);
}

function randomMetadata(rng: Prng, out: number[]): void {
  const m: number[] = [];
  tagBytes(m, 1, 0);
  varint(m, rng.int(0, 7));
  lenField(m, 2, [...enc.encode(rng.pick(["up", "", "é_total"]))]);
  if (rng.int(0, 1)) lenField(m, 4, [...enc.encode("help text")]);
  if (rng.int(0, 1)) lenField(m, 5, [...enc.encode("seconds")]);
  if (rng.int(0, 10) === 0) m.push(0x22, 1, 0xc3);
  lenField(out, 3, m);
}

function randomBody(rng: Prng, pool: number[][]): Uint8Array {
  const out: number[] = [];
  for (let k = rng.int(0, 8); k > 0; k--) {
    const r = rng.int(0, 12);
    if (r === 0) randomMetadata(rng, out);
    else if (r === 1) randomUnknown(rng, out);
    else randomSeriesBytes(rng, out, pool);
  }
  return Uint8Array.from(out);
}

function mutate(rng: Prng, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  switch (rng.int(0, 4)) {
    case 0:
      for (let k = rng.int(1, 4); k > 0 && out.length; k--) {
        out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      }
      return out;
    case 1:
      return out.subarray(0, rng.int(0, out.length));
    case 2:
      if (out.length) {
        out[rng.int(0, out.length - 1)] = rng.pick([0, 0x7f, 0x80, 0xff]);
      }
      return out;
    case 3: {
      const ins = Uint8Array.from(
        { length: rng.int(1, 8) },
        () => rng.int(0, 255),
      );
      const at = rng.int(0, out.length);
      return new Uint8Array([
        ...out.subarray(0, at),
        ...ins,
        ...out.subarray(at),
      ]);
    }
    default:
      return Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255));
  }
}

// ---- comparing the two decoders

interface Outcome {
  error: string | null;
  batch: unknown;
}

function summarize(b: DecodedBatch): unknown {
  const series = [];
  for (let s = 0; s < b.series; s++) {
    const l = b.labels[s];
    series.push([
      l ? formatLabels(l) : null,
      b.errors[s],
      b.start(s),
      b.end(s),
    ]);
  }
  return {
    series,
    ts: Array.from(
      b.ts.subarray(0, b.samples),
      (t) => Object.is(t, NaN) ? "NaN" : t,
    ),
    words: Array.from(b.words.subarray(0, 2 * b.samples)),
    exemplars: b.exemplars,
    histograms: b.histograms,
    metadata: b.metadata,
  };
}

function viaTs(raw: Uint8Array, cache: LabelCache): Outcome {
  const b = new DecodedBatch();
  try {
    decodeWriteRequestV1(raw, b, cache);
  } catch (e) {
    if (e instanceof RemoteWriteFormatError) {
      return { error: "format", batch: null };
    }
    throw e;
  }
  return { error: null, batch: summarize(b) };
}

function viaWasm(
  dec: RwDecoder,
  raw: Uint8Array,
  cache: WasmLabelCache,
): Outcome {
  const b = new DecodedBatch();
  dec.load(raw);
  try {
    decodeWriteRequestV1Wasm(dec, b, cache);
  } catch (e) {
    if (e instanceof RemoteWriteFormatError) {
      return { error: "format", batch: null };
    }
    throw e;
  }
  return { error: null, batch: summarize(b) };
}

Deno.test("wasm walk agrees with the TS decoder on random, mutated and raw bodies", () => {
  const seed = 61101;
  const rng = new Prng(seed);
  const dec = new RwDecoder(engine);
  // Small caches, so both start over many times during the run.
  const tsCache = new LabelCache({ maxEntries: 40, maxKeyBytes: 2000 });
  const wCache = new WasmLabelCache(engine, {
    maxEntries: 40,
    maxKeyBytes: 2000,
  });
  const pool: number[][] = [];
  let decoded = 0;
  let refused = 0;
  const N = 6000;
  try {
    for (let i = 0; i < N; i++) {
      const valid = randomBody(rng, pool);
      const body = i % 3 === 0 ? valid : mutate(rng, valid);
      const a = viaTs(body, tsCache);
      const w = viaWasm(dec, body, wCache);
      assert.deepEqual(w, a, `seed ${seed} case ${i}`);
      if (a.error) refused++;
      else decoded++;
    }
  } finally {
    dec.free();
    wCache.free();
  }
  assert.ok(
    decoded > 1500 && refused > 1500,
    `${decoded} decoded, ${refused} refused`,
  );
});

Deno.test("wasm walk: values bit-exact, timestamps as the TS reader rounds them", () => {
  const out: number[] = [];
  const series: number[] = [];
  lenField(series, 1, [0x0a, 8, ...enc.encode("__name__"), 0x12, 1, 0x6d]);
  const cases: [bigint, bigint][] = [
    [0x7ff0000000000002n, 1n],
    [0x7ff4000000000000n, -1n],
    [0xffffffffffffffffn, 2n ** 63n - 1n],
    [0x3ff0000000000000n, -(2n ** 63n)],
    [1n, 2n ** 53n + 1n],
  ];
  for (const [bits, t] of cases) {
    const m = [0x09];
    for (let k = 0n; k < 8n; k++) m.push(Number((bits >> (8n * k)) & 0xffn));
    m.push(0x10);
    varint(m, t);
    lenField(series, 2, m);
  }
  lenField(out, 1, series);
  const dec = new RwDecoder(engine);
  const cache = new WasmLabelCache(engine);
  const b = new DecodedBatch();
  dec.load(Uint8Array.from(out));
  decodeWriteRequestV1Wasm(dec, b, cache);
  const words = new BigUint64Array(b.values.buffer, 0, b.samples);
  assert.deepEqual([...words], cases.map(([bits]) => bits));
  assert.deepEqual(
    [...b.ts.subarray(0, b.samples)],
    cases.map(([, t]) => Number(t)),
  );
  assert.equal(formatLabels(b.labels[0]!), "m{}");
  dec.free();
  cache.free();
});

Deno.test("wasm snappy agrees with the TS decoder (bytes or error kind), limit checked first", () => {
  const seed = 61102;
  const rng = new Prng(seed);
  const dec = new RwDecoder(engine);
  let ok = 0;
  let bad = 0;
  try {
    for (let i = 0; i < 5000; i++) {
      // Compressible input: random runs and repeats.
      const parts: number[] = [];
      for (let k = rng.int(0, 30); k > 0; k--) {
        if (parts.length && rng.int(0, 1)) {
          const from = rng.int(0, parts.length - 1);
          const n = rng.int(1, 80);
          for (let j = 0; j < n; j++) {
            parts.push(parts[from + (j % (parts.length - from))]);
          }
        } else {
          for (let j = rng.int(1, 100); j > 0; j--) {
            parts.push(rng.int(0, 3) ? 97 : rng.int(0, 255));
          }
        }
      }
      const plain = Uint8Array.from(parts);
      const valid = snappyEncode(plain);
      const block = i % 4 === 0 ? valid : mutate(rng, valid);
      const limit = rng.int(0, 5) === 0 ? rng.int(0, plain.length + 1) : MAX;
      let want: unknown;
      try {
        want = Array.from(snappyDecode(block, limit));
      } catch (e) {
        assert.ok(e instanceof SnappyError, `seed ${seed} case ${i}: ${e}`);
        want = e.kind;
      }
      let got: unknown;
      try {
        const n = snappyDecodeWasm(dec, block, limit);
        got = Array.from(engine.u8.subarray(dec.ptr, dec.ptr + n));
      } catch (e) {
        assert.ok(e instanceof SnappyError, `seed ${seed} case ${i}: ${e}`);
        got = e.kind;
      }
      assert.deepEqual(got, want, `seed ${seed} case ${i}`);
      if (typeof want === "string") bad++;
      else ok++;
    }
  } finally {
    dec.free();
  }
  assert.ok(ok > 1000 && bad > 1000, `${ok} ok, ${bad} refused`);
});

Deno.test("wasm snappy: a header claiming 4 GiB is refused before any allocation", () => {
  const dec = new RwDecoder(engine);
  const pages = engine.raw.memory.buffer.byteLength;
  const block = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
  assert.throws(
    () => snappyDecodeWasm(dec, block, 32 << 20),
    (e) => e instanceof SnappyError && e.kind === "too-large",
  );
  assert.throws(
    () => snappyDecodeWasm(dec, block, 2 ** 33),
    (e) => e instanceof SnappyError && e.kind === "truncated",
  );
  assert.equal(engine.raw.memory.buffer.byteLength, pages);
  dec.free();
});

Deno.test("rw ABI: bad handles, pointers and arguments are error codes", () => {
  const r = engine.raw;
  const size = r.memory.buffer.byteLength;
  assert.equal(r.rw_snappy_length(size - 2, 8, 100), ERR_BOUNDS);
  assert.equal(r.rw_snappy_decode(0, 4, size - 4, 8), ERR_BOUNDS);
  assert.equal(r.rw_decode_v1(0, size - 4, 8, 64), ERR_BOUNDS);
  assert.equal(r.rw_decode_v1(12345, 64, 8, 128), ERR_ARG);
  assert.equal(r.rw_cache_new(0, 100), ERR_ARG);
  assert.equal(r.rw_cache_new(10, 0), ERR_ARG);
  assert.equal(r.rw_cache_free(16), ERR_ARG);
  assert.equal(r.rw_cache_insert(16, 64, 4), ERR_ARG);
  const c = RwLabelCache.create(engine, 10, 100);
  assert.equal(r.rw_cache_insert(c.handle, 64, 0), ERR_ARG);
  assert.equal(r.rw_cache_lookup(c.handle, size - 1, 4), ERR_BOUNDS);
  c.free();
  assert.equal(r.rw_cache_free(c.handle === 0 ? 16 : c.handle), ERR_ARG);
  assert.throws(
    () => new RwDecoder(engine).snappy(new Uint8Array([5]), 1),
    (e) => e instanceof EngineError && e.code === ERR_CAPACITY,
  );
});

Deno.test("rw label cache: ids, start-over at its bounds, oversized keys uncached", () => {
  const c = RwLabelCache.create(engine, 3, 64);
  const p = engine.alloc(256);
  try {
    const u8 = engine.u8;
    for (let i = 0; i < 256; i++) u8[p + i] = i % 7;
    assert.equal(c.lookup(p, 10), -1);
    assert.equal(c.insert(p, 10), 0);
    assert.equal(c.insert(p + 1, 10), 1);
    assert.equal(c.insert(p, 10), 0, "existing key keeps its id");
    assert.equal(c.lookup(p + 1, 10), 1);
    assert.equal(c.lookup(p + 7, 10), 0, "same bytes elsewhere: same key");
    assert.equal(c.insert(p + 2, 10), 2);
    assert.equal(c.size, 3);
    assert.equal(c.insert(p + 3, 10), 0, "fourth entry: start over");
    assert.equal(c.size, 1);
    assert.equal(c.lookup(p + 1, 10), -1);
    assert.equal(c.insert(p, 65), -1, "key over the byte bound");
    for (let i = 0; i < 2000; i++) u8[p + (i % 200)] = i & 255;
    const big = RwLabelCache.create(engine, 5000, 1 << 20);
    // Many keys: the table grows and every key stays findable.
    const keys = engine.alloc(4 * 3000);
    const v = engine.view;
    for (let i = 0; i < 3000; i++) {
      v.setUint32(keys + 4 * i, i * 2654435761, true);
    }
    for (let i = 0; i < 3000; i++) assert.equal(big.insert(keys + 4 * i, 4), i);
    for (let i = 0; i < 3000; i++) assert.equal(big.lookup(keys + 4 * i, 4), i);
    engine.free(keys);
    big.free();
  } finally {
    engine.free(p);
    c.free();
  }
});

Deno.test("wasm tenant caches: least recently used tenants are freed", () => {
  const caches = new WasmTenantLabelCaches(engine, 2);
  const a = caches.for("a");
  const b = caches.for("b");
  assert.equal(caches.for("a"), a);
  const c = caches.for("c"); // b is least recently used
  assert.equal(b.keys.handle, 0, "b was freed");
  assert.equal(caches.for("a"), a);
  assert.notEqual(caches.for("b"), b, "b comes back empty");
  assert.equal(c.keys.handle, 0, "c was freed");
  assert.notEqual(a.keys.handle, 0);
  caches.free();
  assert.equal(a.keys.handle, 0);
});

Deno.test("handler: the wasm and ts 1.0 paths answer and store alike", async () => {
  const seed = 61103;
  const rng = new Prng(seed);
  const a = await openTestDb({ maxSeriesPerTenant: 100 });
  const b = await openTestDb({ maxSeriesPerTenant: 100 });
  const hw = createRemoteWriteHandler({ v1Decoder: "wasm" });
  const ht = createRemoteWriteHandler({ v1Decoder: "ts" });
  const pool: number[][] = [];
  try {
    for (let i = 0; i < 1500; i++) {
      const valid = randomBody(rng, pool);
      const mode = rng.int(0, 5);
      const compress = mode !== 5;
      const body = mode < 2
        ? valid
        : mode < 5
        ? mutate(rng, valid)
        : mutate(rng, snappyEncode(valid));
      const tenant = rng.pick(["t1", "t2"]);
      const w = await call(hw, a.ctx(tenant), body, undefined, compress);
      const t = await call(ht, b.ctx(tenant), body, undefined, compress);
      const msg = `seed ${seed} case ${i}: ${w.text} / ${t.text}`;
      assert.equal(w.status, t.status, msg);
      const written = "x-prometheus-remote-write-samples-written";
      assert.equal(w.headers.get(written), t.headers.get(written), msg);
      if (w.headers.get(written) !== null) assert.equal(w.text, t.text, msg);
    }
    for (const tenant of ["t1", "t2"]) {
      const da = dump(a.db, tenant);
      assert.deepEqual(da, dump(b.db, tenant), `seed ${seed} ${tenant}`);
      assert.ok(countSamples(da) > 30, `seed ${seed}: ${countSamples(da)}`);
    }
  } finally {
    await a.close();
    await b.close();
  }
});
