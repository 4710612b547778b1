// Pooled sample slabs: a slab is held by one query at a time (interleaved
// selector reads never share one), every slab comes back when a query
// ends however it ends, and results are the same as with fresh slabs.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { parse } from "../src/promql/parser.ts";
import type { MatrixSelector } from "../src/promql/ast.ts";
import { Evaluator, type ReadSteps } from "../src/promql/evaluator.ts";
import type { Windows } from "../src/promql/eval_types.ts";
import {
  PromQLEngine,
  QueryError,
  type QueryResult,
} from "../src/promql/mod.ts";
import {
  SampleArena,
  type Slab,
  SLAB_SAMPLES,
  SlabPool,
} from "../src/promql/sample_slabs.ts";
import { Db } from "../src/storage/db.ts";
import { Prng } from "../src/util/prng.ts";

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

const SEED = 0x51ab;
const SERIES = 400;
const SAMPLES = 480;
const STEP = 15_000;
const END = (SAMPLES - 1) * STEP;

/** Series "a" and "b", SERIES each, SAMPLES samples at 15 s, seeded values. */
async function fill(db: Db): Promise<void> {
  const rng = new Prng(SEED);
  const ts = Array.from({ length: SAMPLES }, (_, k) => k * STEP);
  for (const name of ["a", "b"]) {
    const app = db.appender("t");
    for (let i = 0; i < SERIES; i++) {
      let v = 0;
      app.appendSeries(
        labelsFrom({ __name__: name, i: String(i), g: String(i % 5) }),
        ts,
        Float64Array.from(ts, () => (v += rng.float() * 10)),
      );
    }
    await app.commit();
  }
}

async function withDb(
  body: (db: Db) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const db = await Db.open({ dataDir: dir, log: nullLog });
  try {
    await fill(db);
    await body(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A pool that records who holds each slab and the most held at once. */
class WatchedPool extends SlabPool {
  readonly held = new Set<Slab>();
  peak = 0;
  doubleHandOuts = 0;
  override take(): Slab {
    const s = super.take();
    if (this.held.has(s)) this.doubleHandOuts++;
    this.held.add(s);
    this.peak = Math.max(this.peak, this.held.size);
    return s;
  }
  override give(s: Slab): void {
    this.held.delete(s);
    super.give(s);
  }
}

const QUERIES = [
  "sum by (g) (rate(a[5m]))",
  "avg_over_time(b[10m])",
  "max by (g) (a) - min by (g) (b offset 1m)",
  "sum(increase(a[1h])) / sum(count_over_time(b[1h]))",
  // Instant queries: range vectors are results here.
  "instant a[10m]",
  "instant b[30m] offset 5m",
  "instant rate(a[5m])",
];

function run(engine: PromQLEngine, q: string): Promise<QueryResult> {
  if (q.startsWith("instant ")) {
    return engine.instantQuery("t", q.slice(8), END);
  }
  return engine.rangeQuery("t", q, 0, END, 60_000);
}

/** Whether two views share bytes. */
function overlaps(x: Float64Array, y: Float64Array): boolean {
  return x.buffer === y.buffer &&
    x.byteOffset < y.byteOffset + y.byteLength &&
    y.byteOffset < x.byteOffset + x.byteLength;
}

/** The whole slab a view taken at the slab's start lies in. */
function slabOf(v: Float64Array): Float64Array {
  return new Float64Array(v.buffer, v.byteOffset, SLAB_SAMPLES);
}

Deno.test("SampleArena: disjoint views, slabs given back once", () => {
  const pool = new SlabPool(2);
  const arena = new SampleArena(pool);
  const a = arena.alloc(SLAB_SAMPLES / 4);
  const b = arena.alloc(SLAB_SAMPLES / 4);
  assert.equal(a.ts.buffer, b.ts.buffer);
  assert.equal(a.ts.byteOffset + a.ts.byteLength, b.ts.byteOffset);
  assert.ok(!overlaps(a.ts, a.vs));
  // Fills the first slab exactly.
  arena.alloc(SLAB_SAMPLES / 4);
  const full = arena.alloc(SLAB_SAMPLES / 4);
  assert.ok(overlaps(full.ts, slabOf(a.ts)));
  const d = arena.alloc(SLAB_SAMPLES / 4 + 1); // large: its own arrays
  assert.equal(d.ts.length, SLAB_SAMPLES / 4 + 1);
  assert.equal(d.ts.byteLength, d.ts.buffer.byteLength);
  assert.equal(arena.slabs, 1);
  const c = arena.alloc(1); // does not fit: a second slab
  for (const v of [c.ts, c.vs]) {
    assert.ok(!overlaps(v, slabOf(a.ts)) && !overlaps(v, slabOf(a.vs)));
  }
  assert.equal(arena.slabs, 2);
  assert.deepEqual(pool.stats(), {
    reserved: 2,
    reused: 2,
    overflow: 0,
    inUse: 2,
    free: 0,
  });
  arena.release();
  assert.equal(arena.slabs, 0);
  assert.equal(pool.stats().inUse, 0);
  assert.equal(pool.stats().free, 2);
  // A read after release never gets a pooled slab.
  const late = arena.alloc(10);
  assert.equal(late.ts.buffer.byteLength, 80);
  assert.equal(pool.stats().free, 2);
  // Three arenas never share a slab; the third one's is not the reserve's
  // and is not kept.
  const x = new SampleArena(pool), y = new SampleArena(pool);
  const z = new SampleArena(pool);
  const got = [x, y, z].map((r) => slabOf(r.alloc(100).ts));
  assert.ok(!overlaps(got[0], got[1]));
  assert.ok(!overlaps(got[0], got[2]) && !overlaps(got[1], got[2]));
  assert.notEqual(got[2].buffer, got[0].buffer);
  for (const r of [x, y, z]) r.release();
  assert.deepEqual(pool.stats(), {
    reserved: 2,
    reused: 4,
    overflow: 1,
    inUse: 0,
    free: 2,
  });
  const s = pool.take();
  pool.give(s);
  assert.throws(() => pool.give(s), /twice/);
});

Deno.test("interleaved selector reads never share a slab", async () => {
  await withDb((db) => {
    const pool = new WatchedPool(4);
    const opts = {
      lookbackDeltaMs: 300_000,
      maxSamples: 50_000_000,
      deadline: Infinity,
      defaultSubqueryStepMs: 60_000,
      slabPool: pool,
    };
    const times = Float64Array.from({ length: 20 }, (_, i) => END - i * 60_000)
      .reverse();
    const ctx = { times, interval: 60_000 };
    const sel = (q: string) => parse(q) as MatrixSelector;
    // Two queries' reads, stepped alternately (as two prepare phases
    // yielding to each other would), then again in the other pairing.
    for (const [qa, qb] of [["a[1h]", "b[1h]"], ["b[30m]", "a[2h]"]]) {
      const evA = new Evaluator(db, "t", opts, 0, END, 60_000);
      const evB = new Evaluator(db, "t", opts, 0, END, 60_000);
      const ga: ReadSteps<Windows> = evA.matrixWindows(sel(qa), ctx);
      const gb: ReadSteps<Windows> = evB.matrixWindows(sel(qb), ctx);
      let ra: Windows | undefined, rb: Windows | undefined;
      let turns = 0;
      while (!ra || !rb) {
        if (!ra) {
          const s = ga.next();
          if (s.done) ra = s.value;
        }
        if (!rb) {
          const s = gb.next();
          if (s.done) rb = s.value;
        }
        turns++;
      }
      assert.ok(turns > 10, `reads paused ${turns} times`);
      assert.ok(pool.peak >= 4, `both held slabs at once: peak ${pool.peak}`);
      // No view of one query's read shares bytes with the other's.
      const viewsB = rb.series.flatMap((s) => [s.ts, s.vs]);
      for (const s of ra.series) {
        for (const v of [s.ts, s.vs]) {
          assert.ok(!viewsB.some((w) => overlaps(v, w)), `${qa}/${qb} share`);
        }
      }
      // Within a query, views of one slab never overlap.
      for (const w of [ra, rb]) {
        assert.ok(w.series.length > 0);
        // Within a read, no two views share bytes either.
        const byBuf = new Map<ArrayBufferLike, Float64Array[]>();
        for (const v of w.series.flatMap((s) => [s.ts, s.vs])) {
          byBuf.set(v.buffer, [...byBuf.get(v.buffer) ?? [], v]);
        }
        for (const views of byBuf.values()) {
          views.sort((x, y) => x.byteOffset - y.byteOffset);
          for (let k = 1; k < views.length; k++) {
            assert.ok(!overlaps(views[k - 1], views[k]), "views overlap");
          }
        }
      }
      // Values are those of a read with fresh arrays.
      const fresh = new Evaluator(
        db,
        "t",
        { ...opts, slabPool: new SlabPool(0) },
        0,
        END,
        60_000,
      );
      for (const [q, got] of [[qa, ra], [qb, rb]] as const) {
        const want = fresh.windows(sel(q), ctx);
        assert.equal(got.series.length, want.series.length);
        for (let i = 0; i < want.series.length; i++) {
          assert.deepEqual(got.series[i].ts, want.series[i].ts, `${q} #${i}`);
          assert.deepEqual(got.series[i].vs, want.series[i].vs, `${q} #${i}`);
        }
      }
      fresh.release();
      evA.release();
      evB.release();
      assert.equal(pool.held.size, 0);
    }
    assert.equal(pool.doubleHandOuts, 0);
    assert.ok(pool.stats().reused > 0, "slabs were reused");
  });
});

Deno.test("concurrent queries on a shared pool: same results, all slabs back", async () => {
  await withDb(async (db) => {
    // Reference: sequential, synchronous, never-reused slabs.
    const ref = new PromQLEngine(db, {
      prepare: false,
      slabPool: new SlabPool(0),
    });
    const want: QueryResult[] = [];
    for (const q of QUERIES) want.push(await run(ref, q));

    const pool = new WatchedPool(3);
    // yieldEveryMs 0: the prepare phases yield at every pause, so the
    // queries' reads interleave.
    const engine = new PromQLEngine(db, { yieldEveryMs: 0, slabPool: pool });
    const rounds: QueryResult[][] = [];
    for (let round = 0; round < 3; round++) {
      rounds.push(await Promise.all(QUERIES.map((q) => run(engine, q))));
      assert.equal(pool.held.size, 0, "every slab given back");
    }
    // One at a time, each query reads into the reserve (not overflow).
    const oneByOne: QueryResult[] = [];
    for (const q of QUERIES) oneByOne.push(await run(engine, q));
    rounds.push(oneByOne);
    // Scribbled over every reserve slab, then compared: a result holding
    // views of slabs would have changed.
    const taken = Array.from({ length: pool.size }, () => pool.take());
    for (const slab of taken) {
      slab.ts.fill(-1);
      slab.vs.fill(-1);
      pool.give(slab);
    }
    for (const [round, got] of rounds.entries()) {
      for (let i = 0; i < QUERIES.length; i++) {
        assert.deepEqual(got[i], want[i], `round ${round}: ${QUERIES[i]}`);
      }
    }
    assert.equal(pool.doubleHandOuts, 0);
    assert.ok(pool.peak > 3, `queries held slabs at once: ${pool.peak}`);
    const st = pool.stats();
    assert.ok(st.reused > 0 && st.free === 3, JSON.stringify(st));
  });
});

Deno.test("a failed or canceled query gives its slabs back", async () => {
  await withDb(async (db) => {
    const pool = new WatchedPool(8);
    const limited = new PromQLEngine(db, {
      maxSamples: 30_000,
      slabPool: pool,
    });
    await assert.rejects(
      run(limited, "sum(rate(a[1h])) + sum(rate(b[1h]))"),
      (e) => e instanceof QueryError && /too many samples/.test(e.message),
    );
    assert.ok(pool.peak > 0);
    assert.equal(pool.held.size, 0);

    const engine = new PromQLEngine(db, { yieldEveryMs: 0, slabPool: pool });
    const ac = new AbortController();
    const p = run(engine, "sum(rate(a[1h])) + sum(rate(b[1h]))");
    const canceled = engine.rangeQuery(
      "t",
      "sum(rate(a[1h])) + sum(rate(b[1h]))",
      0,
      END,
      60_000,
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 2);
    await assert.rejects(
      canceled,
      (e) => e instanceof QueryError && e.errorType === "canceled",
    );
    await p;
    assert.equal(pool.held.size, 0);
    assert.equal(pool.doubleHandOuts, 0);
  });
});
