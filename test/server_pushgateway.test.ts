import assert from "node:assert/strict";
import client from "prom-client";
import { Db } from "../src/storage/db.ts";
import { PromQLEngine } from "../src/promql/engine.ts";
import type { RequestContext, TenantLimits } from "../src/server/context.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { promError } from "../src/server/http/envelope.ts";
import {
  createPushgatewayHandler,
  PushgatewayStore,
} from "../src/server/handlers/pushgateway.ts";
import {
  GroupingKeyError,
  parseGroupingPath,
} from "../src/ingest/pushgateway/grouping.ts";
import { METRIC_NAME } from "../src/model/labels.ts";
import { Prng } from "../src/util/prng.ts";

const LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 1 << 20,
  maxDecodedBytes: 4 << 20,
  maxActiveSeries: 0,
};

Deno.test("grouping keys from paths", async (t) => {
  const good: [string, Record<string, string>][] = [
    ["job/foo", { job: "foo" }],
    ["job/foo/", { job: "foo" }],
    ["job/foo/instance/bar", { instance: "bar", job: "foo" }],
    ["job@base64/Zm9v", { job: "foo" }],
    ["job@base64/Zm9v=", { job: "foo" }],
    ["job/x/path@base64/L3Zhci90bXA", { job: "x", path: "/var/tmp" }],
    ["job/x/path@base64/L3Zhci90bXA=", { job: "x", path: "/var/tmp" }],
    ["job/x/first@base64/=/second/foobar", {
      first: "",
      job: "x",
      second: "foobar",
    }],
    ["job/titan/name@base64/zqDPgc6_zrzOt864zrXPjc-C", {
      job: "titan",
      name: "Προμηθεύς",
    }],
    ["job/a%20b/l/c%2Fd", { job: "a b", l: "c/d" }],
    ["job/x/job/y", { job: "x" }],
    ["job/x/a/1/a/2", { a: "2", job: "x" }],
  ];
  for (const [path, labels] of good) {
    await t.step(
      path,
      () => assert.deepEqual(parseGroupingPath(path).labels, labels),
    );
  }
  const bad: [string, RegExp][] = [
    ["job", /job name is required/],
    ["job/", /job name is required/],
    ["job@base64/=", /job name is required/],
    ["jobs/x", /must be \/metrics\/job/],
    ["job/x/a", /odd number/],
    ["job/x/__a/b", /improper label name/],
    ["job/x/1a/b", /improper label name/],
    ["job/x/a-b/c", /improper label name/],
    ["job/x/a@base64/!!", /invalid base64/],
    ["job/x/a@base64/A", /invalid base64/],
    ["job/x/a@base64/_w", /not valid UTF-8/],
    ["job/%E0%A4%A", /percent-encoding/],
  ];
  for (const [path, re] of bad) {
    await t.step(
      `rejects ${path}`,
      () =>
        assert.throws(() => parseGroupingPath(path), (e: unknown) => {
          assert.ok(e instanceof GroupingKeyError);
          assert.match(e.message, re);
          return true;
        }),
    );
  }
  assert.equal(
    parseGroupingPath("job/a/b/c").id,
    parseGroupingPath("job/a/b/c/").id,
  );
  assert.notEqual(
    parseGroupingPath("job/a").id,
    parseGroupingPath("job/a/b@base64/=").id,
  );
});

interface Env {
  dir: string;
  db: Db;
  engine: PromQLEngine;
  store: PushgatewayStore;
  clock: { now: number };
}

async function openEnv(dir?: string, clockStart = 1_700_000_000_000) {
  dir ??= await Deno.makeTempDir();
  const clock = { now: clockStart };
  const db = await Db.open({ dataDir: dir, fsync: "never" });
  const engine = new PromQLEngine(db);
  const store = await PushgatewayStore.open({
    storage: db,
    dataDir: dir,
    now: () => clock.now,
  });
  return { dir, db, engine, store, clock } satisfies Env;
}

async function closeEnv(env: Env, remove = true): Promise<void> {
  await env.store.stop();
  await env.db.close();
  if (remove) await Deno.remove(env.dir, { recursive: true });
}

function ctxFor(env: Env, path: string, tenant = "default"): RequestContext {
  return {
    db: env.db,
    engine: env.engine,
    now: () => env.clock.now,
    queryTimeoutMs: 120_000,
    tenant,
    limits: LIMITS,
    signal: new AbortController().signal,
    params: { path },
  };
}

/** Sends one request through the handler; returns the status (HttpError → its status). */
async function send(
  env: Env,
  method: string,
  path: string,
  body?: string,
  tenant = "default",
): Promise<{ status: number; message: string }> {
  const handler = createPushgatewayHandler(env.store);
  const req = new Request(`http://x/metrics/${path}`, { method, body });
  try {
    const res = await handler(req, ctxFor(env, path, tenant));
    return { status: res.status, message: await res.text() };
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, message: e.message };
    throw e;
  }
}

/** Every series PromQL sees at `t`, as `name{a="b",...}` → value text. */
async function visible(
  env: Env,
  t: number,
  tenant = "default",
): Promise<Record<string, string>> {
  const r = await env.engine.instantQuery(tenant, '{__name__=~".+"}', t);
  assert.equal(r.value.type, "vector");
  const out: Record<string, string> = {};
  if (r.value.type !== "vector") return out;
  for (const s of r.value.samples) {
    const name = s.metric.find((l) => l.name === METRIC_NAME)?.value;
    const rest = s.metric.filter((l) => l.name !== METRIC_NAME)
      .map((l) => `${l.name}="${l.value}"`).join(",");
    out[`${name}{${rest}}`] = String(s.v);
  }
  return out;
}

function withoutPushGauges(
  series: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(series).filter(([k]) => !k.startsWith("push_")),
  );
}

type Op = [method: string, path: string, body: string, status: number];

Deno.test("group semantics: PUT/POST/DELETE sequences as PromQL sees them", async (t) => {
  const cases: { name: string; ops: Op[]; want: Record<string, string> }[] = [
    {
      name: "PUT replaces the whole group",
      ops: [["PUT", "job/a", "x 1\ny 2\n", 200], [
        "PUT",
        "job/a",
        "x 3\n",
        200,
      ]],
      want: { 'x{job="a"}': "3" },
    },
    {
      name: "POST replaces only families of the same names",
      ops: [["PUT", "job/a", "x 1\ny 2\n", 200], [
        "POST",
        "job/a",
        "y 5\nz 6\n",
        200,
      ]],
      want: { 'x{job="a"}': "1", 'y{job="a"}': "5", 'z{job="a"}': "6" },
    },
    {
      name: "POST replaces a family whole: series not pushed again leave",
      ops: [
        ["PUT", "job/a", 'x{k="1"} 1\nx{k="2"} 2\n', 200],
        ["POST", "job/a", 'x{k="1"} 7\n', 200],
      ],
      want: { 'x{job="a",k="1"}': "7" },
    },
    {
      name: "DELETE removes exactly the group with that key",
      ops: [
        ["PUT", "job/a", "x 1\n", 200],
        ["PUT", "job/a/instance/i", "x 2\n", 200],
        ["DELETE", "job/a", "", 202],
      ],
      want: { 'x{instance="i",job="a"}': "2" },
    },
    {
      name: "DELETE of an absent group is a no-op",
      ops: [["PUT", "job/a", "x 1\n", 200], ["DELETE", "job/b", "", 202]],
      want: { 'x{job="a"}': "1" },
    },
    {
      name: "grouping labels override the samples' own",
      ops: [[
        "PUT",
        "job/a/instance/i",
        'x{job="other",instance="j",k="v"} 1\n',
        200,
      ]],
      want: { 'x{instance="i",job="a",k="v"}': "1" },
    },
    {
      name: "an empty grouping value removes the sample's label",
      ops: [["PUT", "job/a/k@base64/=", 'x{k="v",m="1"} 1\n', 200]],
      want: { 'x{job="a",m="1"}': "1" },
    },
    {
      name: "empty PUT empties the group",
      ops: [["PUT", "job/a", "x 1\n", 200], ["PUT", "job/a", "", 200]],
      want: {},
    },
    {
      name: "empty POST keeps the metrics",
      ops: [["PUT", "job/a", "x 1\n", 200], ["POST", "job/a", "", 200]],
      want: { 'x{job="a"}': "1" },
    },
    {
      name: "a type clash across groups is refused and changes nothing",
      ops: [
        ["PUT", "job/a", "# TYPE x counter\nx 1\n", 200],
        ["PUT", "job/b", "# TYPE x gauge\nx 2\n", 400],
      ],
      want: { 'x{job="a"}': "1" },
    },
    {
      name: "the same series twice is refused",
      ops: [
        ["PUT", "job/a", "y 1\n", 200],
        ["PUT", "job/a", 'x{k="1"} 1\nx{k="1"} 2\n', 400],
      ],
      want: { 'y{job="a"}': "1" },
    },
    {
      name: "explicit timestamps are refused",
      ops: [
        ["PUT", "job/a", "x 1\n", 200],
        ["POST", "job/a", "x 2 1234\n", 400],
      ],
      want: { 'x{job="a"}': "1" },
    },
    {
      name: "a syntax error is refused",
      ops: [["PUT", "job/a", "x 1\n", 200], ["PUT", "job/a", "x{ 2\n", 400]],
      want: { 'x{job="a"}': "1" },
    },
    {
      name: "a histogram is exposed as the Pushgateway exposes it",
      ops: [[
        "PUT",
        "job/a",
        '# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="1000000"} 2\nh_sum 3\nh_count 2\n',
        200,
      ]],
      want: {
        'h_bucket{job="a",le="0.1"}': "1",
        'h_bucket{job="a",le="1e+06"}': "2",
        'h_bucket{job="a",le="+Inf"}': "2",
        'h_sum{job="a"}': "3",
        'h_count{job="a"}': "2",
      },
    },
    {
      name: "a summary gets _sum and _count",
      ops: [[
        "PUT",
        "job/a",
        '# TYPE s summary\ns{quantile="0.50"} 4\ns_count 3\n',
        200,
      ]],
      want: {
        's{job="a",quantile="0.5"}': "4",
        's_sum{job="a"}': "0",
        's_count{job="a"}': "3",
      },
    },
    {
      name: "a family colliding with a histogram's series is refused",
      ops: [
        ["PUT", "job/a", '# TYPE h histogram\nh_bucket{le="1"} 1\n', 200],
        ["PUT", "job/b", "h_count 3\n", 400],
      ],
      want: {
        'h_bucket{job="a",le="1"}': "1",
        'h_bucket{job="a",le="+Inf"}': "0",
        'h_sum{job="a"}': "0",
        'h_count{job="a"}': "0",
      },
    },
    {
      name: "NaN values are kept (not stale)",
      ops: [["PUT", "job/a", "x NaN\n", 200]],
      want: { 'x{job="a"}': "NaN" },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const env = await openEnv();
      try {
        for (const [method, path, body, status] of c.ops) {
          env.clock.now += 1000;
          const r = await send(env, method, path, body || undefined);
          assert.equal(r.status, status, `${method} ${path}: ${r.message}`);
        }
        const seen = await visible(env, env.clock.now);
        assert.deepEqual(withoutPushGauges(seen), c.want);
      } finally {
        await closeEnv(env);
      }
    });
  }
});

Deno.test("push_time_seconds and push_failure_time_seconds", async () => {
  const env = await openEnv();
  try {
    const t1 = (env.clock.now += 1000);
    assert.equal((await send(env, "PUT", "job/a", "x 1\n")).status, 200);
    let seen = await visible(env, t1);
    assert.equal(seen['push_time_seconds{job="a"}'], String(t1 / 1000));
    assert.equal(seen['push_failure_time_seconds{job="a"}'], "0");

    // A pushed push_time_seconds is overridden by the store's own.
    const t2 = (env.clock.now += 1000);
    await send(env, "POST", "job/a", "push_time_seconds 5\n");
    seen = await visible(env, t2);
    assert.equal(seen['push_time_seconds{job="a"}'], String(t2 / 1000));

    // A refused push to an existing group records its failure time only.
    const t3 = (env.clock.now += 1000);
    const r = await send(env, "POST", "job/a", "x 9 1000\n");
    assert.equal(r.status, 400);
    assert.match(r.message, /must not have timestamps/);
    seen = await visible(env, t3);
    assert.equal(seen['push_time_seconds{job="a"}'], String(t2 / 1000));
    assert.equal(seen['push_failure_time_seconds{job="a"}'], String(t3 / 1000));
    assert.equal(seen['x{job="a"}'], "1");

    // A refused push to a new group writes nothing and creates no group.
    env.clock.now += 1000;
    assert.equal((await send(env, "PUT", "job/n", "x 1 5\n")).status, 400);
    assert.equal(env.store.groups("default").length, 1);
    seen = await visible(env, env.clock.now);
    assert.ok(!Object.keys(seen).some((k) => k.includes('job="n"')));
  } finally {
    await closeEnv(env);
  }
});

Deno.test("HTTP details: 415 for protobuf, gzip bodies, 413 over the limit", async () => {
  const env = await openEnv();
  try {
    const handler = createPushgatewayHandler(env.store);
    const call = async (init: RequestInit) => {
      try {
        return (await handler(
          new Request("http://x/metrics/job/g", init),
          ctxFor(env, "job/g"),
        )).status;
      } catch (e) {
        if (e instanceof HttpError) return e.status;
        throw e;
      }
    };
    assert.equal(
      await call({
        method: "PUT",
        body: "x 1\n",
        headers: {
          "content-type":
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        },
      }),
      415,
    );
    const gz = new Uint8Array(
      await new Response(
        new Blob(["gz_metric 4\n"]).stream().pipeThrough(
          new CompressionStream("gzip"),
        ),
      ).arrayBuffer(),
    );
    env.clock.now += 1000;
    assert.equal(
      await call({
        method: "PUT",
        body: gz,
        headers: { "content-encoding": "gzip" },
      }),
      200,
    );
    assert.equal(
      (await visible(env, env.clock.now))['gz_metric{job="g"}'],
      "4",
    );
    assert.equal(
      await call({
        method: "PUT",
        body: "not gzip",
        headers: { "content-encoding": "gzip" },
      }),
      400,
    );
    assert.equal(
      await call({
        method: "PUT",
        body: "x 1\n",
        headers: { "content-encoding": "snappy" },
      }),
      415,
    );
    assert.equal(
      await call({ method: "PUT", body: "x 1\n".repeat(300_000) }),
      413,
    );
    assert.equal(await call({ method: "GET" }), 405);
  } finally {
    await closeEnv(env);
  }
});

Deno.test("groups stay visible past the lookback through periodic re-writes", async () => {
  const env = await openEnv();
  try {
    const t0 = env.clock.now;
    await send(env, "PUT", "job/a", "x 1\n");
    const minute = 60_000;
    assert.deepEqual(
      withoutPushGauges(await visible(env, t0 + 6 * minute)),
      {},
    );
    await env.store.scrape(t0 + 4 * minute);
    await env.store.scrape(t0 + 8 * minute);
    assert.deepEqual(
      withoutPushGauges(await visible(env, t0 + 12 * minute)),
      { 'x{job="a"}': "1" },
    );
    // DELETE writes stale markers: gone at once, not after the lookback.
    env.clock.now = t0 + 9 * minute;
    assert.equal((await send(env, "DELETE", "job/a")).status, 202);
    assert.deepEqual(await visible(env, t0 + 9 * minute + 1), {});

    // start()/stop(): the timer re-writes on its own.
    await send(env, "PUT", "job/b", "y 2\n");
    const store2 = await PushgatewayStore.open({
      storage: env.db,
      dataDir: env.dir,
      intervalMs: 5,
      now: () => t0 + 30 * minute,
    });
    store2.start();
    await new Promise((r) => setTimeout(r, 60));
    await store2.stop();
    assert.deepEqual(
      withoutPushGauges(await visible(env, t0 + 31 * minute)),
      { 'y{job="b"}': "2" },
    );
  } finally {
    await closeEnv(env);
  }
});

Deno.test("tenants are isolated", async () => {
  const env = await openEnv();
  try {
    env.clock.now += 1000;
    await send(env, "PUT", "job/a", "x 1\n", "acme");
    assert.equal(
      (await send(env, "DELETE", "job/a", undefined, "globex")).status,
      202,
    );
    assert.deepEqual(await visible(env, env.clock.now, "globex"), {});
    assert.equal(
      withoutPushGauges(
        await visible(env, env.clock.now, "acme"),
      )['x{job="a"}'],
      "1",
    );
    assert.equal(env.store.groups("globex").length, 0);
  } finally {
    await closeEnv(env);
  }
});

Deno.test("prom-client's Pushgateway against a live server, across a restart", async () => {
  let env = await openEnv(undefined, Date.now());
  const serve = (e: Env) => {
    const handler = createPushgatewayHandler(e.store);
    return Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      async (req) => {
        const url = new URL(req.url);
        if (!url.pathname.startsWith("/metrics/")) {
          return new Response("not found", { status: 404 });
        }
        const path = url.pathname.slice("/metrics/".length);
        try {
          e.clock.now = Math.max(e.clock.now + 1, Date.now());
          return await handler(req, ctxFor(e, path));
        } catch (err) {
          if (err instanceof HttpError) return promError(err);
          throw err;
        }
      },
    );
  };
  let server = serve(env);
  try {
    const registry = new client.Registry();
    const gauge = new client.Gauge({
      name: "batch_records",
      help: "Records processed.",
      labelNames: ["kind"],
      registers: [registry],
    });
    const hist = new client.Histogram({
      name: "batch_seconds",
      help: "Batch duration.",
      buckets: [0.5, 5],
      registers: [registry],
    });
    gauge.set({ kind: "a" }, 10);
    gauge.set({ kind: "b" }, 20);
    hist.observe(1);
    const gw = new client.Pushgateway(
      `http://127.0.0.1:${server.addr.port}`,
      {},
      registry,
    );
    const groupings = { instance: "host/1" };
    const q = async (expr: string) => {
      const r = await env.engine.instantQuery(
        "default",
        expr,
        env.clock.now + 1,
      );
      assert.equal(r.value.type, "vector");
      return r.value.type === "vector"
        ? r.value.samples.map((s) => s.v).sort((a, b) => a - b)
        : [];
    };

    await gw.pushAdd({ jobName: "nightly", groupings });
    assert.deepEqual(
      await q('batch_records{job="nightly",instance="host/1"}'),
      [10, 20],
    );
    assert.deepEqual(await q('batch_seconds_bucket{job="nightly",le="5"}'), [
      1,
    ]);
    assert.deepEqual(await q('batch_seconds_count{job="nightly"}'), [1]);
    const pushTime = await q('push_time_seconds{job="nightly"}');
    assert.equal(pushTime.length, 1);
    assert.ok(Math.abs(pushTime[0] - Date.now() / 1000) < 60, `${pushTime}`);

    // push (PUT) with one label set fewer: that series goes stale.
    gauge.remove({ kind: "b" });
    gauge.set({ kind: "a" }, 11);
    await gw.push({ jobName: "nightly", groupings });
    assert.deepEqual(await q('batch_records{job="nightly"}'), [11]);

    // A second group under another job, deleted afterwards.
    await gw.pushAdd({ jobName: "other" });
    assert.deepEqual(await q('batch_records{job="other"}'), [11]);
    await gw.delete({ jobName: "other" });
    assert.deepEqual(await q('batch_records{job="other"}'), []);
    assert.deepEqual(await q('push_time_seconds{job="other"}'), []);

    // Restart: close everything, reopen Db and store from the same dir.
    await server.shutdown();
    await closeEnv(env, false);
    env = await openEnv(env.dir, Date.now());
    server = serve(env);
    assert.deepEqual(
      env.store.groups("default").map((g) => g.key.labels),
      [{ instance: "host/1", job: "nightly" }],
    );
    await env.store.scrape(Date.now() + 10 * 60_000);
    env.clock.now = Date.now() + 10 * 60_000;
    assert.deepEqual(await q('batch_records{job="nightly"}'), [11]);
    assert.equal((await q('push_time_seconds{job="nightly"}')).length, 1);

    // The reopened server still takes pushes and deletes.
    const gw2 = new client.Pushgateway(
      `http://127.0.0.1:${server.addr.port}`,
      {},
      registry,
    );
    await gw2.delete({ jobName: "nightly", groupings });
    env.clock.now += 1;
    assert.deepEqual(await q('batch_records{job="nightly"}'), []);
    await assert.rejects(
      gw2.pushAdd({ jobName: "x", groupings: { __bad: "1" } }),
      /400/,
    );
  } finally {
    await server.shutdown();
    await closeEnv(env);
  }
});

Deno.test("fuzzed bodies: only 200 or 400, and a refused push changes nothing", async () => {
  const env = await openEnv();
  try {
    const seed = 20261130;
    const rng = new Prng(seed);
    const base = '# TYPE c counter\nc{a="1"} 1\n# TYPE h histogram\n' +
      'h_bucket{le="1"} 2\nh_sum 3\nh_count 2\ng 5\n';
    const bytes = new TextEncoder().encode(base);
    for (let i = 0; i < 300; i++) {
      const body = bytes.slice();
      for (let k = rng.int(0, 3); k > 0; k--) {
        body[rng.int(0, body.length - 1)] = rng.u32() & 0xff;
      }
      const before = snapshot(env);
      env.clock.now += 1000;
      const handler = createPushgatewayHandler(env.store);
      const method = rng.pick(["PUT", "POST"]);
      let status: number;
      try {
        status = (await handler(
          new Request("http://x/metrics/job/f", { method, body }),
          ctxFor(env, "job/f"),
        )).status;
      } catch (e) {
        if (!(e instanceof HttpError)) {
          throw new Error(`seed ${seed} #${i}: ${e}`);
        }
        status = e.status;
      }
      assert.ok(
        status === 200 || status === 400,
        `seed ${seed} #${i}: ${status}`,
      );
      if (status === 400) {
        const after = snapshot(env);
        // Only the failure time of an existing group may move.
        assert.equal(
          after.replace(/"failureTime":[0-9.e+]+/g, ""),
          before.replace(/"failureTime":[0-9.e+]+/g, ""),
          `seed ${seed} #${i}`,
        );
      }
    }
  } finally {
    await closeEnv(env);
  }
});

/** The tenant's groups as text (Maps included). */
function snapshot(env: Env): string {
  return JSON.stringify(
    env.store.groups("default"),
    (_k, v) => v instanceof Map ? [...v] : v,
  );
}
