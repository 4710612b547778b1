// Remote read in process: samples written through the store come back
// bit-exact through both response types over HTTP, stored chunks are
// shipped byte for byte, edges are trimmed, bad bodies are 4xx, and a
// seeded fuzz never provokes anything but 200 or an HttpError 4xx.
import assert from "node:assert/strict";
import {
  encodeReadRequest,
  encodeReadResponse,
  type LabelMatcher,
  type Query,
} from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import {
  createRemoteReadHandler,
  handleRemoteRead,
} from "../src/server/handlers/remote_read.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { encodeChunks } from "../src/bindings/xor.ts";
import { ChunkSelector } from "../src/server/remote_read/chunks.ts";
import { encodeReadResponseFast } from "../src/server/remote_read/samples_encoder.ts";
import { Db } from "../src/storage/db.ts";
import type { SampleIterator, Series } from "../src/storage/interface.ts";
import { Prng } from "../src/util/prng.ts";
import {
  bitsOf,
  chunkBits,
  contextFor,
  expectedBits,
  fixture,
  type FixtureSeries,
  framesOf,
  LIMITS,
  lm,
  post,
  query,
  readBody,
  samplesOf,
  serve,
  T0,
  writeFixture,
} from "./_remote_read_helpers.ts";

const SEED = 20261130;
const STEP = 15_000;

async function withDb(
  fn: (db: Db, series: FixtureSeries[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rread-" });
  try {
    const db = await Db.open({ dataDir: dir, fsync: "never" });
    try {
      const series = fixture(SEED);
      await writeFixture(db, series);
      await fn(db, series);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The queries both response-type tests ask, with their expected answers. */
function cases(series: FixtureSeries[]) {
  const [a, b, other] = series;
  const s0 = T0 + 100 * STEP; // a sample of rr_a{job="a"}: inclusive edge
  const e0 = T0 + 350 * STEP;
  const queries: Query[] = [
    query(s0, e0, [lm(0, "__name__", "rr_a")]),
    query(T0 - 1e6, T0 + 1e8, [lm(2, "__name__", "rr_.*"), lm(0, "x", "1")]),
    query(T0, T0 + 1e8, [lm(0, "__name__", "rr_a"), lm(1, "job", "a")]),
    query(T0 + 1, T0 + 2, [lm(0, "__name__", "rr_a")]), // between samples
    query(s0, e0, [lm(3, "job", "a|b"), lm(2, "x", ".+")]),
  ];
  const want: [FixtureSeries, number, number][][] = [
    [[a, s0, e0], [b, s0, e0]],
    [[other, T0 - 1e6, T0 + 1e8]],
    [[b, T0, T0 + 1e8]],
    [],
    [[other, s0, e0]],
  ];
  return { queries, want };
}

Deno.test("SAMPLES: bit-exact values, inclusive edges, several queries", async () => {
  await withDb(async (db, series) => {
    const srv = serve(db, handleRemoteRead);
    try {
      const { queries, want } = cases(series);
      const res = await post(srv.url, readBody(queries));
      assert.equal(res.headers.get("content-encoding"), "snappy");
      const got = await samplesOf(res);
      assert.equal(got.results.length, queries.length);
      got.results.forEach((r, q) => {
        assert.deepEqual(
          r.timeseries.map((t) => labelsKey(t.labels)),
          want[q].map(([s]) => labelsKey(s.labels)),
          `query ${q} series`,
        );
        r.timeseries.forEach((t, i) => {
          const [s, lo, hi] = want[q][i];
          assert.deepEqual(
            bitsOf(t.timestamps, t.values),
            expectedBits(s, lo, hi),
            `query ${q} series ${i} (seed ${SEED})`,
          );
          const names = t.labels.map((l) => l.name);
          assert.deepEqual(names, [...names].sort(), "labels sorted");
        });
      });
      // The range edges are sample times: both ends are included.
      const first = got.results[0].timeseries[0].timestamps;
      assert.equal(first[0], T0 + 100 * STEP);
      assert.equal(first[first.length - 1], T0 + 350 * STEP);
      assert.deepEqual(srv.thrown, []);
    } finally {
      await srv.close();
    }
  });
});

Deno.test("STREAMED_XOR_CHUNKS: stored chunks as stored, edges trimmed, samples bit-exact", async () => {
  await withDb(async (db, series) => {
    const srv = serve(db, handleRemoteRead);
    try {
      const { queries, want } = cases(series);
      const res = await post(srv.url, readBody(queries, [1, 0]));
      const { messages } = await framesOf(res);
      // Stored chunk bytes, from the store itself.
      const stored = new Map<string, Uint8Array>();
      const qr = db.querier("default", -1e15, 1e15);
      for (const s of qr.select([newMatcher("=~", "__name__", "rr_.*")])) {
        for (const c of s.chunks()) {
          stored.set(
            `${labelsKey(s.labels)}@${c.minTime}-${c.maxTime}`,
            c.data.slice(),
          );
        }
      }
      qr.close();
      const bits = new Map<string, string[]>();
      let asStored = 0;
      let trimmed = 0;
      for (const m of messages) {
        assert.equal(m.chunkedSeries.length, 1, "one series per frame");
        const cs = m.chunkedSeries[0];
        const key = `${m.queryIndex}/${labelsKey(cs.labels)}`;
        const [lo, hi] = [
          queries[m.queryIndex].startTimestampMs,
          queries[m.queryIndex].endTimestampMs,
        ];
        for (const c of cs.chunks) {
          assert.equal(c.type, 1, "XOR");
          const b = chunkBits(db.engine, c.data);
          const ts = b.map((x) => Number(x.split(":")[0]));
          assert.equal(ts[0], c.minTimeMs, "chunk min time");
          assert.equal(ts[ts.length - 1], c.maxTimeMs, "chunk max time");
          assert.ok(ts[0] >= lo && ts[ts.length - 1] <= hi, `inside ${key}`);
          const same = stored.get(
            `${labelsKey(cs.labels)}@${c.minTimeMs}-${c.maxTimeMs}`,
          );
          if (same) {
            assert.deepEqual(c.data, same, "a whole chunk ships as stored");
            asStored++;
          } else trimmed++;
          bits.set(key, [...(bits.get(key) ?? []), ...b]);
        }
      }
      for (let q = 0; q < queries.length; q++) {
        for (const [s, lo, hi] of want[q]) {
          assert.deepEqual(
            bits.get(`${q}/${labelsKey(s.labels)}`) ?? [],
            expectedBits(s, lo, hi),
            `query ${q} ${labelsKey(s.labels)} (seed ${SEED})`,
          );
        }
      }
      assert.equal(
        bits.size,
        want.reduce((n, w) => n + w.length, 0),
        "no extra series",
      );
      assert.ok(asStored >= 3, `chunks shipped as stored: ${asStored}`);
      assert.ok(trimmed >= 3, `edge chunks trimmed: ${trimmed}`);
      // Frames come in query order.
      const order = messages.map((m) => m.queryIndex);
      assert.deepEqual(order, [...order].sort((x, y) => x - y));
      assert.deepEqual(srv.thrown, []);
    } finally {
      await srv.close();
    }
  });
});

Deno.test("hints narrow the range; func=series answers labels only", async () => {
  await withDb(async (db, series) => {
    const srv = serve(db, handleRemoteRead);
    try {
      const hints = (start: number, end: number, func = "") => ({
        stepMs: 0,
        func,
        startMs: start,
        endMs: end,
        grouping: [],
        by: false,
        rangeMs: 0,
      });
      const m = [lm(0, "__name__", "rr_a"), lm(0, "job", "a")];
      const lo = T0 + 10 * STEP;
      const hi = T0 + 20 * STEP;
      const body = readBody([
        query(T0, T0 + 1e8, m, hints(lo, hi)),
        query(T0, T0 + 1e8, m, hints(T0 - 5e8, T0 + 5e8)), // wider: no effect
        query(T0, T0 + 1e8, m, hints(0, 0)), // unset
        query(T0, T0 + 1e8, m, hints(lo, hi, "series")),
        query(T0, T0 + 1e8, m, hints(T0 + 2e8, T0 + 3e8)), // disjoint
      ]);
      const got = await samplesOf(await post(srv.url, body));
      const a = series[0];
      const t = got.results.map((r) => r.timeseries);
      assert.deepEqual(
        bitsOf(t[0][0].timestamps, t[0][0].values),
        expectedBits(a, lo, hi),
      );
      assert.equal(t[1][0].timestamps.length, 400);
      assert.equal(t[2][0].timestamps.length, 400);
      assert.equal(t[3].length, 1);
      assert.equal(t[3][0].timestamps.length, 0, "series hint: no samples");
      assert.equal(t[4].length, 0);
      const streamed = await framesOf(
        await post(
          srv.url,
          readBody([query(T0, T0 + 1e8, m, hints(lo, hi))], [1]),
        ),
      );
      const b = streamed.messages.flatMap((x) =>
        x.chunkedSeries[0].chunks.flatMap((c) => chunkBits(db.engine, c.data))
      );
      assert.deepEqual(b, expectedBits(a, lo, hi));
    } finally {
      await srv.close();
    }
  });
});

Deno.test("frames: one series per frame, a long series split at the byte budget", async () => {
  await withDb(async (db, series) => {
    const maxFrameBytes = 300;
    const srv = serve(db, createRemoteReadHandler({ maxFrameBytes }));
    try {
      const m = [lm(0, "__name__", "rr_a"), lm(0, "job", "a")];
      const { messages, sizes } = await framesOf(
        await post(srv.url, readBody([query(T0, T0 + 1e8, m)], [1])),
      );
      // rr_a{job="a"}: 400 samples = 4 chunks of ~120 samples, each > 300 bytes.
      assert.equal(messages.length, 4);
      for (const [i, msg] of messages.entries()) {
        assert.equal(msg.chunkedSeries.length, 1);
        assert.equal(msg.chunkedSeries[0].chunks.length, 1);
        assert.deepEqual(msg.chunkedSeries[0].labels.map((l) => l.value), [
          "rr_a",
          "a",
        ]);
        const chunk = msg.chunkedSeries[0].chunks[0].data.length;
        assert.ok(
          sizes[i] <= maxFrameBytes + chunk + 32,
          `frame ${i}: ${sizes[i]}`,
        );
      }
      const b = messages.flatMap((x) =>
        chunkBits(db.engine, x.chunkedSeries[0].chunks[0].data)
      );
      assert.deepEqual(b, expectedBits(series[0], -Infinity, Infinity));
      // With the default budget (1 MiB) the whole series is one frame.
      const dflt = serve(db, handleRemoteRead);
      try {
        const whole = await framesOf(
          await post(dflt.url, readBody([query(T0, T0 + 1e8, m)], [1])),
        );
        assert.equal(whole.messages.length, 1);
        assert.equal(whole.messages[0].chunkedSeries[0].chunks.length, 4);
      } finally {
        await dflt.close();
      }
    } finally {
      await srv.close();
    }
  });
});

/** Calls the handler directly; resolves to the status (consuming the body). */
async function statusOf(
  db: Db,
  body: Uint8Array,
  handler = handleRemoteRead,
  limits = LIMITS,
): Promise<{ status: number; message: string }> {
  const req = new Request("http://x/api/v1/read", {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
  });
  const ctx = { ...contextFor(db, new AbortController().signal), limits };
  try {
    const res = await handler(req, ctx);
    await res.arrayBuffer();
    return { status: res.status, message: "" };
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, message: e.message };
    throw e;
  }
}

function rawBody(bytes: number[]): Uint8Array {
  return snappyEncode(new Uint8Array(bytes));
}

Deno.test("bad bodies are 4xx with a clear message, never 5xx", async (t) => {
  await withDb(async (db) => {
    const ok = [lm(0, "__name__", "rr_a")];
    const table: [string, Uint8Array, number, RegExp][] = [
      ["empty body", new Uint8Array(0), 400, /snappy/],
      [
        "not snappy",
        new TextEncoder().encode("hello, remote read"),
        400,
        /snappy/,
      ],
      [
        "snappy header claiming 4 GiB",
        new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]),
        413,
        /decompresses past/,
      ],
      [
        "snappy of non-protobuf",
        rawBody([0xff, 0xff, 0xff]),
        400,
        /ReadRequest/,
      ],
      [
        "query field with wrong wire type",
        rawBody([0x08, 0x01]),
        400,
        /ReadRequest/,
      ],
      [
        "timestamp beyond 2^53",
        rawBody([
          0x0a,
          11,
          0x08,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0x7f,
          0,
        ]),
        400,
        /ReadRequest/,
      ],
      [
        "unknown matcher type",
        readBody([query(0, 1, [lm(7, "a", "b")])]),
        400,
        /unknown matcher type 7/,
      ],
      [
        "negative matcher type",
        readBody([query(0, 1, [lm(-1, "a", "b")])]),
        400,
        /unknown matcher type -1/,
      ],
      [
        "bad regex",
        readBody([query(0, 1, [lm(2, "job", "(")])]),
        400,
        /regular expression/,
      ],
      [
        "bad negative regex",
        readBody([query(0, 1, [lm(3, "job", "a{2,1}"), ...ok])]),
        400,
        /regular expression/,
      ],
      ["no matcher", readBody([query(0, 1, [])]), 400, /at least one matcher/],
      [
        "only empty-matching matchers",
        readBody([query(0, 1, [lm(0, "job", ""), lm(2, "x", ".*")])]),
        400,
        /at least one matcher/,
      ],
      [
        "start after end",
        readBody([query(10, 1, ok)]),
        400,
        /start 10 is after end 1/,
      ],
      [
        "second query bad",
        readBody([query(0, 1, ok), query(0, 1, [lm(9, "a", "b")])]),
        400,
        /query 1/,
      ],
      [
        "unsupported response type",
        readBody([query(0, 1, ok)], [5, 7]),
        400,
        /response types/,
      ],
    ];
    for (const [name, body, status, re] of table) {
      await t.step(name, async () => {
        const got = await statusOf(db, body);
        assert.equal(got.status, status, got.message);
        assert.match(got.message, re);
      });
    }
    await t.step("body over the byte limit: 413 before decoding", async () => {
      const got = await statusOf(
        db,
        readBody([query(0, 1, ok)]),
        handleRemoteRead,
        {
          ...LIMITS,
          maxBodyBytes: 8,
        },
      );
      assert.equal(got.status, 413);
    });
    await t.step("sample limit: 400 exceeded sample limit", async () => {
      const h = createRemoteReadHandler({ maxSamples: 599 });
      const body = readBody([query(T0, T0 + 1e8, ok)]);
      const over = await statusOf(db, body, h);
      assert.equal(over.status, 400);
      assert.equal(over.message, "exceeded sample limit (599)");
      const fits = await statusOf(
        db,
        body,
        createRemoteReadHandler({ maxSamples: 600 }),
      );
      assert.equal(fits.status, 200);
      // Streamed answers hold one series at a time: not sample-limited.
      const streamed = await statusOf(
        db,
        readBody([query(T0, T0 + 1e8, ok)], [1]),
        h,
      );
      assert.equal(streamed.status, 200);
    });
    await t.step(
      "first supported type wins; empty list means SAMPLES",
      async () => {
        for (
          const [types, ct] of [[[], "application/x-protobuf"], [
            [9, 1, 0],
            "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse",
          ], [[0, 1], "application/x-protobuf"]] as const
        ) {
          const res = await handleRemoteRead(
            new Request("http://x", {
              method: "POST",
              body: readBody([query(0, 1, ok)], [...types]) as Uint8Array<
                ArrayBuffer
              >,
            }),
            contextFor(db, new AbortController().signal),
          );
          await res.arrayBuffer();
          assert.equal(res.headers.get("content-type"), ct);
        }
      },
    );
  });
});

Deno.test("a client that goes away mid-stream releases its slot and querier", async () => {
  await withDb(async (db, series) => {
    const h = createRemoteReadHandler({ maxFrameBytes: 100, maxConcurrent: 1 });
    const srv = serve(db, h);
    try {
      const m = [lm(0, "__name__", "rr_a"), lm(0, "job", "a")];
      const body = readBody([query(T0, T0 + 1e8, m)], [1]);
      const res = await post(srv.url, body);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.ok(!first.done && first.value.length > 0);
      await reader.cancel();
      // With one slot, a second read only completes once the first let go.
      const again = await Promise.race([
        framesOf(await post(srv.url, body)),
        new Promise<null>((r) => setTimeout(() => r(null), 5000)),
      ]);
      assert.ok(again, "second read not blocked by the cancelled one");
      const b = again.messages.flatMap((x) =>
        x.chunkedSeries[0].chunks.flatMap((c) => chunkBits(db.engine, c.data))
      );
      assert.deepEqual(b, expectedBits(series[0], -Infinity, Infinity));
      assert.deepEqual(srv.thrown, []);
    } finally {
      await srv.close();
    }
  });
});

/** A random structurally valid request: random matchers, times, types. */
function randomRequest(rng: Prng): Uint8Array {
  const names = ["__name__", "job", "x", "", "é"];
  const values = [
    "rr_a",
    "rr_.*",
    "a|b",
    "",
    ".*",
    ".+",
    "(",
    "[z-a]",
    "a{3}",
    "\\",
    "rr_other",
  ];
  const queries: Query[] = [];
  for (let q = rng.int(0, 3); q > 0; q--) {
    const matchers: LabelMatcher[] = [];
    for (let k = rng.int(0, 3); k > 0; k--) {
      matchers.push(lm(rng.int(-1, 5), rng.pick(names), rng.pick(values)));
    }
    const start = T0 + rng.int(-2e6, 8e6);
    const hints = rng.int(0, 2) === 0
      ? {
        stepMs: rng.int(0, 60000),
        func: rng.pick(["", "rate", "series"]),
        startMs: start + rng.int(-1e6, 1e6),
        endMs: start + rng.int(-1e6, 3e6),
        grouping: [],
        by: false,
        rangeMs: 0,
      }
      : undefined;
    queries.push(query(start, start + rng.int(-1e5, 8e6), matchers, hints));
  }
  const types = rng.int(0, 3) === 0 ? [] : [rng.int(0, 2), rng.int(0, 2)];
  return encodeReadRequest({ queries, acceptedResponseTypes: types });
}

/** Flips, inserts, deletes or truncates bytes. */
function mutate(rng: Prng, src: Uint8Array): Uint8Array {
  const b = [...src];
  for (let k = rng.int(1, 4); k > 0; k--) {
    const i = rng.int(0, Math.max(0, b.length - 1));
    switch (rng.int(0, 3)) {
      case 0:
        b[i] = rng.int(0, 255);
        break;
      case 1:
        b.splice(i, 0, rng.int(0, 255));
        break;
      case 2:
        b.splice(i, 1);
        break;
      default:
        b.length = i;
    }
  }
  return new Uint8Array(b);
}

Deno.test("fuzz: thousands of random and mutated bodies give 200 or a 4xx HttpError", async () => {
  await withDb(async (db) => {
    const rng = new Prng(SEED);
    const counts = new Map<number, number>();
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const raw = randomRequest(rng);
      let body: Uint8Array;
      switch (i % 4) {
        case 0: // valid protobuf, random contents
          body = snappyEncode(raw);
          break;
        case 1: // protobuf damaged, snappy intact
          body = snappyEncode(mutate(rng, raw));
          break;
        case 2: // snappy damaged
          body = mutate(rng, snappyEncode(raw));
          break;
        default: // noise
          body = new Uint8Array(rng.int(0, 64)).map(() => rng.int(0, 255));
      }
      let got;
      try {
        got = await statusOf(db, body);
      } catch (e) {
        throw new Error(`case ${i} (seed ${SEED}) threw ${e}`);
      }
      assert.ok(
        got.status === 200 || (got.status >= 400 && got.status < 500),
        `case ${i} (seed ${SEED}): ${got.status} ${got.message}`,
      );
      counts.set(got.status, (counts.get(got.status) ?? 0) + 1);
    }
    assert.ok((counts.get(200) ?? 0) > N / 20, `some succeed: ${[...counts]}`);
    assert.ok((counts.get(400) ?? 0) > N / 4, `many refused: ${[...counts]}`);
  });
});

Deno.test("blocks and out-of-order head samples read back bit-exact through both types", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rread-blocks-" });
  const db = await Db.open({ dataDir: dir, fsync: "never" });
  const srv = serve(db, handleRemoteRead);
  try {
    // 4 h of 15 s samples (specials included): maintain() persists the
    // first 2 h as a block; then a late sample lands in the head's
    // out-of-order store, inside the second 2 h.
    const [base] = fixture(SEED);
    const n = 960;
    const s: FixtureSeries = {
      labels: base.labels,
      ts: new Float64Array(n).map((_, i) => T0 + i * STEP),
      vs: new Float64Array(n),
    };
    const w = new Uint32Array(s.vs.buffer);
    const bw = new Uint32Array(base.vs.buffer);
    for (let i = 0; i < n; i++) {
      w[2 * i] = bw[2 * (i % 400)];
      w[2 * i + 1] = bw[2 * (i % 400) + 1];
    }
    // Leave a hole at sample 900 for the late sample.
    const keep = (i: number) => i !== 900;
    const app = db.appender("default");
    app.appendSeries(
      s.labels,
      s.ts.filter((_, i) => keep(i)),
      s.vs.filter((_, i) => keep(i)),
    );
    assert.equal((await app.commit()).rejected.length, 0);
    const rep = await db.maintain();
    assert.ok(rep.blocksWritten >= 1, JSON.stringify(rep));
    const late = db.appender("default");
    late.appendFrom(s.labels, s.ts[900], s.vs, 900);
    assert.equal((await late.commit()).rejected.length, 0);
    const lo = T0 + 50 * STEP + 1;
    const hi = T0 + 920 * STEP;
    const m = [lm(0, "__name__", "rr_a"), lm(0, "job", "a")];
    const want = expectedBits(s, lo, hi);
    const got = await samplesOf(
      await post(srv.url, readBody([query(lo, hi, m)])),
    );
    const t = got.results[0].timeseries[0];
    assert.deepEqual(
      bitsOf(t.timestamps, t.values),
      want,
      `SAMPLES (seed ${SEED})`,
    );
    const { messages } = await framesOf(
      await post(srv.url, readBody([query(lo, hi, m)], [1])),
    );
    const b = messages.flatMap((x) =>
      x.chunkedSeries[0].chunks.flatMap((c) => chunkBits(db.engine, c.data))
    );
    assert.deepEqual(b, want, `streamed (seed ${SEED})`);
    assert.deepEqual(srv.thrown, []);
  } finally {
    await srv.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("overlapping chunks of one series are merged and re-encoded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rread-merge-" });
  const db = await Db.open({ dataDir: dir, fsync: "never" });
  try {
    const [s] = fixture(SEED);
    const even = [...s.ts.keys()].filter((i) => i % 2 === 0);
    const odd = [...s.ts.keys()].filter((i) => i % 2 === 1);
    const pick = (a: Float64Array, idx: number[]) => {
      const out = new Float64Array(idx.length);
      const ow = new Uint32Array(out.buffer);
      const aw = new Uint32Array(a.buffer);
      idx.forEach((k, j) => {
        ow[2 * j] = aw[2 * k];
        ow[2 * j + 1] = aw[2 * k + 1];
      });
      return out;
    };
    // Two sources holding alternate samples: their chunks overlap in time.
    const chunksOf = (idx: number[]) =>
      encodeChunks(db.engine, pick(s.ts, idx), pick(s.vs, idx), 120).map(
        (data) => {
          const ts = chunkBits(db.engine, data).map((x) =>
            Number(x.split(":")[0])
          );
          return { data, minTime: ts[0], maxTime: ts[ts.length - 1] };
        },
      );
    const metas = [...chunksOf(even), ...chunksOf(odd)]
      .sort((x, y) => x.minTime - y.minTime);
    // The merged view a store would give: every sample in time order.
    let i = -1;
    const it = {
      get t() {
        return s.ts[i];
      },
      get v() {
        return s.vs[i];
      },
      next: () => ++i < s.ts.length,
      seek(t: number) {
        while (i < 0 || s.ts[i] < t) if (!it.next()) return false;
        return true;
      },
      isStale: () => false,
      err: () => null,
      valueInto: (dst: Float64Array, at: number) =>
        new Uint32Array(dst.buffer, dst.byteOffset).set(
          new Uint32Array(s.vs.buffer, i * 8, 2),
          2 * at,
        ),
    };
    const series: Series = {
      labels: s.labels,
      chunks: () => metas,
      iterator: (): SampleIterator => it,
    };
    const sel = new ChunkSelector(db.engine);
    const lo = T0 + 10 * STEP;
    const hi = T0 + 300 * STEP;
    const out = sel.select(series, lo, hi);
    sel.free();
    assert.deepEqual(sel.counts, { asStored: 0, trimmed: 0, merged: 3 });
    assert.deepEqual(
      out.flatMap((c) => chunkBits(db.engine, c.data)),
      expectedBits(s, lo, hi),
    );
    assert.deepEqual(out.map((c) => c.minTimeMs), [
      lo,
      lo + 120 * STEP,
      lo + 240 * STEP,
    ]);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SAMPLES encoder writes exactly what codec/prompb.ts writes", () => {
  const rng = new Prng(SEED);
  const specials = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1.5];
  for (let round = 0; round < 300; round++) {
    const results = Array.from({ length: rng.int(0, 3) }, () => ({
      timeseries: Array.from({ length: rng.int(0, 4) }, () => {
        const n = rng.int(0, 40);
        const timestamps = new Float64Array(n).map(() =>
          rng.pick([
            0,
            1,
            -1,
            127,
            128,
            -(2 ** 40),
            2 ** 53 - 1,
            -(2 ** 53 - 1),
            T0,
            rng.int(-1e15, 1e15),
          ])
        );
        const values = new Float64Array(n);
        const w = new Uint32Array(values.buffer);
        for (let i = 0; i < n; i++) {
          if (rng.int(0, 2) === 0) {
            [w[2 * i], w[2 * i + 1]] = [rng.u32(), rng.u32()];
          } else values[i] = rng.pick(specials);
        }
        const labels = Array.from({ length: rng.int(0, 3) }, () => ({
          name: rng.pick(["", "__name__", "job", "é", "x".repeat(200)]),
          value: rng.pick(["", "a", "ünï", "v".repeat(rng.int(0, 300))]),
        }));
        return { labels, timestamps, values };
      }),
    }));
    assert.deepEqual(
      encodeReadResponseFast(results),
      encodeReadResponse({ results }),
      `round ${round} (seed ${SEED})`,
    );
  }
});
