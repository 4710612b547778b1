import assert from "node:assert/strict";
import {
  type ChunkedReadResponse,
  ChunkEncoding,
  decodeChunkedReadResponse,
  decodeReadRequest,
  decodeReadResponse,
  decodeWriteRequest,
  encodeChunkedReadResponse,
  encodeReadRequest,
  encodeReadResponse,
  encodeWriteRequest,
  type Label,
  MatcherType,
  type ReadRequest,
  ResponseType,
  type TimeSeries,
} from "../src/codec/prompb.ts";
import {
  ProtoError,
  ProtoReader,
  ProtoWriter,
  WireType,
} from "../src/codec/protowire.ts";
import { snappyDecode } from "../src/codec/snappy.ts";
import { decodeFrames } from "../src/codec/chunked_stream.ts";
import { Prng } from "../src/util/prng.ts";

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) =>
  Uint8Array.from(
    s.replaceAll(" ", "").match(/../g) ?? [],
    (x) => parseInt(x, 16),
  );

function series(labels: Label[], ts: number[], bits: bigint[]): TimeSeries {
  return {
    labels,
    timestamps: new Float64Array(ts),
    values: new Float64Array(new BigUint64Array(bits).buffer),
  };
}
const bitsOf = (values: Float64Array) =>
  Array.from(
    new BigUint64Array(values.buffer, values.byteOffset, values.length),
  );

function assertSeriesEqual(
  got: TimeSeries,
  want: TimeSeries,
  msg: string,
): void {
  assert.deepEqual(got.labels, want.labels, msg);
  assert.deepEqual(
    Array.from(got.timestamps),
    Array.from(want.timestamps),
    msg,
  );
  assert.deepEqual(bitsOf(got.values), bitsOf(want.values), msg);
}

Deno.test("prompb: WriteRequest bytes, table", async (t) => {
  const cases: Array<[string, TimeSeries[], string]> = [
    ["empty", [], ""],
    [
      "up=1 at 1000",
      [series([{ name: "__name__", value: "up" }], [1000], [
        0x3ff0000000000000n,
      ])],
      "0a1e" + "0a0e" + "0a085f5f6e616d655f5f" + "12027570" + "120c" +
      "09000000000000f03f" + "10e807",
    ],
    [
      "zero value and timestamp are omitted, -0 is not",
      [series([], [0, -1], [0n, 0x8000000000000000n])],
      "0a18" + "1200" + "1214" + "090000000000000080" +
      "10ffffffffffffffffff01",
    ],
  ];
  for (const [name, ts, want] of cases) {
    await t.step(name, () => {
      const enc = encodeWriteRequest({ timeseries: ts });
      assert.equal(hex(enc), want);
      const dec = decodeWriteRequest(enc);
      assert.equal(dec.timeseries.length, ts.length);
      dec.timeseries.forEach((s, i) => assertSeriesEqual(s, ts[i], name));
    });
  }
});

Deno.test("prompb: ReadRequest bytes, packed and unpacked response types", () => {
  const req: ReadRequest = {
    queries: [{
      startTimestampMs: 1,
      endTimestampMs: 2,
      matchers: [{ type: MatcherType.RE, name: "a", value: "b.*" }],
    }],
    acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS],
  };
  const enc = encodeReadRequest(req);
  assert.equal(
    hex(enc),
    "0a10" + "0801" + "1002" + "1a0a" + "0802" + "120161" + "1a03622e2a" +
      "120101",
  );
  assert.deepEqual(decodeReadRequest(enc), req);
  // Unpacked repeated enum (what a proto2-style writer sends) is accepted too,
  // mixed with packed, in order.
  const mixed = unhex("1001" + "12020001" + "1000");
  assert.deepEqual(decodeReadRequest(mixed).acceptedResponseTypes, [
    1,
    0,
    1,
    0,
  ]);
  // No response types: SAMPLES is implied by the protocol; the list is empty.
  assert.deepEqual(decodeReadRequest(new Uint8Array(0)), {
    queries: [],
    acceptedResponseTypes: [],
  });
});

Deno.test("prompb: ReadRequest with hints round-trips", () => {
  const req: ReadRequest = {
    queries: [
      {
        startTimestampMs: -5,
        endTimestampMs: 1_700_000_000_000,
        matchers: [
          { type: MatcherType.EQ, name: "__name__", value: "x" },
          { type: MatcherType.NEQ, name: "job", value: "" },
          { type: MatcherType.NRE, name: "ünï", value: "🙂+" },
        ],
        hints: {
          stepMs: 15000,
          func: "rate",
          startMs: -5,
          endMs: 7,
          grouping: ["a", "b"],
          by: true,
          rangeMs: 300000,
        },
      },
      { startTimestampMs: 0, endTimestampMs: 0, matchers: [] },
    ],
    acceptedResponseTypes: [1, 0],
  };
  assert.deepEqual(decodeReadRequest(encodeReadRequest(req)), req);
});

Deno.test("prompb: ReadResponse and ChunkedReadResponse round-trip", () => {
  const ts = series(
    [{ name: "__name__", value: "m" }, { name: "k", value: "v" }],
    [1, 2, 3],
    [
      0x7ff0000000000002n,
      0x8000000000000000n,
      0x7ff8dead00000001n,
    ],
  );
  const res = decodeReadResponse(
    encodeReadResponse({
      results: [{ timeseries: [ts, ts] }, { timeseries: [] }],
    }),
  );
  assert.equal(res.results.length, 2);
  assert.equal(res.results[0].timeseries.length, 2);
  assertSeriesEqual(res.results[0].timeseries[1], ts, "samples response");
  assert.equal(res.results[1].timeseries.length, 0);

  const chunked: ChunkedReadResponse = {
    chunkedSeries: [{
      labels: ts.labels,
      chunks: [
        {
          minTimeMs: -1000,
          maxTimeMs: 5,
          type: ChunkEncoding.XOR,
          data: unhex("0001aabb"),
        },
        {
          minTimeMs: 6,
          maxTimeMs: 6,
          type: ChunkEncoding.FLOAT_HISTOGRAM,
          data: new Uint8Array(0),
        },
      ],
    }],
    queryIndex: 3,
  };
  const enc = encodeChunkedReadResponse(chunked);
  assert.deepEqual(decodeChunkedReadResponse(enc), chunked);
});

/** Writes a field of every wire type under numbers no prompb message uses. */
function junk(w: ProtoWriter): void {
  w.tag(99, WireType.VARINT).int64(-7);
  w.tag(98, WireType.I64).double(1.5);
  w.bytesField(97, unhex("0a0b0c"));
  w.tag(96, WireType.I32).fixed32(7);
  w.tag(95, WireType.SGROUP).tag(1, WireType.VARINT).uvarint(1).tag(
    95,
    WireType.EGROUP,
  );
}

Deno.test("prompb: unknown fields of every wire type are skipped at every level", () => {
  // WriteRequest { junk, timeseries { junk, label { junk, name, value }, sample { junk, value, ts } }, metadata }
  const w = new ProtoWriter();
  junk(w);
  const s = w.fork();
  junk(w);
  const l = w.fork();
  junk(w);
  w.stringField(1, "__name__").stringField(2, "m");
  junk(w);
  w.join(1, l);
  const smp = w.fork();
  junk(w);
  w.tag(1, WireType.I64).double(2.5).tag(2, WireType.VARINT).int64(42);
  junk(w);
  w.join(2, smp);
  // exemplar (3) and histogram (4): parsed past, counted.
  w.bytesField(3, unhex("0a00" + "1100000000000000001801"));
  w.bytesField(4, unhex("0801"));
  w.bytesField(4, unhex(""));
  junk(w);
  w.join(1, s);
  w.bytesField(3, unhex("0801120161")); // MetricMetadata
  junk(w);
  const dec = decodeWriteRequest(w.finish());
  assert.deepEqual(dec.skipped, { metadata: 1, exemplars: 1, histograms: 2 });
  assert.equal(dec.timeseries.length, 1);
  assertSeriesEqual(
    dec.timeseries[0],
    series([{ name: "__name__", value: "m" }], [42], [0x4004000000000000n]),
    "junk",
  );

  // Same for a chunked response and a read request.
  const c = new ProtoWriter();
  junk(c);
  const cs = c.fork();
  junk(c);
  const ch = c.fork();
  junk(c);
  c.tag(1, WireType.VARINT).int64(1).tag(3, WireType.VARINT).int64(1)
    .bytesField(4, unhex("0001"));
  c.join(2, ch);
  c.join(1, cs);
  const chunked = decodeChunkedReadResponse(c.finish());
  assert.deepEqual(chunked.chunkedSeries[0].chunks, [{
    minTimeMs: 1,
    maxTimeMs: 0,
    type: 1,
    data: unhex("0001"),
  }]);
  const r = new ProtoWriter();
  junk(r);
  const q = r.fork();
  junk(r);
  r.tag(1, WireType.VARINT).int64(9);
  const h = r.fork();
  junk(r);
  r.tag(7, WireType.VARINT).int64(3);
  r.join(4, h);
  r.join(1, q);
  const rr = decodeReadRequest(r.finish());
  assert.equal(rr.queries[0].startTimestampMs, 9);
  assert.equal(rr.queries[0].hints?.rangeMs, 3);
});

Deno.test("prompb: wrong wire type on a known field is refused", async (t) => {
  const cases: Array<[string, string, (b: Uint8Array) => unknown]> = [
    ["timeseries as varint", "0801", decodeWriteRequest],
    ["sample value as varint", "0a04" + "1202" + "0801", decodeWriteRequest],
    [
      "chunk data as varint",
      "0a04" + "1202" + "2001",
      decodeChunkedReadResponse,
    ],
    ["query start as bytes", "0a03" + "0a0100", decodeReadRequest],
  ];
  for (const [name, input, fn] of cases) {
    await t.step(name, () => assert.throws(() => fn(unhex(input)), ProtoError));
  }
});

Deno.test("prompb: a prefix decodes only when cut at a top-level field boundary", () => {
  const seed = 0x7e57;
  const rng = new Prng(seed);
  const ts: TimeSeries[] = [];
  for (let i = 0; i < 4; i++) {
    const n = rng.int(0, 20);
    ts.push(series(
      [{ name: "__name__", value: `m${i}` }, {
        name: "i",
        value: "x".repeat(rng.int(0, 150)),
      }],
      Array.from({ length: n }, (_, k) => 1_700_000_000_000 + k * 15000),
      Array.from({ length: n }, () => BigInt.asUintN(64, rng.i64())),
    ));
  }
  const chunked = encodeChunkedReadResponse({
    chunkedSeries: ts.map((s) => ({
      labels: s.labels,
      chunks: [{
        minTimeMs: 1,
        maxTimeMs: 2,
        type: 1,
        data: new Uint8Array(200),
      }],
    })),
    queryIndex: 1,
  });
  const cases: Array<[string, Uint8Array, (b: Uint8Array) => unknown]> = [
    [
      "WriteRequest",
      encodeWriteRequest({ timeseries: ts }),
      decodeWriteRequest,
    ],
    [
      "ReadResponse",
      encodeReadResponse({ results: [{ timeseries: ts }, { timeseries: ts }] }),
      decodeReadResponse,
    ],
    ["ChunkedReadResponse", chunked, decodeChunkedReadResponse],
  ];
  for (const [name, full, decode] of cases) {
    const boundaries = new Set([0]);
    const r = new ProtoReader(full);
    while (!r.done()) {
      r.tag();
      r.skip();
      boundaries.add(r.pos);
    }
    for (let cut = 0; cut <= full.length; cut++) {
      let ok = true;
      try {
        decode(full.subarray(0, cut));
      } catch (e) {
        assert.ok(
          e instanceof ProtoError,
          `seed ${seed} ${name} cut ${cut}: ${e}`,
        );
        ok = false;
      }
      assert.equal(ok, boundaries.has(cut), `seed ${seed} ${name} cut ${cut}`);
    }
  }
});

Deno.test("prompb: random WriteRequests round-trip bit-exactly", () => {
  const seed = 0x3e1;
  const rng = new Prng(seed);
  for (let c = 0; c < 200; c++) {
    const ts: TimeSeries[] = [];
    for (let s = rng.int(0, 5); s > 0; s--) {
      const n = rng.int(0, 40);
      let t = rng.int(-(2 ** 40), 2 ** 41);
      ts.push(series(
        Array.from(
          { length: rng.int(0, 4) },
          (_, k) => ({
            name: `l${k}`,
            value: rng.pick(["", "a", "é", "🙂", "x".repeat(300)]),
          }),
        ),
        Array.from({ length: n }, () => (t += rng.int(1, 100_000))),
        Array.from({ length: n }, () => BigInt.asUintN(64, rng.i64())),
      ));
    }
    const dec = decodeWriteRequest(encodeWriteRequest({ timeseries: ts }));
    assert.equal(dec.timeseries.length, ts.length, `seed ${seed} case ${c}`);
    dec.timeseries.forEach((s, i) =>
      assertSeriesEqual(s, ts[i], `seed ${seed} case ${c} series ${i}`)
    );
  }
});

Deno.test("prompb interop: Prometheus' committed remote-read responses match golden.json", () => {
  const dir = new URL("./testdata/xor/", import.meta.url);
  const golden = JSON.parse(Deno.readTextFileSync(new URL("golden.json", dir)));
  type G = {
    name: string;
    labels: string[][];
    samples: string[][];
    chunks: Array<Record<string, string | number>>;
  };
  const byKey = new Map<string, G>(
    golden.series.map((s: G) => [JSON.stringify(s.labels), s]),
  );

  // SAMPLES: Snappy from Prometheus (Go), protobuf from gogo.
  const samples = decodeReadResponse(
    snappyDecode(
      Deno.readFileSync(new URL("remote_read_samples.snappy", dir)),
      64 << 20,
    ),
  );
  assert.equal(samples.results.length, 1);
  let negZeroLost = 0;
  for (const s of samples.results[0].timeseries) {
    const g = byKey.get(JSON.stringify(s.labels.map((l) => [l.name, l.value])));
    assert.ok(g, `unexpected series ${JSON.stringify(s.labels)}`);
    assert.deepEqual(
      Array.from(s.timestamps, String),
      g.samples.map((p) => p[0]),
      g.name,
    );
    const got = bitsOf(s.values).map((b) => b.toString(16).padStart(16, "0"));
    got.forEach((b, i) => {
      const want = g.samples[i][1];
      // Prometheus' gogo marshaller drops a value that == 0, so -0 comes back +0.
      if (want === "8000000000000000" && b === "0000000000000000") {
        negZeroLost++;
      } else assert.equal(b, want, `${g.name} sample ${i}`);
    });
  }
  assert.equal(samples.results[0].timeseries.length, golden.series.length);
  assert.equal(negZeroLost, 2, "the two -0 samples of special_values");

  // STREAMED_XOR_CHUNKS: frames checked by CRC-32C, chunks byte-identical.
  const frames = decodeFrames(
    Deno.readFileSync(new URL("remote_read_streamed.bin", dir)),
    1 << 24,
  );
  const chunks = new Map<string, G["chunks"]>();
  for (const f of frames) {
    for (const cs of decodeChunkedReadResponse(f).chunkedSeries) {
      const key = JSON.stringify(cs.labels.map((l) => [l.name, l.value]));
      const list = chunks.get(key) ?? [];
      for (const k of cs.chunks) {
        list.push({
          min_time_ms: String(k.minTimeMs),
          max_time_ms: String(k.maxTimeMs),
          type: k.type,
          data: hex(k.data),
        });
      }
      chunks.set(key, list);
    }
  }
  assert.equal(chunks.size, golden.series.length);
  for (const [key, g] of byKey) {
    assert.deepEqual(chunks.get(key), g.chunks, g.name);
  }
});
