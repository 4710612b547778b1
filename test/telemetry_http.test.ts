// POST /api/v1/tenant/telemetry through HTTP: validation (400 in the
// Prometheus envelope, field named), the documented example, tenant
// isolation, and a cross-check with the PromQL engine.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { PromQLEngine } from "../src/promql/engine.ts";
import type { RequestContext, TenantLimits } from "../src/server/context.ts";
import { handleTelemetry } from "../src/server/handlers/telemetry.ts";
import { promError } from "../src/server/http/envelope.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { Db } from "../src/storage/db.ts";
import { Prng } from "../src/util/prng.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 64 << 10,
  maxDecodedBytes: 1 << 20,
  maxActiveSeries: 0,
};

interface Harness {
  db: Db;
  engine: PromQLEngine;
  post(
    body: string | Uint8Array<ArrayBuffer>,
    tenant?: string,
  ): Promise<Response>;
  close(): Promise<void>;
}

/** A server with only the telemetry handler; the tenant comes from an X-Tenant header. */
async function start(
  opts: {
    queryTimeoutMs?: number;
    signal?: AbortSignal;
    maxSamplesPerQuery?: number;
  } = {},
): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "tm-telemetry-http-" });
  const db = await Db.open({
    dataDir: dir,
    maxSamplesPerQuery: opts.maxSamplesPerQuery,
  });
  const engine = new PromQLEngine(db);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const ctx: RequestContext = {
        db,
        engine,
        now: () => NOW,
        queryTimeoutMs: opts.queryTimeoutMs ?? 30_000,
        tenant: req.headers.get("x-tenant") ?? "default",
        limits: LIMITS,
        signal: opts.signal ?? new AbortController().signal,
        params: {},
      };
      try {
        return await handleTelemetry(req, ctx);
      } catch (e) {
        if (e instanceof HttpError) return promError(e);
        throw e;
      }
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}/api/v1/tenant/telemetry`;
  return {
    db,
    engine,
    post: (body, tenant = "default") =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant": tenant },
        body,
      }),
    close: async () => {
      await server.shutdown();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function write(
  db: Db,
  tenant: string,
  labels: Record<string, string>,
  points: [number, number][],
): Promise<void> {
  const app = db.appender(tenant);
  app.appendSeries(
    labelsFrom(labels),
    points.map((p) => p[0]),
    Float64Array.from(points, (p) => p[1]),
  );
  const r = await app.commit();
  assert.deepEqual(r.rejected, []);
}

Deno.test("telemetry over HTTP: validation errors name the field", async (t) => {
  const h = await start();
  try {
    const cases: [string, string, string][] = [
      ["missing metric", `{"start":0,"step":"1m"}`, "metric"],
      ["empty metric", `{"metric":"","start":0,"step":"1m"}`, "metric"],
      ["numeric metric", `{"metric":5,"start":0,"step":"1m"}`, "metric"],
      ["missing start", `{"metric":"m","step":"1m"}`, "start"],
      ["null start", `{"metric":"m","start":null,"step":"1m"}`, "start"],
      ["bad unit", `{"metric":"m","start":"now-1x","step":"1m"}`, "start"],
      ["words", `{"metric":"m","start":"yesterday","step":"1m"}`, "start"],
      ["fractional epoch", `{"metric":"m","start":1.5,"step":"1m"}`, "start"],
      ["bad end", `{"metric":"m","start":0,"end":"now+","step":"1m"}`, "end"],
      [
        "end before start",
        `{"metric":"m","start":1000,"end":0,"step":1}`,
        "end",
      ],
      [
        "end before start (date math)",
        `{"metric":"m","start":"now-1h","end":"now-2h","step":"1m"}`,
        "end",
      ],
      ["missing step", `{"metric":"m","start":0}`, "step"],
      ["zero step", `{"metric":"m","start":0,"step":0}`, "step"],
      ["negative step", `{"metric":"m","start":0,"step":-60000}`, "step"],
      ["zero duration", `{"metric":"m","start":0,"step":"0s"}`, "step"],
      ["calendar step", `{"metric":"m","start":0,"step":"1M"}`, "step"],
      ["garbage step", `{"metric":"m","start":0,"step":"abc"}`, "step"],
      ["boolean step", `{"metric":"m","start":0,"step":true}`, "step"],
      [
        "11,001 buckets",
        `{"metric":"m","start":0,"end":11001,"step":1}`,
        "step",
      ],
      ["tags array", `{"metric":"m","tags":["a"],"start":0,"step":1}`, "tags"],
      [
        "tag without values",
        `{"metric":"m","tags":{"chain":[]},"start":0,"step":1}`,
        "tags.chain",
      ],
      [
        "tag value not a list",
        `{"metric":"m","tags":{"chain":"eth"},"start":0,"step":1}`,
        "tags.chain",
      ],
      [
        "numeric tag value",
        `{"metric":"m","tags":{"chain":[1]},"start":0,"step":1}`,
        "tags.chain.0",
      ],
      [
        "empty tag value",
        `{"metric":"m","tags":{"chain":[""]},"start":0,"step":1}`,
        "tags.chain.0",
      ],
      [
        "empty tag name",
        `{"metric":"m","tags":{"":["x"]},"start":0,"step":1}`,
        "tags",
      ],
      ["not JSON", `{"metric":`, ""],
      ["JSON array", `[]`, ""],
      ["JSON null", `null`, ""],
      ["empty body", ``, ""],
    ];
    for (const [name, body, field] of cases) {
      await t.step(name, async () => {
        const res = await h.post(body);
        const json = await res.json();
        assert.equal(res.status, 400, JSON.stringify(json));
        assert.equal(json.status, "error");
        assert.equal(json.errorType, "bad_data");
        if (field) {
          assert.ok(
            json.error.startsWith(`invalid parameter "${field}": `),
            json.error,
          );
        }
      });
    }
    await t.step("invalid UTF-8 → 400", async () => {
      const res = await h.post(Uint8Array.of(0x7b, 0xff, 0x7d));
      assert.equal(res.status, 400);
      assert.equal((await res.json()).errorType, "bad_data");
    });
    await t.step("body over the tenant's limit → 413", async () => {
      const res = await h.post(`{"metric":"${"m".repeat(70_000)}"}`);
      assert.equal(res.status, 413);
      assert.equal((await res.json()).errorType, "payload_too_large");
    });
    await t.step("exactly 11,000 buckets is allowed", async () => {
      const res = await h.post(`{"metric":"m","start":0,"end":11000,"step":1}`);
      assert.equal(res.status, 200);
      const json = await res.json();
      assert.equal(json.data.length, 11_000);
      assert.deepEqual(json.data[10_999], { ts: 10_999, bucket: {} });
    });
  } finally {
    await h.close();
  }
});

Deno.test("telemetry over HTTP: the documented example", async () => {
  const h = await start();
  try {
    const t0 = Date.parse("2024-05-01T00:00:00Z");
    const m = 60_000;
    const eth = {
      __name__: "tx_total",
      chain: "ethereum",
      type: "TRANSACTION",
    };
    await write(h.db, "default", eth, [
      [t0, 100],
      [t0 + 30 * m, 130],
      [
        t0 + 70 * m,
        150,
      ],
      [t0 + 100 * m, 20],
      [t0 + 130 * m, 45],
    ]);
    await write(
      h.db,
      "default",
      { __name__: "tx_total", chain: "bitcoin", type: "TRANSACTION" },
      [[t0, 7], [t0 + 80 * m, 12]],
    );
    const res = await h.post(JSON.stringify({
      metric: "tx_total",
      tags: { chain: ["ethereum", "bitcoin"], type: ["TRANSACTION"] },
      start: t0,
      end: t0 + 3 * 60 * m,
      step: "1h",
    }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(
      await res.text(),
      '{"data":[' +
        '{"ts":1714521600000,"bucket":{"ethereum,TRANSACTION":{"count":30}}},' +
        '{"ts":1714525200000,"bucket":{"bitcoin,TRANSACTION":{"count":5},"ethereum,TRANSACTION":{"count":40}}},' +
        '{"ts":1714528800000,"bucket":{"ethereum,TRANSACTION":{"count":25}}}' +
        "]}",
    );
    // the same with date math (now = 12:00): only buckets with data, aligned to start
    const res2 = await h.post(JSON.stringify({
      metric: "tx_total",
      start: "now/d",
      end: "now-8h",
      step: "1h",
    }));
    assert.deepEqual(await res2.json(), {
      data: [
        { ts: t0, bucket: { total: { count: 30 } } },
        { ts: t0 + 60 * m, bucket: { total: { count: 45 } } },
        { ts: t0 + 120 * m, bucket: { total: { count: 25 } } },
      ],
    });
  } finally {
    await h.close();
  }
});

Deno.test("telemetry over HTTP: tenants are isolated", async () => {
  const h = await start();
  try {
    const t0 = NOW - 3_600_000;
    await write(h.db, "acme", { __name__: "req_total", route: "/a" }, [
      [t0, 0],
      [t0 + 60_000, 10],
    ]);
    await write(h.db, "globex", { __name__: "req_total", route: "/a" }, [
      [t0, 0],
      [t0 + 60_000, 999],
    ]);
    const body = (start: number | string, end?: number) =>
      JSON.stringify({
        metric: "req_total",
        tags: { route: ["/a"] },
        start,
        end,
        step: "1h",
      });
    const get = async (b: string, tenant: string) => {
      const res = await h.post(b, tenant);
      assert.equal(res.status, 200);
      return (await res.json()).data;
    };
    assert.deepEqual(await get(body("now-1h"), "acme"), [
      { ts: t0, bucket: { "/a": { count: 10 } } },
    ]);
    assert.deepEqual(await get(body("now-1h"), "globex"), [
      { ts: t0, bucket: { "/a": { count: 999 } } },
    ]);
    assert.deepEqual(await get(body("now-1h"), "initech"), []);
    assert.deepEqual(await get(body(t0, t0 + 3_600_000), "initech"), [
      { ts: t0, bucket: {} },
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("telemetry over HTTP: agrees with PromQL on reset-free, evenly spaced counters", async () => {
  const seed = 42;
  const rng = new Prng(seed);
  const h = await start();
  try {
    const t0 = Date.parse("2024-05-01T00:00:00Z");
    const every = 15_000;
    const n = 4 * 60 * 3; // 3 h
    const ts = Array.from({ length: n }, (_, i) => t0 + i * every);
    // random increments per series (checked against instant values), and
    // constant rates (checked against PromQL's extrapolating increase())
    for (const chain of ["ethereum", "bitcoin"]) {
      for (const instance of ["a", "b"]) {
        let v = rng.int(0, 1000);
        await write(
          h.db,
          "default",
          { __name__: "walk_total", chain, instance },
          ts.map((t) => [t, v += rng.int(0, 9)]),
        );
        const rate = rng.int(1, 9);
        const base = rng.int(0, 1000);
        await write(
          h.db,
          "default",
          { __name__: "steady_total", chain, instance },
          ts.map((t, i) => [t, base + rate * i]),
        );
      }
    }
    const step = 10 * 60_000;
    const start = t0 + 7 * 60_000;
    const end = t0 + 157 * 60_000;
    const buckets = (end - start) / step;
    const telemetry = async (metric: string) => {
      const res = await h.post(JSON.stringify({
        metric,
        tags: { chain: ["ethereum", "bitcoin"] },
        start,
        end,
        step: "10m",
      }));
      assert.equal(res.status, 200);
      return (await res.json()).data as {
        ts: number;
        bucket: Record<string, { count: number }>;
      }[];
    };
    const promByChain = async (query: string, from: number) => {
      const r = await h.engine.rangeQuery(
        "default",
        query,
        from,
        from + buckets * step,
        step,
      );
      assert.equal(r.value.type, "matrix");
      const out: Record<string, Float64Array> = {};
      if (r.value.type === "matrix") {
        for (const s of r.value.series) {
          assert.equal(s.ts.length, buckets + 1);
          out[s.metric.find((l) => l.name === "chain")!.value] = s.values;
        }
      }
      return out;
    };

    // sum of the counters just before each bucket edge; differences are the buckets
    const walk = await telemetry("walk_total");
    const level = await promByChain("sum by (chain) (walk_total)", start - 1);
    assert.equal(walk.length, buckets);
    for (let k = 0; k < buckets; k++) {
      assert.equal(walk[k].ts, start + k * step);
      for (const chain of ["ethereum", "bitcoin"]) {
        assert.equal(
          walk[k].bucket[chain].count,
          level[chain][k + 1] - level[chain][k],
          `seed ${seed} bucket ${k} ${chain}`,
        );
      }
    }

    // increase() over each bucket's window, evaluated at its last millisecond
    const steady = await telemetry("steady_total");
    const inc = await promByChain(
      "sum by (chain) (increase(steady_total[10m]))",
      start + step - 1,
    );
    for (let k = 0; k < buckets; k++) {
      for (const chain of ["ethereum", "bitcoin"]) {
        assert.equal(
          steady[k].bucket[chain].count,
          Math.round(inc[chain][k]),
          `seed ${seed} bucket ${k} ${chain}: ${inc[chain][k]}`,
        );
        assert.ok(
          Math.abs(steady[k].bucket[chain].count - inc[chain][k]) < 1e-6,
        );
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("telemetry over HTTP: timeout, cancellation and read limits", async (t) => {
  const cases: [string, Parameters<typeof start>[0], number, string][] = [
    ["past the deadline → 503 timeout", { queryTimeoutMs: -1 }, 503, "timeout"],
    [
      "client gone → 503 canceled",
      { signal: AbortSignal.abort() },
      503,
      "canceled",
    ],
    [
      "sample limit → 422 execution",
      { maxSamplesPerQuery: 3 },
      422,
      "execution",
    ],
  ];
  for (const [name, opts, status, errorType] of cases) {
    await t.step(name, async () => {
      const h = await start(opts);
      try {
        await write(h.db, "default", { __name__: "c" }, [
          [NOW - 4000, 1],
          [NOW - 3000, 2],
          [NOW - 2000, 3],
          [NOW - 1000, 4],
        ]);
        const res = await h.post(`{"metric":"c","start":"now-1m","step":"1m"}`);
        const json = await res.json();
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal(json.errorType, errorType);
      } finally {
        await h.close();
      }
    });
  }
  await t.step("within limits the same request answers", async () => {
    const h = await start({ maxSamplesPerQuery: 4 });
    try {
      await write(h.db, "default", { __name__: "c" }, [
        [NOW - 4000, 1],
        [NOW - 3000, 2],
        [NOW - 2000, 3],
        [NOW - 1000, 4],
      ]);
      const res = await h.post(`{"metric":"c","start":"now-1m","step":"1m"}`);
      assert.deepEqual(await res.json(), {
        data: [{ ts: NOW - 60_000, bucket: { total: { count: 3 } } }],
      });
    } finally {
      await h.close();
    }
  });
});
