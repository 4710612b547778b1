// The Metrics API through HTTP: every request/response example of issue 7,
// error codes, batch partial rejection, batch_too_large, type conflicts,
// events round trip and ordering, definitions.
import assert from "node:assert/strict";
import { startMetricsApi } from "./_metricsapi.ts";

const T0 = Date.parse("2024-01-15T10:00:00Z");

Deno.test("metrics API: writes, definitions, errors", async (t) => {
  const srv = await startMetricsApi({ now: T0 + 3600_000 });
  try {
    await t.step("POST /api/v1/metrics echoes what it stored", async () => {
      const r = await srv.call("POST", "/api/v1/metrics", {
        name: "api.requests",
        type: "counter",
        value: 1,
        timestamp: "2024-01-15T10:30:00Z",
        tags: { endpoint: "/users" },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {
        data: {
          name: "api.requests",
          type: "counter",
          value: 1,
          timestamp: "2024-01-15T10:30:00.000Z",
        },
      });
    });

    await t.step("timestamp defaults to now; sets take strings", async () => {
      const r = await srv.call("POST", "/api/v1/metrics", {
        name: "users.active",
        type: "set",
        value: "user-42",
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.data.value, "user-42");
      assert.equal(
        r.json.data.timestamp,
        new Date(srv.clock.now).toISOString(),
      );
    });

    await t.step("error codes", async (t) => {
      const cases: [string, unknown, string][] = [
        ["no name", { type: "gauge", value: 1 }, "missing_name"],
        ["empty name", { name: "", type: "gauge", value: 1 }, "missing_name"],
        ["no type", { name: "x", value: 1 }, "invalid_type"],
        ["bad type", { name: "x", type: "histo", value: 1 }, "invalid_type"],
        [
          "string gauge",
          { name: "x", type: "gauge", value: "a" },
          "invalid_value",
        ],
        ["numeric set", { name: "x", type: "set", value: 3 }, "invalid_value"],
        [
          "negative counter",
          { name: "x", type: "counter", value: -1 },
          "invalid_value",
        ],
        ["bad timestamp", {
          name: "x",
          type: "gauge",
          value: 1,
          timestamp: "yesterday",
        }, "invalid_value"],
        ["Feb 31", {
          name: "x",
          type: "gauge",
          value: 1,
          timestamp: "2024-02-31T00:00:00Z",
        }, "invalid_value"],
        [
          "numeric tag",
          { name: "x", type: "gauge", value: 1, tags: { a: 1 } },
          "invalid_value",
        ],
        ["reserved tag", {
          name: "x",
          type: "gauge",
          value: 1,
          tags: { __name__: "y" },
        }, "invalid_value"],
        ["quantile tag on a distribution", {
          name: "x",
          type: "distribution",
          value: 1,
          tags: { quantile: "1" },
        }, "invalid_value"],
        [
          "type conflict",
          { name: "api.requests", type: "gauge", value: 1 },
          "invalid_type",
        ],
        ["not an object", [1, 2], "invalid_value"],
      ];
      for (const [label, body, code] of cases) {
        await t.step(label, async () => {
          const r = await srv.call("POST", "/api/v1/metrics", body);
          assert.equal(r.status, 400, JSON.stringify(r.json));
          assert.equal(r.json.error.code, code, JSON.stringify(r.json));
          assert.equal(typeof r.json.error.message, "string");
        });
      }
      const bad = await srv.call("POST", "/api/v1/metrics", "{nope");
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, "invalid_json");
      // Nothing of the refused writes exists.
      const x = await srv.call("GET", "/api/v1/metrics/x");
      assert.equal(x.status, 404);
      assert.equal(x.json.error.code, "not_found");
    });

    await t.step("batch: a bad item is rejected alone", async () => {
      const r = await srv.call("POST", "/api/v1/metrics/batch", {
        metrics: [
          {
            name: "cpu.load",
            type: "gauge",
            value: 0.5,
            timestamp: "2024-01-15T10:01:00Z",
            tags: { host: "a" },
          },
          { type: "gauge", value: 1 },
          { name: "cpu.load", type: "gauge", value: "high" },
          { name: "api.requests", type: "set", value: "u" },
          {
            name: "cpu.load",
            type: "gauge",
            value: 0.7,
            timestamp: "2024-01-15T10:02:00Z",
            tags: { host: "b" },
          },
        ],
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.data.accepted, 2);
      assert.equal(r.json.data.rejected, 3);
      assert.deepEqual(
        r.json.data.errors.map((
          e: { index: number; code: string },
        ) => [e.index, e.code]),
        [[1, "missing_name"], [2, "invalid_value"], [3, "invalid_type"]],
      );
      const d = await srv.call("GET", "/api/v1/metrics/cpu.load");
      assert.equal(d.json.data.data_points, 2);
    });

    await t.step("batch: two types for one new name in one batch", async () => {
      const r = await srv.call("POST", "/api/v1/metrics/batch", {
        metrics: [
          { name: "fresh", type: "gauge", value: 1 },
          { name: "fresh", type: "counter", value: 1 },
        ],
      });
      assert.equal(r.json.data.accepted, 1);
      assert.deepEqual(
        r.json.data.errors.map((e: { index: number }) => e.index),
        [1],
      );
    });

    await t.step("batch_too_large writes nothing", async () => {
      const metrics = Array.from({ length: 501 }, (_, i) => ({
        name: "big.batch",
        type: "counter",
        value: 1,
        timestamp: T0 + i,
      }));
      const r = await srv.call("POST", "/api/v1/metrics/batch", { metrics });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, "batch_too_large");
      assert.equal(
        (await srv.call("GET", "/api/v1/metrics/big.batch")).status,
        404,
      );
      const ok = await srv.call("POST", "/api/v1/metrics/batch", {
        metrics: metrics.slice(0, 500),
      });
      assert.equal(ok.json.data.accepted, 500);
      const bad = await srv.call("POST", "/api/v1/metrics/batch", {
        items: [],
      });
      assert.equal(bad.json.error.code, "invalid_body");
    });

    await t.step("definitions list and detail", async () => {
      const r = await srv.call("GET", "/api/v1/metrics");
      assert.equal(r.status, 200);
      const names = r.json.data.map((d: { name: string }) => d.name);
      assert.deepEqual(names, [...names].sort());
      const req = r.json.data.find((d: { name: string }) =>
        d.name === "api.requests"
      );
      assert.deepEqual(req, {
        name: "api.requests",
        type: "counter",
        tags: ["endpoint"],
        first_seen: "2024-01-15T10:30:00.000Z",
        last_seen: "2024-01-15T10:30:00.000Z",
      });
      const cpu = await srv.call("GET", "/api/v1/metrics/cpu.load");
      assert.deepEqual(cpu.json.data, {
        name: "cpu.load",
        type: "gauge",
        tags: ["host"],
        first_seen: "2024-01-15T10:01:00.000Z",
        last_seen: "2024-01-15T10:02:00.000Z",
        data_points: 2,
      });
    });

    await t.step("tenants are isolated", async () => {
      const r = await srv.call("GET", "/api/v1/metrics", undefined, "other");
      assert.deepEqual(r.json.data, []);
      const w = await srv.call("POST", "/api/v1/metrics", {
        name: "api.requests",
        type: "gauge",
        value: 3,
      }, "other");
      assert.equal(
        w.status,
        200,
        "the other tenant may use the name with another type",
      );
    });
  } finally {
    await srv.close();
  }
});

Deno.test("flux batch and events: round trip, order, pages", async (t) => {
  const srv = await startMetricsApi({ now: T0 + 86_400_000 });
  try {
    await t.step("flux batch answers per kind", async () => {
      const r = await srv.call("POST", "/api/v1/flux/batch", {
        events: [
          {
            name: "deploy",
            value: 1,
            timestamp: "2024-01-15T10:00:00Z",
            properties: { version: "1.2.3" },
          },
          {
            name: "signup",
            timestamp: "2024-01-15T10:05:00Z",
            properties: { plan: "pro" },
          },
          { value: 3 },
          { name: "deploy", value: 2, timestamp: "2024-01-15T11:00:00Z" },
        ],
        metrics: [
          {
            name: "api.latency",
            type: "distribution",
            value: 120,
            timestamp: "2024-01-15T10:00:00Z",
          },
          { name: "api.latency", type: "distribution", value: "slow" },
        ],
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.data.events.accepted, 3);
      assert.deepEqual(r.json.data.events.rejected, 1);
      assert.equal(r.json.data.events.errors[0].code, "missing_name");
      assert.equal(r.json.data.metrics.accepted, 1);
      assert.equal(r.json.data.metrics.rejected, 1);
    });

    await t.step(
      "events come back newest first with their fields",
      async () => {
        const r = await srv.call("GET", "/api/v1/events");
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.data.events, [
          {
            name: "deploy",
            value: 2,
            timestamp: "2024-01-15T11:00:00.000Z",
            properties: {},
          },
          {
            name: "signup",
            value: null,
            timestamp: "2024-01-15T10:05:00.000Z",
            properties: { plan: "pro" },
          },
          {
            name: "deploy",
            value: 1,
            timestamp: "2024-01-15T10:00:00.000Z",
            properties: { version: "1.2.3" },
          },
        ]);
        assert.equal(r.json.data.next_cursor, null);
        const byName = await srv.call(
          "GET",
          "/api/v1/events?name=deploy&from=2024-01-15T10:30:00Z",
        );
        assert.deepEqual(
          byName.json.data.events.map((e: { value: number }) => e.value),
          [2],
        );
      },
    );

    await t.step(
      "an event name is a series: count and sum per interval",
      async () => {
        const r = await srv.call(
          "GET",
          "/api/v1/metrics/deploy/query?from=2024-01-15T10:00:00Z&to=2024-01-15T12:00:00Z&interval=1h&aggregation=count,sum",
        );
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(r.json.data, [
          { timestamp: "2024-01-15T10:00:00.000Z", count: 1, sum: 1 },
          { timestamp: "2024-01-15T11:00:00.000Z", count: 1, sum: 2 },
        ]);
        const d = await srv.call("GET", "/api/v1/metrics/deploy");
        assert.equal(d.json.data.type, "event");
        const clash = await srv.call("POST", "/api/v1/metrics", {
          name: "deploy",
          type: "gauge",
          value: 1,
        });
        assert.equal(clash.json.error.code, "invalid_type");
      },
    );

    await t.step(
      "pages: every event once, newest first, same-ms ties by arrival",
      async () => {
        const events = Array.from({ length: 250 }, (_, i) => ({
          name: "click",
          value: i,
          // Pairs share a millisecond: order within a pair is arrival order.
          timestamp: T0 + Math.floor(i / 2) * 1000,
        }));
        const w = await srv.call("POST", "/api/v1/flux/batch", { events });
        assert.equal(w.json.data.events.accepted, 250);
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const q: string = `/api/v1/events?name=click&limit=40${
            cursor ? `&cursor=${cursor}` : ""
          }`;
          const r = await srv.call("GET", q);
          assert.equal(r.status, 200);
          for (const e of r.json.data.events) seen.push(e.value);
          cursor = r.json.data.next_cursor;
          pages++;
        } while (cursor);
        assert.equal(pages, 7);
        assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => 249 - i));
        const bad = await srv.call("GET", "/api/v1/events?cursor=%%%");
        assert.equal(bad.json.error.code, "invalid_value");
        const badLimit = await srv.call("GET", "/api/v1/events?limit=0");
        assert.equal(badLimit.json.error.code, "invalid_value");
      },
    );
  } finally {
    await srv.close();
  }
});
