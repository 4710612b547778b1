// The engine's limits: query timeout, cancellation through an AbortSignal,
// the most samples a query may load (the engine's cap and the store's
// per-query cap), and the most points per series of a range query.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import {
  PromQLEngine,
  type PromQLEngineOptions,
  QueryError,
} from "../src/promql/mod.ts";
import { Db } from "../src/storage/db.ts";

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/** 300 series x of 1000 samples at 15 s (300,000 samples). */
const SERIES = 300;
const SAMPLES = 1000;
const STEP = 15_000;

async function withEngine(
  engineOpts: PromQLEngineOptions,
  body: (engine: PromQLEngine) => Promise<void>,
  maxSamplesPerQuery?: number,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const db = await Db.open({ dataDir: dir, log: nullLog, maxSamplesPerQuery });
  try {
    const app = db.appender("t");
    const ts = Array.from({ length: SAMPLES }, (_, k) => k * STEP);
    for (let i = 0; i < SERIES; i++) {
      app.appendSeries(
        labelsFrom({ __name__: "x", i: String(i), g: String(i % 3) }),
        ts,
        Float64Array.from(ts, (_t, k) => k * (i + 1)),
      );
    }
    await app.commit();
    await body(new PromQLEngine(db, engineOpts));
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejectsWith(
  p: Promise<unknown>,
  errorType: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof QueryError, `a QueryError, got ${e}`);
    assert.equal(e.errorType, errorType, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const END = (SAMPLES - 1) * STEP;
const RANGE = "sum by (g) (rate(x[5m]))";

Deno.test("timeout", async (t) => {
  await withEngine({ timeoutMs: -1 }, async (engine) => {
    await t.step(
      "a deadline already past fails before evaluating",
      () =>
        rejectsWith(
          engine.instantQuery("t", "x", END),
          "timeout",
          /query timed out in expression evaluation/,
        ),
    );
  });
  await withEngine({ timeoutMs: 1 }, async (engine) => {
    await t.step("a deadline passing while series load fails", () =>
      // 300,000 samples take well over 1 ms to read and evaluate.
      rejectsWith(
        engine.rangeQuery("t", RANGE, 0, END, 60_000),
        "timeout",
        /timed out/,
      ));
  });
  await withEngine({ timeoutMs: 60_000 }, async (engine) => {
    await t.step("a generous deadline answers", async () => {
      const r = await engine.rangeQuery("t", RANGE, 0, END, 60_000);
      assert.equal(r.value.type, "matrix");
      if (r.value.type === "matrix") assert.equal(r.value.series.length, 3);
    });
  });
});

Deno.test("cancellation through an AbortSignal", async (t) => {
  await withEngine({}, async (engine) => {
    await t.step("aborted before the call", () =>
      rejectsWith(
        engine.instantQuery("t", "sum(x)", END, {
          signal: AbortSignal.abort(),
        }),
        "canceled",
        /canceled/,
      ));
    await t.step("aborted after the call, before evaluation runs", () => {
      const ac = new AbortController();
      const p = engine.rangeQuery("t", RANGE, 0, END, 60_000, {
        signal: ac.signal,
      });
      ac.abort();
      return rejectsWith(p, "canceled", /canceled/);
    });
    await t.step("a signal never aborted changes nothing", async () => {
      const ac = new AbortController();
      const r = await engine.instantQuery("t", "count(x)", END, {
        signal: ac.signal,
      });
      assert.equal(r.value.type, "vector");
      if (r.value.type === "vector") {
        assert.equal(r.value.samples[0].v, SERIES);
      }
    });
    await t.step("existing callers without options still work", async () => {
      const r = await engine.instantQuery("t", "count(x)", END);
      assert.equal(r.value.type, "vector");
    });
  });
});

Deno.test("most samples a query may load", async (t) => {
  // x[5m] at END holds 20 samples per series: 6,000 in all.
  await withEngine({ maxSamples: 5_999 }, async (engine) => {
    await t.step(
      "over the engine's cap: 422-class execution error",
      () =>
        rejectsWith(
          engine.instantQuery("t", "sum(rate(x[5m]))", END),
          "execution",
          /^query processing would load too many samples into memory in query execution$/,
        ),
    );
  });
  await withEngine({ maxSamples: 6_000 }, async (engine) => {
    await t.step("at the engine's cap: answers", async () => {
      const r = await engine.instantQuery("t", "sum(rate(x[5m]))", END);
      assert.equal(r.value.type, "vector");
      // d/dt of k*(i+1) per 15 s, summed over i = 1..300.
      if (r.value.type === "vector") {
        const want = (SERIES * (SERIES + 1) / 2) / 15;
        assert.ok(Math.abs(r.value.samples[0].v - want) < 1e-9 * want);
      }
    });
  });
  await withEngine({}, async (engine) => {
    await t.step(
      "over the store's per-query cap: same clear message",
      () =>
        rejectsWith(
          engine.instantQuery("t", "sum(rate(x[5m]))", END),
          "execution",
          /^query processing would load too many samples into memory in query execution \(limit 1000\)$/,
        ),
    );
  }, 1000);
});

Deno.test("most points per series of a range query", async () => {
  await withEngine({ maxPointsPerSeries: 11_000 }, async (engine) => {
    await rejectsWith(
      engine.rangeQuery("t", "x", 0, 11_001 * 1000, 1000),
      "bad_data",
      /exceeded maximum resolution of 11,000 points per timeseries/,
    );
    // As Prometheus: (end - start) / step = 11,000 steps (11,001 points) pass.
    const r = await engine.rangeQuery("t", "count(x)", 0, 11_000 * 1000, 1000);
    assert.equal(r.value.type, "matrix");
  });
});
