// The preparation phase: selectors are read ahead of evaluation with
// event-loop turns in between. A query over many series can be canceled
// or time out while it reads (other callbacks and I/O run meanwhile), and
// every result is the same as the synchronous path's.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import type { Matcher } from "../src/model/matcher.ts";
import { parse } from "../src/promql/parser.ts";
import { Evaluator } from "../src/promql/evaluator.ts";
import { prepareSelectors, selectorReads } from "../src/promql/prepare.ts";
import {
  PromQLEngine,
  type PromQLEngineOptions,
  QueryError,
  type QueryResult,
} from "../src/promql/mod.ts";
import { Db } from "../src/storage/db.ts";
import type { Querier, Storage } from "../src/storage/interface.ts";
import { Prng } from "../src/util/prng.ts";

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/** A store that counts the series whose samples were read. */
class CountingStorage implements Storage {
  seriesRead = 0;
  constructor(readonly db: Db) {}
  appender(tenant: string) {
    return this.db.appender(tenant);
  }
  querier(tenant: string, mint: number, maxt: number): Querier {
    const q = this.db.querier(tenant, mint, maxt);
    return {
      select: (m: readonly Matcher[], hints) =>
        q.select(m, hints).map((s) => ({
          labels: s.labels,
          chunks: () => s.chunks(),
          iterator: () => {
            this.seriesRead++;
            return s.iterator();
          },
        })),
      labelNames: (m) => q.labelNames(m),
      labelValues: (n, m) => q.labelValues(n, m),
      close: () => q.close(),
    };
  }
  deleteSeries(
    tenant: string,
    m: readonly Matcher[],
    mint: number,
    maxt: number,
  ) {
    return this.db.deleteSeries(tenant, m, mint, maxt);
  }
  stats(tenant: string, limit?: number) {
    return this.db.stats(tenant, limit);
  }
  close() {
    return this.db.close();
  }
}

async function withDb(
  fill: (db: Db) => Promise<void>,
  body: (store: CountingStorage) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const db = await Db.open({ dataDir: dir, log: nullLog });
  try {
    await fill(db);
    await body(new CountingStorage(db));
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** 4000 series "big" of 480 samples at 15 s (2 h): 1.92 M samples. */
const BIG_SERIES = 4000;
const BIG_SAMPLES = 480;
const STEP = 15_000;
const BIG_END = (BIG_SAMPLES - 1) * STEP;

async function fillBig(db: Db): Promise<void> {
  const ts = Array.from({ length: BIG_SAMPLES }, (_, k) => k * STEP);
  for (let i = 0; i < BIG_SERIES; i += 500) {
    const app = db.appender("t");
    for (let j = i; j < i + 500; j++) {
      app.appendSeries(
        labelsFrom({ __name__: "big", i: String(j), g: String(j % 7) }),
        ts,
        Float64Array.from(ts, (_t, k) => k * (j + 1)),
      );
    }
    await app.commit();
  }
}

const BIG_QUERY = "sum by (g) (rate(big[5m]))";

function bigRange(engine: PromQLEngine, opts = {}): Promise<QueryResult> {
  return engine.rangeQuery("t", BIG_QUERY, 0, BIG_END, 60_000, opts);
}

async function failure(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof QueryError, `a QueryError, got ${e}`);
    return e;
  }
  assert.fail("the query answered");
}

Deno.test("preparation: cancel, timeout and event-loop turns", async (t) => {
  await withDb(fillBig, async (store) => {
    const opts: PromQLEngineOptions = { yieldEveryMs: 5 };
    const engine = new PromQLEngine(store, opts);
    // The uncanceled query, for its duration and its answer.
    let t0 = performance.now();
    const full = await bigRange(engine);
    const fullMs = performance.now() - t0;
    assert.equal(store.seriesRead, BIG_SERIES);
    assert.equal(full.value.type, "matrix");
    if (full.value.type === "matrix") {
      assert.equal(full.value.series.length, 7);
    }

    await t.step(
      "an abort while series are read cancels the query",
      async () => {
        store.seriesRead = 0;
        const ac = new AbortController();
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 1);
        // The abort comes from a timer once reading has begun: it can only
        // fire if reading yields. (A fixed delay could fire before the first
        // series on a loaded machine.)
        const aborter = setInterval(() => {
          if (store.seriesRead > 0) ac.abort();
        }, 1);
        t0 = performance.now();
        const e = await failure(bigRange(engine, { signal: ac.signal }));
        const ms = performance.now() - t0;
        clearInterval(ticker);
        clearInterval(aborter);
        assert.equal(e.errorType, "canceled", e.message);
        assert.match(e.message, /canceled/);
        assert.ok(ticks > 0, "an interval callback ran during preparation");
        assert.ok(
          store.seriesRead > 0 && store.seriesRead < BIG_SERIES,
          `canceled mid-read: ${store.seriesRead} of ${BIG_SERIES} series read`,
        );
        assert.ok(
          ms < fullMs / 2,
          `canceled after ${ms.toFixed(1)} ms; the whole query takes ${
            fullMs.toFixed(1)
          } ms`,
        );
      },
    );

    await t.step("the deadline passing while series are read", async () => {
      store.seriesRead = 0;
      const timeoutMs = Math.max(5, fullMs / 10);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      t0 = performance.now();
      const e = await failure(bigRange(engine, { timeoutMs }));
      const ms = performance.now() - t0;
      clearInterval(ticker);
      assert.ok(ticks > 0, "an interval callback ran during preparation");
      assert.equal(e.errorType, "timeout", e.message);
      assert.match(e.message, /timed out/);
      assert.ok(
        store.seriesRead > 0 && store.seriesRead < BIG_SERIES,
        `timed out mid-read: ${store.seriesRead} of ${BIG_SERIES} series read`,
      );
      assert.ok(ms < fullMs / 2, `timed out after ${ms.toFixed(1)} ms`);
    });

    await t.step("HTTP requests are served while a query reads", async () => {
      const served: number[] = [];
      const server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        () => {
          served.push(performance.now());
          return new Response("ok");
        },
      );
      try {
        const url = `http://127.0.0.1:${server.addr.port}/`;
        await (await fetch(url)).text(); // connection warmed up
        served.length = 0;
        store.seriesRead = 0;
        let readAtResponse = -1;
        const query = bigRange(engine).then(() => performance.now());
        const answered = fetch(url).then(async (r) => {
          await r.text();
          readAtResponse = store.seriesRead;
          return performance.now();
        });
        const [queryDone, fetchDone] = await Promise.all([query, answered]);
        assert.equal(served.length, 1);
        assert.ok(
          fetchDone < queryDone,
          "the request was answered before the query finished",
        );
        assert.ok(
          readAtResponse < BIG_SERIES,
          `answered mid-read (${readAtResponse} of ${BIG_SERIES} series read)`,
        );
      } finally {
        await server.shutdown();
      }
    });

    await t.step("the synchronous path gives the same answer", async () => {
      const sync = new PromQLEngine(store, { prepare: false });
      assert.deepEqual(plain(await bigRange(sync)), plain(full));
    });
  });
});

// ---------------------------------------------------------------------------
// Random queries: the prepared path against the synchronous one.

const SMALL_SERIES = 24;
const SMALL_END = 3600_000;

/** Series with gaps, stale markers, resets and NaN, seeded. */
async function fillSmall(db: Db, seed: number): Promise<void> {
  const r = new Prng(seed);
  const app = db.appender("t");
  const STALE =
    new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0];
  for (let i = 0; i < SMALL_SERIES; i++) {
    const name = ["a", "b", "c"][i % 3];
    const ts: number[] = [];
    const vs: number[] = [];
    let v = r.int(0, 100);
    for (
      let t = r.int(0, 30) * 1000;
      t <= SMALL_END;
      t += r.int(10, 40) * 1000
    ) {
      if (r.int(0, 40) === 0) t += r.int(60, 600) * 1000; // a gap
      if (t > SMALL_END) break;
      const roll = r.int(0, 60);
      v = roll === 0 ? 0 : v + r.int(0, 10);
      ts.push(t);
      vs.push(roll === 1 ? STALE : roll === 2 ? NaN : v);
    }
    app.appendSeries(
      labelsFrom({
        __name__: name,
        i: String(i),
        g: String(i % 4),
        h: String(i % 2),
      }),
      ts,
      Float64Array.from(vs),
    );
  }
  await app.commit();
}

/** A random vector expression over a, b, c. */
function gen(r: Prng, depth: number): string {
  const sel = () =>
    r.pick(["a", "b", 'c{g="1"}', '{__name__=~"a|b"}', "nothing"]) +
    r.pick([
      "",
      "",
      " offset 5m",
      " offset -2m",
      " @ 1800",
      " @ start()",
      " @ end()",
    ]);
  const range = () => r.pick(["1m", "5m", "10m", "step()", "30s"]);
  if (depth <= 0 || r.int(0, 4) === 0) return sel();
  switch (r.int(0, 9)) {
    case 0:
      return `(${gen(r, depth - 1)}) ${
        r.pick(["+", "/", "and", "or", "unless", ">", "== bool"])
      } ${r.pick(["", "on (i) ", "ignoring (__name__) "])}(${
        gen(r, depth - 1)
      })`;
    case 1:
      return `${r.pick(["sum", "avg", "max", "count", "stddev"])} ${
        r.pick(["", "by (g) ", "without (i) "])
      }(${gen(r, depth - 1)})`;
    case 2:
      return `topk(${r.int(1, 3)}, ${gen(r, depth - 1)})`;
    case 3: {
      const [name, sel0] = [
        r.pick([
          "rate",
          "increase",
          "max_over_time",
          "count_over_time",
          "resets",
          "last_over_time",
        ]),
        sel(),
      ];
      const [m, mod] = sel0.includes(" ")
        ? [sel0.slice(0, sel0.indexOf(" ")), sel0.slice(sel0.indexOf(" "))]
        : [sel0, ""];
      return `${name}(${m}[${range()}]${mod})`;
    }
    case 4:
      return r.pick([`timestamp(${sel()})`, `timestamp((${sel()}))`]);
    case 5:
      return `absent_over_time(${sel().split(" ")[0]}[${range()}])`;
    case 6: {
      const x = gen(r, depth - 1);
      return r.pick([`abs(${x})`, `-(${x})`, `clamp_min(${x}, 3)`]);
    }
    case 7:
      return `${r.pick(["avg_over_time", "max_over_time", "rate"])}((${
        gen(r, depth - 1)
      })[${r.pick(["5m", "10m"])}:${r.pick(["", "1m", "30s"])}]${
        r.pick(["", " offset 1m", " @ end()"])
      })`;
    case 8:
      return `label_replace(${gen(r, depth - 1)}, "x", "$1", "i", "(.)")`;
    default:
      return `(${gen(r, depth - 1)}) * scalar(sum(${sel()}))`;
  }
}

/**
 * A result with its Float64Arrays as plain arrays: compared by value (NaN
 * equals NaN whatever its bits, -0 differs from 0). The bits of a NaN that
 * arithmetic produces may differ between V8's tiers, so two runs of the
 * same path can differ in NaN payloads; the API prints every NaN alike.
 */
function plain(v: unknown): unknown {
  if (v instanceof Float64Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, plain(x)]),
    );
  }
  return v;
}

async function outcome(p: Promise<QueryResult>): Promise<unknown> {
  try {
    return plain(await p);
  } catch (e) {
    if (e instanceof QueryError) {
      return { error: `${e.errorType}: ${e.message}` };
    }
    throw e;
  }
}

Deno.test("preparation: random queries answer as the synchronous path", async () => {
  const seed = 0xa5c0;
  await withDb((db) => fillSmall(db, seed), async (store) => {
    const sync = new PromQLEngine(store, { prepare: false });
    // Yield at every pause of every read: the most interleaving.
    const prepared = new PromQLEngine(store, { yieldEveryMs: 0 });
    const r = new Prng(seed);
    let answered = 0;
    for (let i = 0; i < 150; i++) {
      const q = gen(r, r.int(1, 3));
      const at = r.int(0, SMALL_END / 1000) * 1000;
      const step = r.pick([15_000, 60_000, 300_000]);
      const start = r.int(0, SMALL_END / 2000) * 1000;
      const want = await outcome(sync.instantQuery("t", q, at));
      const got = await outcome(prepared.instantQuery("t", q, at));
      assert.deepEqual(
        got,
        want,
        `seed ${seed} case ${i} instant @${at}: ${q}`,
      );
      const wantR = await outcome(
        sync.rangeQuery("t", q, start, SMALL_END, step),
      );
      const gotR = await outcome(
        prepared.rangeQuery("t", q, start, SMALL_END, step),
      );
      assert.deepEqual(
        gotR,
        wantR,
        `seed ${seed} case ${i} range ${start}..${SMALL_END}/${step}: ${q}`,
      );
      if (!(want as { error?: string }).error) answered++;

      // Every selector evaluation takes a value read ahead; none is read twice.
      const expr = parse(q);
      const ev = new Evaluator(
        store,
        "t",
        {
          lookbackDeltaMs: 300_000,
          maxSamples: 50_000_000,
          deadline: Infinity,
          defaultSubqueryStepMs: 60_000,
        },
        start,
        SMALL_END,
        step,
      );
      const n = Math.floor((SMALL_END - start) / step) + 1;
      const ctx = {
        times: Float64Array.from({ length: n }, (_, k) => start + k * step),
        interval: step,
      };
      const before = store.seriesRead;
      await prepareSelectors(ev, expr, ctx, { sliceMs: 1000 });
      const readAhead = store.seriesRead - before;
      try {
        ev.eval(expr, ctx);
      } catch (e) {
        if (!(e instanceof QueryError)) throw e;
      }
      const stats = ev.preloadStats;
      const msg = `seed ${seed} case ${i}: ${q}: ${JSON.stringify(stats)}`;
      assert.equal(stats.missed, 0, msg);
      assert.equal(stats.loaded, selectorReads(ev, expr, ctx).length, msg);
      // Evaluation reads nothing itself.
      assert.equal(store.seriesRead - before, readAhead, msg);
      if (!(wantR as { error?: string }).error) {
        assert.equal(stats.used, stats.loaded, msg);
      }
    }
    // Most random queries answer (the rest fail the same way on both paths).
    assert.ok(answered > 100, `seed ${seed}: ${answered} answered`);
  });
});

Deno.test("preparation: sample limits and their errors are unchanged", async (t) => {
  await withDb(fillBig, async (store) => {
    // sum(rate(big[5m])) at BIG_END reads 20 samples per series.
    const need = BIG_SERIES * 20;
    for (const prepare of [false, true]) {
      await t.step(`prepare ${prepare}: over the cap`, async () => {
        const engine = new PromQLEngine(store, {
          prepare,
          maxSamples: need - 1,
        });
        const e = await failure(
          engine.instantQuery("t", "sum(rate(big[5m]))", BIG_END),
        );
        assert.equal(e.errorType, "execution");
        assert.match(e.message, /too many samples/);
      });
      await t.step(`prepare ${prepare}: at the cap`, async () => {
        const engine = new PromQLEngine(store, { prepare, maxSamples: need });
        const r = await engine.instantQuery("t", "sum(rate(big[5m]))", BIG_END);
        assert.equal(r.value.type, "vector");
      });
      await t.step(
        `prepare ${prepare}: two selectors count twice`,
        async () => {
          const engine = new PromQLEngine(store, {
            prepare,
            maxSamples: 2 * need - 1,
          });
          const e = await failure(
            engine.instantQuery(
              "t",
              "sum(rate(big[5m])) + sum(rate(big[5m]))",
              BIG_END,
            ),
          );
          assert.match(e.message, /too many samples/);
        },
      );
    }
  });
});
