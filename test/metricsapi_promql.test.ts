// The PromQL view: Metrics API gauges, counters and distributions are
// series of the same Db, read with the PromQL engine.
import assert from "node:assert/strict";
import { formatLabels } from "../src/model/labels.ts";
import { Prng } from "../src/util/prng.ts";
import {
  exactQuantile,
  type MetricsApiServer,
  postAll,
  startMetricsApi,
} from "./_metricsapi.ts";

const T0 = Date.parse("2024-05-01T12:00:00Z");
const iso = (t: number) => new Date(t).toISOString();

/** An instant query's samples, by series text. */
async function instant(
  srv: MetricsApiServer,
  q: string,
  at: number,
): Promise<Record<string, number>> {
  const r = await srv.engine.instantQuery("default", q, at);
  assert.equal(r.value.type, "vector", q);
  const out: Record<string, number> = {};
  if (r.value.type === "vector") {
    for (const s of r.value.samples) out[formatLabels(s.metric)] = s.v;
  }
  return out;
}

Deno.test("PromQL sees the typed series", async (t) => {
  const srv = await startMetricsApi({ now: T0 + 600_000 });
  try {
    await t.step("gauge: the last value, dotted name kept", async () => {
      for (const v of [3, 5, 4]) {
        await srv.call("POST", "/api/v1/metrics", {
          name: "cpu.load",
          type: "gauge",
          value: v,
          timestamp: iso(T0 + v * 1000),
          tags: { host: "a" },
        });
      }
      // Same millisecond as the newest, later arrival: last wins here too.
      await srv.call("POST", "/api/v1/metrics", {
        name: "cpu.load",
        type: "gauge",
        value: 9,
        timestamp: iso(T0 + 5000),
        tags: { host: "a" },
      });
      assert.deepEqual(
        await instant(srv, '{"cpu.load", host="a"}', T0 + 10_000),
        { '{"cpu.load", host="a"}': 9 },
      );
      assert.deepEqual(
        await instant(srv, 'max_over_time({"cpu.load"}[1m])', T0 + 60_000),
        { '{host="a"}': 9 },
      );
    });

    await t.step(
      "counter: cumulative, same-ms increments all count",
      async () => {
        const at = T0 + 20_000;
        const inc = (value: number, ts = at) => ({
          name: "api.requests",
          type: "counter",
          value,
          timestamp: iso(ts),
          tags: { endpoint: "/users" },
        });
        // Two requests at the same millisecond, then a batch with a same-ms pair.
        await srv.call("POST", "/api/v1/metrics", inc(2));
        await srv.call("POST", "/api/v1/metrics", inc(3));
        await srv.call("POST", "/api/v1/metrics/batch", {
          metrics: [inc(4, at + 1000), inc(1, at + 1000), inc(10, at - 5000)],
        });
        const total = 2 + 3 + 4 + 1 + 10;
        const sel = '{"api.requests", endpoint="/users"}';
        assert.deepEqual(await instant(srv, sel, T0 + 60_000), {
          [`{"api.requests", endpoint="/users"}`]: total,
        });
        assert.deepEqual(
          await instant(srv, `resets(${sel}[5m])`, T0 + 60_000),
          {
            '{endpoint="/users"}': 0,
          },
        );
        // The raw samples: non-decreasing, starting from the 0 written before the first.
        const r = await srv.engine.instantQuery(
          "default",
          `${sel}[5m]`,
          T0 + 60_000,
        );
        assert.equal(r.value.type, "matrix");
        if (r.value.type === "matrix") {
          const vs = [...r.value.series[0].values];
          assert.equal(vs[0], 0);
          assert.equal(vs.at(-1), total);
          for (let i = 1; i < vs.length; i++) assert.ok(vs[i] >= vs[i - 1]);
        }
        // The Metrics API agrees.
        const q = await srv.call(
          "GET",
          `/api/v1/metrics/api.requests/query?from=${iso(T0)}&to=${
            iso(T0 + 60_000)
          }&interval=1m`,
        );
        assert.equal(q.json.data[0].value, total);
      },
    );

    await t.step("distribution: _count, _sum and quantile series", async () => {
      const seed = 5;
      const rng = new Prng(seed);
      const base = T0 + 120_000; // one minute bucket
      const values = Array.from(
        { length: 5000 },
        () => Math.exp(rng.normal() + 3),
      );
      await postAll(
        srv,
        values.map((v, i) => ({
          name: "api.latency",
          type: "distribution",
          value: v,
          timestamp: base + (i % 50_000),
          tags: { region: "eu" },
        })),
        1,
      );
      const at = base + 59_000;
      const count = await instant(srv, '{"api.latency_count"}', at);
      assert.deepEqual(count, { '{"api.latency_count", region="eu"}': 5000 });
      const sum =
        Object.values(await instant(srv, '{"api.latency_sum"}', at))[0];
      const exactSum = values.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - exactSum) < 1e-9 * exactSum);
      const sorted = Float64Array.from(values).sort();
      const qs = await instant(
        srv,
        '{"api.latency", quantile=~"0.5|0.99"}',
        at,
      );
      for (const q of [0.5, 0.99]) {
        const got = qs[`{"api.latency", quantile="${q}", region="eu"}`];
        const exact = exactQuantile(sorted, q);
        assert.ok(
          Math.abs(got - exact) <= 0.01 * exact,
          `seed ${seed} q${q}: ${got} vs ${exact}`,
        );
      }
    });
  } finally {
    await srv.close();
  }
});
