// The PromQL engine on a small in-memory store; expected values by hand.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import {
  formatValue,
  PromQLEngine,
  QueryError,
  type QueryResult,
} from "../src/promql/mod.ts";
import { Db } from "../src/storage/db.ts";
import { runScript } from "./promqltest/runner.ts";

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
const STALE = new Float64Array(
  new BigUint64Array([0x7ff0000000000002n]).buffer,
);

async function withStore(
  load: (db: Db) => Promise<void>,
  body: (engine: PromQLEngine) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const db = await Db.open({
    dataDir: dir,
    log: nullLog,
    outOfOrderWindow: 1e15,
  });
  try {
    await load(db);
    await body(new PromQLEngine(db));
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Series a{i} with values v_k at k*60s. */
async function loadBasic(db: Db): Promise<void> {
  const app = db.appender("t");
  const ts = Array.from({ length: 11 }, (_, k) => k * 60_000);
  // counter: 0, 10, 20, … 100
  app.appendSeries(
    labelsFrom({ __name__: "c", job: "a" }),
    ts,
    Float64Array.from(ts, (_t, k) => 10 * k),
  );
  // counter with a reset at k=5: 0 10 20 30 40 5 15 25 35 45 55
  app.appendSeries(
    labelsFrom({ __name__: "c", job: "b" }),
    ts,
    Float64Array.from(ts, (_t, k) => k < 5 ? 10 * k : 5 + 10 * (k - 5)),
  );
  // gauge with a stale marker at 3m
  const g = Float64Array.of(1, 2, 3, 0);
  g.set(STALE, 3);
  app.appendSeries(labelsFrom({ __name__: "g", job: "a" }), [
    0,
    60_000,
    120_000,
    180_000,
  ], g);
  await app.commit();
}

function vec(r: QueryResult): Record<string, number> {
  assert.equal(r.value.type, "vector");
  const out: Record<string, number> = {};
  if (r.value.type === "vector") {
    for (const s of r.value.samples) {
      out[s.metric.map((l) => `${l.name}=${l.value}`).join(",")] = s.v;
    }
  }
  return out;
}

Deno.test("formatValue matches Go's FormatFloat(v, 'f', -1, 64)", async (t) => {
  const cases: [number, string][] = [
    [1, "1"],
    [0.1, "0.1"],
    [-2.5, "-2.5"],
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [123456789012345680000, "123456789012345680000"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [-0, "-0"],
  ];
  for (const [v, want] of cases) {
    await t.step(want, () => assert.equal(formatValue(v), want));
  }
});

Deno.test("instant selectors: lookback and staleness", async (t) => {
  await withStore(loadBasic, async (engine) => {
    const cases: [string, number, Record<string, number>][] = [
      ["g", 120_000, { "__name__=g,job=a": 3 }],
      // 2m sample still visible 4m59s later, but the stale marker at 3m ends it.
      ["g", 170_000, { "__name__=g,job=a": 3 }],
      ["g", 180_000, {}],
      ["c", 630_000, { "__name__=c,job=a": 100, "__name__=c,job=b": 55 }],
      // the newest sample is older than 5m: nothing
      ["c", 900_000, {}],
      ["c offset 1m", 600_000, {
        "__name__=c,job=a": 90,
        "__name__=c,job=b": 45,
      }],
      ["c @ 120", 600_000, { "__name__=c,job=a": 20, "__name__=c,job=b": 20 }],
      ['c{job="a"} @ end()', 300_000, { "__name__=c,job=a": 50 }],
    ];
    for (const [q, at, want] of cases) {
      await t.step(
        `${q} at ${at}`,
        async () =>
          assert.deepEqual(vec(await engine.instantQuery("t", q, at)), want),
      );
    }
  });
});

Deno.test("rate, increase, irate, resets, *_over_time", async (t) => {
  await withStore(loadBasic, async (engine) => {
    const cases: [string, number, Record<string, number>][] = [
      // window (0, 300s] holds 60..300 s: 10 → 50, i.e. 40 over 240 s sampled;
      // extrapolate 30 s at each end (gap 60 s): 40 * 300/240 = 50.
      ['increase(c{job="a"}[5m])', 300_000, { "job=a": 50 }],
      ['rate(c{job="a"}[5m])', 300_000, { "job=a": 50 / 300 }],
      // job b in (300s, 600s]: 15 25 35 45 55 → increase 40 over 240 s → 50.
      ['increase(c{job="b"}[5m])', 600_000, { "job=b": 50 }],
      // (120s, 420s]: 30 40 5 15 25 → 25 - 30 + 40 (reset) = 35; * 300/240.
      ['increase(c{job="b"}[5m])', 420_000, { "job=b": 35 * 300 / 240 }],
      ['irate(c{job="b"}[5m])', 300_000, { "job=b": 5 / 60 }],
      ["resets(c[10m])", 600_000, { "job=a": 0, "job=b": 1 }],
      ['changes(c{job="a"}[3m])', 600_000, { "job=a": 2 }],
      ['delta(c{job="a"}[5m])', 300_000, { "job=a": 50 }],
      ['sum_over_time(c{job="a"}[3m])', 600_000, { "job=a": 80 + 90 + 100 }],
      ['avg_over_time(c{job="a"}[3m])', 600_000, { "job=a": 90 }],
      ['count_over_time(c{job="a"}[3m])', 600_000, { "job=a": 3 }],
      ['max_over_time(c{job="b"}[10m])', 600_000, { "job=b": 55 }],
      ['min_over_time(c{job="b"}[10m])', 600_000, { "job=b": 5 }],
      ['last_over_time(c{job="b"}[10m])', 600_000, { "__name__=c,job=b": 55 }],
      ['quantile_over_time(0.5, c{job="a"}[3m])', 600_000, { "job=a": 90 }],
      ['stdvar_over_time(c{job="a"}[3m])', 600_000, { "job=a": 200 / 3 }],
      ['deriv(c{job="a"}[5m])', 600_000, { "job=a": 10 / 60 }],
      ['predict_linear(c{job="a"}[5m], 60)', 600_000, { "job=a": 110 }],
      ["present_over_time(g[1m])", 120_000, { "job=a": 1 }],
      // the stale marker at 3m is not a sample of the window
      ["present_over_time(g[1m])", 180_000, {}],
      ['absent_over_time(g{job="z"}[1m])', 180_000, { "job=z": 1 }],
      // subquery: max of c at 0, 60, …, 600 s over (300 s, 600 s]
      ['max_over_time(c{job="a"}[5m:1m])', 600_000, { "job=a": 100 }],
      // inner steps at multiples of 2m in (300 s, 600 s]: 360, 480, 600 s
      ['count_over_time(c{job="a"}[5m:2m])', 600_000, { "job=a": 3 }],
    ];
    for (const [q, at, want] of cases) {
      await t.step(`${q} at ${at}`, async () => {
        const got = vec(await engine.instantQuery("t", q, at));
        assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
        for (const k in want) {
          assert.ok(
            Math.abs(got[k] - want[k]) < 1e-9,
            `${k}: ${got[k]} vs ${want[k]}`,
          );
        }
      });
    }
  });
});

Deno.test("aggregations and binary operators", async (t) => {
  await withStore(loadBasic, async (engine) => {
    const cases: [string, Record<string, number>][] = [
      ["sum(c)", { "": 155 }],
      ["avg by (job) (c)", { "job=a": 100, "job=b": 55 }],
      ["count without (job) (c)", { "": 2 }],
      ["max(c)", { "": 100 }],
      ["stddev(c)", { "": 22.5 }],
      ["topk(1, c)", { "__name__=c,job=a": 100 }],
      ["bottomk(1, c)", { "__name__=c,job=b": 55 }],
      ["quantile(0.5, c)", { "": 77.5 }],
      ['count_values("v", c)', { "v=100": 1, "v=55": 1 }],
      ["c * 2", { "job=a": 200, "job=b": 110 }],
      ["c > 60", { "__name__=c,job=a": 100 }],
      ["c > bool 60", { "job=a": 1, "job=b": 0 }],
      ['c / ignoring(job) group_left c{job="a"}', {
        "job=a": 1,
        "job=b": 0.55,
      }],
      ['c and c{job="b"}', { "__name__=c,job=b": 55 }],
      ['c unless c{job="b"}', { "__name__=c,job=a": 100 }],
      ['c{job="a"} or vector(1)', { "__name__=c,job=a": 100, "": 1 }],
      ['label_replace(c, "x", "$1!", "job", "(.)")', {
        "__name__=c,job=a,x=a!": 100,
        "__name__=c,job=b,x=b!": 55,
      }],
      ["2 ^ 3 + vector(1)", { "": 9 }],
    ];
    for (const [q, want] of cases) {
      await t.step(q, async () => {
        const r = await engine.instantQuery("t", q, 600_000);
        assert.deepEqual(vec(r), want);
      });
    }
    await t.step("one-to-one with duplicates on the right fails", async () => {
      await assert.rejects(
        () => engine.instantQuery("t", "vector(1) + on() c", 600_000),
        (e: unknown) =>
          e instanceof QueryError && e.errorType === "execution" &&
          /duplicate series/.test(e.message),
      );
    });
    await t.step("parse errors are bad_data", async () => {
      await assert.rejects(
        () => engine.instantQuery("t", "sum(", 0),
        (e: unknown) => e instanceof QueryError && e.errorType === "bad_data",
      );
    });
  });
});

Deno.test("range queries: one value per step, series sorted", async () => {
  await withStore(loadBasic, async (engine) => {
    const r = await engine.rangeQuery("t", "c", 0, 240_000, 120_000);
    assert.equal(r.value.type, "matrix");
    if (r.value.type !== "matrix") return;
    assert.deepEqual(
      r.value.series.map((s) => s.metric.map((l) => l.value).join()),
      ["c,a", "c,b"],
    );
    assert.deepEqual(Array.from(r.value.series[1].values), [0, 20, 40]);
    assert.deepEqual(Array.from(r.value.series[1].ts), [0, 120_000, 240_000]);
    const g = await engine.rangeQuery("t", "g", 0, 300_000, 60_000);
    if (g.value.type !== "matrix") throw new Error("matrix expected");
    // stale at 3m: present at 0, 1m, 2m only
    assert.deepEqual(Array.from(g.value.series[0].ts), [0, 60_000, 120_000]);
    await assert.rejects(
      () => engine.rangeQuery("t", "c", 0, 10, 0),
      QueryError,
    );
  });
});

Deno.test("promqltest runner: a small script passes and a wrong one fails", async () => {
  const ok = await runScript(`
load 1m
  m{a="1"} 0+1x10 _ stale
  m{a="2"} 1 2 3

eval instant at 8m m
  m{a="1"} 8

eval range from 0 to 3m step 1m m{a="2"} * 2
  {a="2"} 2 4 6 6

eval instant at 10m sum(m)
  {} 10
`);
  assert.deepEqual(
    ok.map((r) => r.status),
    ["pass", "pass", "pass"],
    JSON.stringify(ok),
  );
  const bad = await runScript(`
load 1m
  m 1

eval instant at 0 m
  m 2
`);
  assert.equal(bad[0].status, "fail");
});
