// Interval queries against values computed independently in the test
// (plain arrays): gauge/counter/distribution/set aggregations, quantiles
// within 1%, distinct counts within 2%, tags filters, groups, defaults,
// and the resolution each interval uses.
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import { exactQuantile, postAll, startMetricsApi } from "./_metricsapi.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.parse("2024-03-01T00:00:00Z");
const iso = (t: number) => new Date(t).toISOString();

Deno.test("gauge and counter aggregations match an oracle", async (t) => {
  const seed = 7;
  const rng = new Prng(seed);
  const srv = await startMetricsApi({ now: T0 + 2 * HOUR });
  try {
    // Gauges on two hosts; counters on two endpoints, with same-ms pairs.
    type G = { t: number; v: number; host: string };
    const gauges: G[] = [];
    const counters: { t: number; v: number; ep: string }[] = [];
    for (let i = 0; i < 3000; i++) {
      const ts = T0 + rng.int(0, 2 * HOUR - 1);
      gauges.push({
        t: ts,
        v: Math.round(rng.float() * 1000) / 10,
        host: rng.pick(["a", "b"]),
      });
      const c = {
        t: T0 + rng.int(0, 2 * HOUR - 1),
        v: rng.int(1, 5),
        ep: rng.pick(["/users", "/orders"]),
      };
      counters.push(c, { ...c, v: rng.int(1, 5) }); // same millisecond, both count
    }
    await postAll(srv, [
      ...gauges.map((g) => ({
        name: "cpu.load",
        type: "gauge",
        value: g.v,
        timestamp: g.t,
        tags: { host: g.host },
      })),
      ...counters.map((c) => ({
        name: "api.requests",
        type: "counter",
        value: c.v,
        timestamp: iso(c.t),
        tags: { endpoint: c.ep },
      })),
    ]);
    const range = `from=${iso(T0)}&to=${iso(T0 + 2 * HOUR)}`;

    await t.step("gauge last/avg/min/max per 5m, filtered by tag", async () => {
      const r = await srv.call(
        "GET",
        `/api/v1/metrics/cpu.load/query?${range}&interval=5m&aggregation=last,avg,min,max&tags[host]=a`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.data.length, 24);
      for (const [i, p] of r.json.data.entries()) {
        const lo = T0 + i * 5 * MIN;
        // Arrival order is the array order: the later of equal timestamps wins.
        const inB = gauges.filter((g) =>
          g.host === "a" && g.t >= lo && g.t < lo + 5 * MIN
        );
        assert.equal(p.timestamp, iso(lo));
        if (inB.length === 0) {
          assert.deepEqual([p.last, p.avg, p.min, p.max], [
            null,
            null,
            null,
            null,
          ]);
          continue;
        }
        let last = inB[0];
        for (const g of inB) if (g.t >= last.t) last = g;
        const vs = inB.map((g) => g.v);
        assert.equal(p.last, last.v, `seed ${seed} bucket ${i}`);
        assert.ok(
          Math.abs(p.avg - vs.reduce((a, b) => a + b, 0) / vs.length) < 1e-9,
        );
        assert.equal(p.min, Math.min(...vs));
        assert.equal(p.max, Math.max(...vs));
      }
    });

    await t.step(
      "counter sum and rate per 15m, grouped by endpoint",
      async () => {
        const r = await srv.call(
          "GET",
          `/api/v1/metrics/api.requests/query?${range}&interval=15m&aggregation=sum,rate&group_by=tags.endpoint`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(Object.keys(r.json.data.groups), [
          "/orders",
          "/users",
        ]);
        for (const ep of ["/orders", "/users"]) {
          for (const [i, p] of r.json.data.groups[ep].entries()) {
            const lo = T0 + i * 15 * MIN;
            const sum = counters.filter((c) =>
              c.ep === ep && c.t >= lo && c.t < lo + 15 * MIN
            )
              .reduce((a, c) => a + c.v, 0);
            assert.equal(p.sum, sum, `seed ${seed} ${ep} bucket ${i}`);
            assert.ok(Math.abs(p.rate - sum / 900) < 1e-9);
          }
        }
        const total = counters.reduce((a, c) => a + c.v, 0);
        const all = await srv.call(
          "GET",
          `/api/v1/metrics/api.requests/query?${range}&interval=1h`,
        );
        assert.equal(
          all.json.data.reduce(
            (a: number, p: { value: number }) => a + p.value,
            0,
          ),
          total,
        );
      },
    );

    await t.step("aggregation and interval errors", async (t) => {
      const cases: [string, string, RegExp?][] = [
        [
          "/api/v1/metrics/cpu.load/query?aggregation=sum",
          "invalid_aggregation",
          /last, avg, min, max/,
        ],
        [
          "/api/v1/metrics/api.requests/query?aggregation=p99",
          "invalid_aggregation",
          /sum, rate/,
        ],
        [
          "/api/v1/metrics/cpu.load/query?aggregation=last,p5",
          "invalid_aggregation",
        ],
        ["/api/v1/metrics/cpu.load/query?interval=30s", "invalid_interval"],
        ["/api/v1/metrics/cpu.load/query?interval=soon", "invalid_interval"],
        [
          "/api/v1/metrics/cpu.load/query?interval=1m&from=2000-01-01T00:00:00Z",
          "invalid_interval",
        ],
        ["/api/v1/metrics/cpu.load/query?from=tuesday", "invalid_time"],
        ["/api/v1/metrics/cpu.load/query?group_by=host", "invalid_value"],
        ["/api/v1/metrics/nope/query", "not_found"],
      ];
      for (const [path, code, message] of cases) {
        await t.step(path, async () => {
          const r = await srv.call("GET", path);
          assert.equal(r.json.error?.code, code, JSON.stringify(r.json));
          assert.equal(r.status, code === "not_found" ? 404 : 400);
          if (message) assert.match(r.json.error.message, message);
        });
      }
    });

    await t.step(
      "defaults: last 24h, at most a few hundred points",
      async () => {
        const r = await srv.call("GET", "/api/v1/metrics/cpu.load/query");
        assert.equal(r.status, 200);
        assert.ok(
          r.json.data.length <= 300 && r.json.data.length >= 100,
          `${r.json.data.length}`,
        );
        const now = T0 + 2 * HOUR;
        assert.ok(Date.parse(r.json.data[0].timestamp) <= now - DAY);
        assert.ok(Date.parse(r.json.data.at(-1).timestamp) < now);
      },
    );
  } finally {
    await srv.close();
  }
});

Deno.test("distribution quantiles within 1%, sets within 2%", async (t) => {
  const seed = 11;
  const rng = new Prng(seed);
  const srv = await startMetricsApi({ now: T0 + 4 * HOUR });
  try {
    const n = 60_000;
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    const items = [];
    for (let i = 0; i < n; i++) {
      ts[i] = T0 + rng.int(0, 4 * HOUR - 1);
      vs[i] = Math.exp(rng.normal() * 1.5 + 4); // lognormal latencies
      items.push({
        name: "api.latency",
        type: "distribution",
        value: vs[i],
        timestamp: ts[i],
        tags: { region: i % 3 ? "eu" : "us" },
      });
    }
    const members: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const m = `user-${rng.int(0, 29_999)}`;
      members.push(m);
      items.push({
        name: "users.active",
        type: "set",
        value: m,
        timestamp: T0 + (i % 4) * HOUR + rng.int(0, HOUR - 1),
      });
    }
    await postAll(srv, items);
    const range = `from=${iso(T0)}&to=${iso(T0 + 4 * HOUR)}`;

    await t.step(
      "per-hour p50/p90/p99/p99.9, avg, count, sum, min, max",
      async () => {
        const r = await srv.call(
          "GET",
          `/api/v1/metrics/api.latency/query?${range}&interval=1h&aggregation=p50,p90,p99,p99.9,avg,count,sum,min,max`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.json));
        for (const [h, p] of r.json.data.entries()) {
          const lo = T0 + h * HOUR;
          const sel = vs.filter((_, i) => ts[i] >= lo && ts[i] < lo + HOUR)
            .sort();
          for (
            const [k, q] of [["p50", 0.5], ["p90", 0.9], ["p99", 0.99], [
              "p99.9",
              0.999,
            ]] as const
          ) {
            const exact = exactQuantile(sel, q);
            assert.ok(
              Math.abs(p[k] - exact) <= 0.01 * exact,
              `seed ${seed} hour ${h} ${k}: ${p[k]} vs ${exact}`,
            );
          }
          const sum = sel.reduce((a, b) => a + b, 0);
          assert.equal(p.count, sel.length);
          assert.ok(Math.abs(p.sum - sum) <= 1e-9 * sum);
          assert.ok(Math.abs(p.avg - sum / sel.length) <= 1e-9 * sum);
          assert.equal(p.min, sel[0]);
          assert.equal(p.max, sel[sel.length - 1]);
        }
      },
    );

    await t.step("a quantile over the whole range and per group", async () => {
      const r = await srv.call(
        "GET",
        `/api/v1/metrics/api.latency/query?${range}&interval=4h&aggregation=p95&group_by=tags.region`,
      );
      for (const region of ["eu", "us"]) {
        const sel = vs.filter((_, i) => (i % 3 ? "eu" : "us") === region)
          .sort();
        const exact = exactQuantile(sel, 0.95);
        const got = r.json.data.groups[region][0].value;
        assert.ok(
          Math.abs(got - exact) <= 0.01 * exact,
          `seed ${seed} ${region}: ${got} vs ${exact}`,
        );
      }
    });

    await t.step(
      "set count: distinct members per hour and overall",
      async () => {
        const r = await srv.call(
          "GET",
          `/api/v1/metrics/users.active/query?${range}&interval=1h`,
        );
        for (const [h, p] of r.json.data.entries()) {
          const exact = new Set(members.filter((_, i) => i % 4 === h)).size;
          assert.ok(
            Math.abs(p.value - exact) <= 0.02 * exact,
            `seed ${seed} hour ${h}: ${p.value} vs ${exact}`,
          );
        }
        const all = await srv.call(
          "GET",
          `/api/v1/metrics/users.active/query?${range}&interval=4h&aggregation=count`,
        );
        const exact = new Set(members).size;
        assert.ok(
          Math.abs(all.json.data[0].value - exact) <= 0.02 * exact,
          `${all.json.data[0].value} vs ${exact}`,
        );
        const bad = await srv.call(
          "GET",
          `/api/v1/metrics/users.active/query?aggregation=sum`,
        );
        assert.equal(bad.json.error.code, "invalid_aggregation");
      },
    );

    await t.step("small sets are exact", async () => {
      await postAll(
        srv,
        ["a", "b", "a", "c", "b"].map((v) => ({
          name: "tiny.set",
          type: "set",
          value: v,
          timestamp: T0,
        })),
      );
      const r = await srv.call(
        "GET",
        `/api/v1/metrics/tiny.set/query?${range}&interval=4h`,
      );
      assert.equal(r.json.data[0].value, 3);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("30 days of data: day and hour intervals read coarse rollups", async () => {
  const seed = 23;
  const rng = new Prng(seed);
  const now = T0 + 30 * DAY;
  const srv = await startMetricsApi({ now });
  try {
    const obs: { t: number; v: number }[] = [];
    for (let i = 0; i < 20_000; i++) {
      obs.push({ t: T0 + rng.int(0, 30 * DAY - 1), v: rng.int(1, 1000) });
    }
    await postAll(
      srv,
      obs.map((o) => ({
        name: "jobs.duration",
        type: "distribution",
        value: o.v,
        timestamp: o.t,
      })),
    );
    const r = await srv.call(
      "GET",
      `/api/v1/metrics/jobs.duration/query?from=${iso(T0)}&to=${
        iso(now)
      }&interval=1d&aggregation=count,max,p50`,
    );
    assert.equal(r.json.data.length, 30);
    for (const [d, p] of r.json.data.entries()) {
      const sel = Float64Array.from(
        obs.filter((o) => o.t >= T0 + d * DAY && o.t < T0 + (d + 1) * DAY).map((
          o,
        ) => o.v),
      ).sort();
      assert.equal(p.count, sel.length, `seed ${seed} day ${d}`);
      assert.equal(p.max, sel.at(-1));
      const exact = exactQuantile(sel, 0.5);
      assert.ok(Math.abs(p.p50 - exact) <= 0.01 * exact);
    }
    // 1m rollups are kept 3 days: a 5m interval a month back is refused,
    // a 1h one is answered from hour rollups.
    const old = `from=${iso(T0)}&to=${iso(T0 + DAY)}`;
    const fine = await srv.call(
      "GET",
      `/api/v1/metrics/jobs.duration/query?${old}&interval=5m`,
    );
    assert.equal(fine.json.error.code, "invalid_interval");
    const hourly = await srv.call(
      "GET",
      `/api/v1/metrics/jobs.duration/query?${old}&interval=1h&aggregation=count`,
    );
    assert.equal(hourly.json.data.length, 24);
    assert.equal(
      hourly.json.data.reduce(
        (a: number, p: { value: number }) => a + p.value,
        0,
      ),
      obs.filter((o) => o.t < T0 + DAY).length,
    );
  } finally {
    await srv.close();
  }
});
