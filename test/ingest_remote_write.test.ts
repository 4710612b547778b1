/**
 * Remote write through the handler: malformed bodies (4xx, nothing
 * written), bit-exact round trips (stale markers, NaN payloads, -0),
 * partial rejection, label validation, 2.0 with symbols, metadata and
 * created timestamps, content negotiation (415), limits (413).
 */
import assert from "node:assert/strict";
import { snappyEncode } from "../src/codec/snappy.ts";
import { createRemoteWriteHandler } from "../src/server/handlers/remote_write.ts";
import { MetadataStore } from "../src/ingest/remote_write_metadata.ts";
import {
  call,
  countSamples,
  CT_V1,
  CT_V2,
  dump,
  encodeV1,
  encodeV2,
  openTestDb,
  STALE_BITS,
  type TestSeries,
} from "./ingest_remote_write_helpers.ts";

const T0 = Date.UTC(2026, 0, 1);
const series = (
  name: string,
  extra: [string, string][] = [],
): [string, string][] => [
  ["__name__", name],
  ["job", "j"],
  ...extra,
];

Deno.test("remote write 1.0: bit-exact round trip, stale markers and NaN payloads", async () => {
  const t = await openTestDb();
  try {
    const h = createRemoteWriteHandler();
    const values: bigint[] = [
      STALE_BITS,
      0x7ff8000000000123n, // quiet NaN with a payload
      0x7ff0000000000001n, // another signalling NaN
      0x8000000000000000n, // -0
      0n, // +0 (value field omitted)
      0x3ff0000000000001n, // 1 + ulp
      0x7ff0000000000000n, // +Inf
      0xfff0000000000000n, // -Inf
    ];
    const body = encodeV1([{
      labels: series("m"),
      samples: values.map((v, i) => ({ t: T0 + i * 1000, v })),
    }, {
      labels: series("n", [["a", "ünïcödé ✓"]]),
      samples: [{ t: T0, v: 42.5 }],
    }]);
    const a = await call(h, t.ctx(), body);
    assert.equal(a.status, 204, a.text);
    assert.equal(
      a.headers.get("x-prometheus-remote-write-samples-written"),
      "9",
    );
    const d = dump(t.db, "t1");
    assert.deepEqual(
      d.get('m{job="j"}'),
      values.map((v, i) => [T0 + i * 1000, v]),
    );
    assert.deepEqual(d.get('n{a="ünïcödé ✓", job="j"}'), [[
      T0,
      0x4045400000000000n,
    ]]);
  } finally {
    await t.close();
  }
});

Deno.test("remote write: malformed bodies are refused whole (4xx), nothing written", async (tc) => {
  const t = await openTestDb();
  const h = createRemoteWriteHandler();
  const good = encodeV1([{ labels: series("ok"), samples: [{ t: T0, v: 1 }] }]);
  const cases: {
    name: string;
    body: Uint8Array;
    compress?: boolean;
    status: number;
  }[] = [
    {
      name: "not snappy",
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      compress: false,
      status: 400,
    },
    {
      name: "empty body",
      body: new Uint8Array(0),
      compress: false,
      status: 400,
    },
    {
      name: "plain protobuf, not compressed",
      body: good,
      compress: false,
      status: 400,
    },
    {
      name: "truncated protobuf",
      body: good.subarray(0, good.length - 3),
      status: 400,
    },
    {
      name: "timeseries field as varint",
      body: new Uint8Array([0x08, 0x01]),
      status: 400,
    },
    {
      name: "length past the end",
      body: new Uint8Array([0x0a, 0x7f, 0x0a]),
      status: 400,
    },
    { name: "invalid wire type 7", body: new Uint8Array([0x0f]), status: 400 },
    { name: "field number 0", body: new Uint8Array([0x02, 0x00]), status: 400 },
    {
      name: "label as varint",
      body: new Uint8Array([0x0a, 0x02, 0x08, 0x01]),
      status: 400,
    },
    {
      name: "sample value as varint",
      body: new Uint8Array([0x0a, 0x04, 0x12, 0x02, 0x08, 0x01]),
      status: 400,
    },
    {
      name: "truncated double",
      body: new Uint8Array([0x0a, 0x05, 0x12, 0x03, 0x09, 0x01, 0x02]),
      status: 400,
    },
    {
      name: "overlong varint",
      body: new Uint8Array([
        0x0a,
        0x0d,
        0x12,
        0x0b,
        0x10,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
      ]),
      status: 400,
    },
    {
      name: "unterminated group",
      body: new Uint8Array([0x0b, 0x08, 0x01]),
      status: 400,
    },
    {
      name: "snappy header claiming 4 GiB",
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01]),
      compress: false,
      status: 413,
    },
    {
      name: "snappy header over the decoded limit",
      body: (() => {
        const b = snappyEncode(new Uint8Array(5 << 20));
        return b;
      })(),
      compress: false,
      status: 413,
    },
    {
      name: "a good series followed by garbage",
      body: new Uint8Array([...good, 0x0a, 0x05, 0x01]),
      status: 400,
    },
  ];
  try {
    for (const c of cases) {
      await tc.step(c.name, async () => {
        const a = await call(h, t.ctx(), c.body, undefined, c.compress ?? true);
        assert.equal(a.status, c.status, a.text);
        assert.equal(countSamples(dump(t.db, "t1")), 0);
      });
    }
    await tc.step("body over maxBodyBytes → 413", async () => {
      const ctx = {
        ...t.ctx(),
        limits: { ...t.ctx().limits, maxBodyBytes: 10 },
      };
      const a = await call(h, ctx, good);
      assert.equal(a.status, 413);
    });
  } finally {
    await t.close();
  }
});

Deno.test("remote write: invalid series are refused, the rest of the batch is kept (400)", async (tc) => {
  const t = await openTestDb();
  const h = createRemoteWriteHandler();
  try {
    const cases: { name: string; bad: TestSeries; reason: RegExp }[] = [
      {
        name: "empty label set",
        bad: { labels: [], samples: [{ t: T0, v: 1 }] },
        reason: /empty label set/,
      },
      {
        name: "only empty values",
        bad: { labels: [["a", ""]], samples: [{ t: T0, v: 1 }] },
        reason: /empty label set/,
      },
      {
        name: "duplicate label names",
        bad: {
          labels: [["__name__", "x"], ["a", "1"], ["a", "2"]],
          samples: [{ t: T0, v: 1 }],
        },
        reason: /duplicate label name/,
      },
      {
        name: "empty label name",
        bad: {
          labels: [["__name__", "x"], ["", "1"]],
          samples: [{ t: T0, v: 1 }],
        },
        reason: /label name is empty/,
      },
      {
        name: "sample without timestamp",
        bad: { labels: series("x"), samples: [{ v: 1 }] },
        reason: /without timestamp/,
      },
      {
        name: "native histogram",
        bad: { labels: series("x"), samples: [], histograms: 2 },
        reason: /native histograms/,
      },
    ];
    let k = 0;
    for (const c of cases) {
      await tc.step(c.name, async () => {
        const goodName = `good_${k++}`;
        const body = encodeV1([
          { labels: series(goodName), samples: [{ t: T0, v: 7 }] },
          c.bad,
        ]);
        const a = await call(h, t.ctx(), body);
        assert.equal(a.status, 400, a.text);
        assert.match(a.text, c.reason);
        assert.equal(
          a.headers.get("x-prometheus-remote-write-samples-written"),
          "1",
        );
        const d = dump(t.db, "t1");
        assert.deepEqual(d.get(`${goodName}{job="j"}`), [[
          T0,
          0x401c000000000000n,
        ]]);
        assert.equal(d.has('x{job="j"}'), false);
      });
    }
    await tc.step("invalid UTF-8 in a label value", async () => {
      // Hand-made: Label{name:"a", value: 0xff 0xfe}.
      const label = [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0xff, 0xfe];
      const sample = [
        0x12,
        0x0b,
        0x09,
        0,
        0,
        0,
        0,
        0,
        0,
        0xf0,
        0x3f,
        0x10,
        0x01,
      ];
      const ts = [...label, ...sample];
      const a = await call(
        h,
        t.ctx(),
        new Uint8Array([0x0a, ts.length, ...ts]),
      );
      assert.equal(a.status, 400);
      assert.match(a.text, /UTF-8/);
    });
    await tc.step("unsorted labels are accepted and sorted", async () => {
      const body = encodeV1([{
        labels: [["z", "1"], ["__name__", "unsorted"], ["a", "2"]],
        samples: [{ t: T0, v: 1 }],
      }]);
      const a = await call(h, t.ctx(), body);
      assert.equal(a.status, 204, a.text);
      assert.ok(dump(t.db, "t1").has('unsorted{a="2", z="1"}'));
    });
    await tc.step(
      "labels interleaved with samples name the same series",
      async () => {
        // TimeSeries{label __name__=inter, sample, label job=j, sample}
        const enc = (s: string) => [...new TextEncoder().encode(s)];
        const lab = (n: string, v: string) => {
          const inner = [0x0a, n.length, ...enc(n), 0x12, v.length, ...enc(v)];
          return [0x0a, inner.length, ...inner];
        };
        const smp = (t0: number) => {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setFloat64(0, 3, true);
          const tv: number[] = [];
          let x = t0;
          while (x >= 128) {
            tv.push((x % 128) | 128);
            x = Math.floor(x / 128);
          }
          tv.push(x);
          const inner = [0x09, ...b, 0x10, ...tv];
          return [0x12, inner.length, ...inner];
        };
        const ts = [
          ...lab("__name__", "inter"),
          ...smp(T0),
          ...lab("job", "j"),
          ...smp(T0 + 1),
        ];
        const bytes = new Uint8Array([0x0a, ts.length, ...ts]);
        for (let i = 0; i < 2; i++) {
          const a = await call(h, t.ctx(), bytes);
          assert.equal(a.status, 204, a.text); // the second time: identical duplicates
        }
        assert.equal(dump(t.db, "t1").get('inter{job="j"}')?.length, 2);
      },
    );
  } finally {
    await t.close();
  }
});

Deno.test("remote write: store refusals (out of order, duplicate, too many series) keep the good samples", async (tc) => {
  const t = await openTestDb({ maxSeriesPerTenant: 3 });
  const h = createRemoteWriteHandler();
  try {
    const first = encodeV1([{
      labels: series("c"),
      samples: [{ t: T0 + 10 * 3600_000, v: 1 }],
    }]);
    assert.equal((await call(h, t.ctx(), first)).status, 204);
    await tc.step(
      "out of order beyond the window, and a conflicting duplicate",
      async () => {
        const body = encodeV1([{
          labels: series("c"),
          samples: [
            { t: T0, v: 5 }, // 10 h older: outside the 1 h out-of-order window
            { t: T0 + 10 * 3600_000, v: 2 }, // same time, other value
            { t: T0 + 10 * 3600_000 + 1000, v: 3 }, // good
          ],
        }]);
        const a = await call(h, t.ctx(), body);
        assert.equal(a.status, 400, a.text);
        assert.match(a.text, /^.*2 of the request's samples were not written/);
        assert.match(a.text, /c\{/);
        assert.equal(
          a.headers.get("x-prometheus-remote-write-samples-written"),
          "1",
        );
        const got = dump(t.db, "t1").get('c{job="j"}')!;
        assert.deepEqual(got.map(([ts]) => ts), [
          T0 + 10 * 3600_000,
          T0 + 10 * 3600_000 + 1000,
        ]);
      },
    );
    await tc.step("too many series", async () => {
      const body = encodeV1([1, 2, 3, 4].map((i) => ({
        labels: series(`s${i}`),
        samples: [{ t: T0 + 11 * 3600_000, v: i }],
      })));
      const a = await call(h, t.ctx(), body);
      assert.equal(a.status, 400, a.text);
      assert.match(a.text, /too many series/);
      assert.equal(
        a.headers.get("x-prometheus-remote-write-samples-written"),
        "2",
      );
    });
    await tc.step("tenants are isolated", async () => {
      const body = encodeV1([{
        labels: series("other"),
        samples: [{ t: T0, v: 1 }],
      }]);
      assert.equal((await call(h, t.ctx("t2"), body)).status, 204);
      assert.equal(dump(t.db, "t1").has('other{job="j"}'), false);
      assert.equal(dump(t.db, "t2").size, 1);
    });
  } finally {
    await t.close();
  }
});

Deno.test("remote write 1.0: metadata is kept per tenant, exemplars are dropped silently", async () => {
  const t = await openTestDb();
  const meta = new MetadataStore();
  const h = createRemoteWriteHandler({ metadata: meta });
  try {
    const body = encodeV1(
      [{
        labels: series("req_total"),
        samples: [{ t: T0, v: 1 }],
        exemplars: 2,
      }],
      [
        { type: 1, family: "req_total", help: "Requests.", unit: "" },
        { type: 2, family: "temp", help: "old", unit: "celsius" },
        { type: 2, family: "temp", help: "Temperature.", unit: "celsius" },
      ],
    );
    const a = await call(h, t.ctx(), body);
    assert.equal(a.status, 204, a.text);
    assert.deepEqual(meta.get("t1"), {
      req_total: [{ type: "counter", help: "Requests.", unit: "" }],
      temp: [{ type: "gauge", help: "Temperature.", unit: "celsius" }],
    });
    assert.deepEqual(meta.get("t1", "temp"), {
      temp: [{ type: "gauge", help: "Temperature.", unit: "celsius" }],
    });
    assert.deepEqual(Object.keys(meta.get("t1", undefined, 1)), ["req_total"]);
    assert.deepEqual(meta.get("t2"), {});
  } finally {
    await t.close();
  }
});

Deno.test("remote write 2.0: symbols, metadata, created timestamps, written headers", async (tc) => {
  const t = await openTestDb();
  const meta = new MetadataStore();
  const h = createRemoteWriteHandler({ metadata: meta });
  const v2 = {
    "content-type": CT_V2,
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "2.0.0",
  };
  try {
    await tc.step("round trip", async () => {
      const body = encodeV2([
        {
          labels: series("http_requests_total", [["code", "200"]]),
          samples: [{ t: T0 + 1000, v: 10 }, { t: T0 + 2000, v: STALE_BITS }],
          created: T0 - 5000,
          metadata: [1, "Requests served.", ""],
        },
        {
          labels: series("temp_celsius"),
          samples: [{ t: T0 + 1000, v: 0x7ff8000000000abcn }],
          metadata: [2, "Temp.", "celsius"],
        },
      ]);
      const a = await call(h, t.ctx(), body, v2);
      assert.equal(a.status, 204, a.text);
      assert.equal(
        a.headers.get("x-prometheus-remote-write-samples-written"),
        "3",
      );
      assert.equal(
        a.headers.get("x-prometheus-remote-write-histograms-written"),
        "0",
      );
      assert.equal(
        a.headers.get("x-prometheus-remote-write-exemplars-written"),
        "0",
      );
      const d = dump(t.db, "t1");
      // The created timestamp becomes a zero sample before the first one.
      assert.deepEqual(d.get('http_requests_total{code="200", job="j"}'), [
        [T0 - 5000, 0n],
        [T0 + 1000, 0x4024000000000000n],
        [T0 + 2000, STALE_BITS],
      ]);
      assert.deepEqual(d.get('temp_celsius{job="j"}'), [[
        T0 + 1000,
        0x7ff8000000000abcn,
      ]]);
      assert.deepEqual(meta.get("t1"), {
        http_requests_total: [{
          type: "counter",
          help: "Requests served.",
          unit: "",
        }],
        temp_celsius: [{ type: "gauge", help: "Temp.", unit: "celsius" }],
      });
    });
    await tc.step("a resent created timestamp is not an error", async () => {
      const body = encodeV2([{
        labels: series("http_requests_total", [["code", "200"]]),
        samples: [{ t: T0 + 3000, v: 11 }],
        created: T0 - 5000,
      }]);
      const a = await call(h, t.ctx(), body, v2);
      assert.equal(a.status, 204, a.text);
      assert.equal(
        a.headers.get("x-prometheus-remote-write-samples-written"),
        "1",
      );
    });
    await tc.step(
      "exemplars and native histograms: 400, samples kept, headers say what was written",
      async () => {
        const body = encodeV2([
          {
            labels: series("with_ex"),
            samples: [{ t: T0, v: 1 }],
            exemplars: 1,
          },
          { labels: series("nh"), samples: [], histograms: 1 },
        ]);
        const a = await call(h, t.ctx(), body, v2);
        assert.equal(a.status, 400);
        assert.match(a.text, /exemplars are not stored/);
        assert.match(a.text, /native histograms are not supported/);
        assert.equal(
          a.headers.get("x-prometheus-remote-write-samples-written"),
          "1",
        );
        assert.equal(
          a.headers.get("x-prometheus-remote-write-exemplars-written"),
          "0",
        );
      },
    );
    await tc.step(
      "malformed 2.0: ref outside the symbols, odd labels_refs",
      async () => {
        const before = countSamples(dump(t.db, "t1"));
        // symbols ["", "a"]; series refs [1, 5]
        const outside = new Uint8Array([
          0x22,
          0x00,
          0x22,
          0x01,
          0x61,
          0x2a,
          0x04,
          0x0a,
          0x02,
          0x01,
          0x05,
        ]);
        const odd = new Uint8Array([
          0x22,
          0x00,
          0x22,
          0x01,
          0x61,
          0x2a,
          0x03,
          0x0a,
          0x01,
          0x01,
        ]);
        for (const b of [outside, odd]) {
          const a = await call(h, t.ctx(), b, v2);
          assert.equal(a.status, 400, a.text);
        }
        assert.equal(countSamples(dump(t.db, "t1")), before);
      },
    );
    await tc.step(
      "a 1.0 body sent as 2.0 writes nothing (reserved fields)",
      async () => {
        const before = countSamples(dump(t.db, "t1"));
        const a = await call(
          h,
          t.ctx(),
          encodeV1([{ labels: series("v1"), samples: [{ t: T0, v: 1 }] }]),
          v2,
        );
        assert.equal(a.status, 204);
        assert.equal(
          a.headers.get("x-prometheus-remote-write-samples-written"),
          "0",
        );
        assert.equal(countSamples(dump(t.db, "t1")), before);
      },
    );
  } finally {
    await t.close();
  }
});

Deno.test("remote write: content negotiation", async (tc) => {
  const t = await openTestDb();
  const h = createRemoteWriteHandler();
  const body = encodeV1([{
    labels: series("neg"),
    samples: [{ t: T0, v: 1 }],
  }]);
  const cases: [Record<string, string>, number][] = [
    [{ "content-type": CT_V1, "content-encoding": "snappy" }, 204],
    [{
      "content-type": `${CT_V1};proto=prometheus.WriteRequest`,
      "content-encoding": "snappy",
    }, 204],
    [{ "content-type": `${CT_V1}; proto="prometheus.WriteRequest"` }, 204],
    [{}, 204],
    [
      { "content-type": `${CT_V1};proto=foo`, "content-encoding": "snappy" },
      415,
    ],
    [{ "content-type": `${CT_V1};proto=io.prometheus.write.v3.Request` }, 415],
    [{ "content-type": "application/json" }, 415],
    [{ "content-type": CT_V1, "content-encoding": "gzip" }, 415],
    [{ "content-type": CT_V1, "content-encoding": "zstd" }, 415],
  ];
  try {
    for (const [headers, status] of cases) {
      await tc.step(JSON.stringify(headers), async () => {
        const a = await call(h, t.ctx(), body, headers);
        assert.equal(a.status, status, a.text);
        if (status === 415) assert.match(a.text, /unsupported_media_type/);
      });
    }
    await tc.step("GET is 405", async () => {
      const res = await h(new Request("http://x/api/v1/write"), t.ctx()).catch((
        e,
      ) => e);
      assert.equal(res.status, 405);
    });
  } finally {
    await t.close();
  }
});
