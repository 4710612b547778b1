// The head through the store's public interfaces: appends decided sample by
// sample (accepted, deduplicated, rejected as Prometheus names it), read
// back bit for bit through queriers, tenants isolated, reads snapshotted.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/mod.ts";
import { type Labels, labelsFrom, labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import type { CommitLog } from "../src/storage/appender.ts";
import { Db } from "../src/storage/db.ts";
import type { Querier } from "../src/storage/interface.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const STALE_BITS = 0x7ff0000000000002n;

/**
 * Values from exact bit patterns. (Reading a signalling NaN such as the
 * stale marker into a JS number may quiet it, so tests never do.)
 */
function fromBits(bits: bigint[]): Float64Array {
  return new Float64Array(BigUint64Array.from(bits).buffer);
}

/** A commit log that keeps what it is given, for assertions. */
class MemoryLog implements CommitLog {
  series: [string, number, string][] = [];
  samples: [string, number, number, bigint][] = [];
  commits = 0;
  logSeries(tenant: string, ref: number, labels: Labels): void {
    this.series.push([tenant, ref, labelsKey(labels)]);
  }
  logSamples(
    tenant: string,
    refs: Uint32Array,
    ts: Float64Array,
    values: Float64Array,
    n: number,
  ): void {
    const bits = new BigUint64Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) {
      this.samples.push([tenant, refs[i], ts[i], bits[i]]);
    }
  }
  commit(): Promise<void> {
    this.commits++;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function openDb(opts: { ooo?: number; maxSeries?: number } = {}) {
  const log = new MemoryLog();
  const dir = await Deno.makeTempDir();
  const db = await Db.open({
    dataDir: dir,
    engine,
    log,
    outOfOrderWindow: opts.ooo ?? 3600_000,
    maxSeriesPerTenant: opts.maxSeries,
  });
  return {
    db,
    log,
    async [Symbol.asyncDispose]() {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Every sample of every series the querier selects for `name`, as exact bits. */
function readAll(q: Querier, name: string): Map<string, [number, bigint][]> {
  const out = new Map<string, [number, bigint][]>();
  const cell = new Float64Array(1);
  const bits = new BigUint64Array(cell.buffer);
  for (const s of q.select([newMatcher("=", "__name__", name)])) {
    const it = s.iterator();
    const got: [number, bigint][] = [];
    while (it.next()) {
      (it as unknown as { valueInto(d: Float64Array, i: number): void })
        .valueInto(cell, 0);
      got.push([it.t, bits[0]]);
    }
    assert.equal(it.err(), null);
    out.set(labelsKey(s.labels), got);
  }
  return out;
}

function bitsOf(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0];
}

Deno.test("random in-order appends read back bit for bit, across chunk cuts", async () => {
  await using s = await openDb();
  const rng = new Prng(11);
  const expected = new Map<string, [number, bigint][]>();
  const series = Array.from(
    { length: 50 },
    (_, i) => labelsFrom({ __name__: "m", job: "j", id: String(i) }),
  );
  const last = new Map<number, number>();
  for (let round = 0; round < 40; round++) {
    const app = s.db.appender("t1");
    for (let k = 0; k < 200; k++) {
      const i = rng.int(0, series.length - 1);
      const t = (last.get(i) ?? 1_700_000_000_000) + rng.int(1, 30_000);
      last.set(i, t);
      const vals = rng.float() < 0.05
        ? fromBits([STALE_BITS])
        : new Float64Array([rng.float() * 100]);
      app.appendSeries(series[i], [t], vals);
      const key = labelsKey(series[i]);
      if (!expected.has(key)) expected.set(key, []);
      expected.get(key)!.push([t, new BigUint64Array(vals.buffer)[0]]);
    }
    const r = await app.commit();
    assert.deepEqual(r.rejected, []);
    assert.equal(r.samplesAccepted, 200);
  }
  const q = s.db.querier("t1", -Infinity, Infinity);
  const got = readAll(q, "m");
  q.close();
  assert.deepEqual(got, expected);
  // Chunks never hold more than 120 samples nor straddle 2 h windows.
  const h = s.db.head("t1");
  let chunks = 0;
  for (const ser of h.allSeries()) {
    for (const c of ser.chunks) {
      chunks++;
      assert.equal(
        Math.floor(c.minTime / 7_200_000),
        Math.floor(c.maxTime / 7_200_000),
      );
      const n = (engine.u8[c.ptr] << 8) | engine.u8[c.ptr + 1];
      assert.ok(n >= 1 && n <= 120);
    }
  }
  assert.ok(chunks > 10, `${chunks} closed chunks`);
  // The log got every accepted sample, with exact bits, and every series once.
  assert.equal(s.log.samples.length, 40 * 200);
  assert.equal(s.log.series.length, 50);
  assert.ok(s.log.samples.some(([, , , b]) => b === 0x7ff0000000000002n));
});

Deno.test("stale markers keep their bits and are reported by isStale", async () => {
  await using s = await openDb();
  const ls = labelsFrom({ __name__: "up", job: "a" });
  const app = s.db.appender("t");
  const vals = fromBits([bitsOf(1), STALE_BITS, bitsOf(1)]);
  app.appendSeries(ls, [1000, 2000, 3000], vals);
  await app.commit();
  const q = s.db.querier("t", 0, 10_000);
  const [series] = q.select([newMatcher("=", "job", "a")]);
  const it = series.iterator();
  const stale: boolean[] = [];
  while (it.next()) stale.push(it.isStale());
  q.close();
  assert.deepEqual(stale, [false, true, false]);
});

Deno.test("duplicates, out-of-order and out-of-bounds samples, one batch", async () => {
  await using s = await openDb({ ooo: 60_000 });
  const ls = labelsFrom({ __name__: "x" });
  let app = s.db.appender("t");
  app.appendSeries(ls, [100_000, 200_000], new Float64Array([1, 2]));
  await app.commit();
  app = s.db.appender("t");
  app.appendSeries(
    ls,
    [200_000, 200_000, 150_000, 150_000, 150_000, 100, 250_000],
    new Float64Array([2, 3, 7, 7, 8, 9, 5]),
  );
  const r = await app.commit();
  assert.equal(r.samplesAccepted, 2); // 150_000 (out of order, in window) and 250_000
  assert.equal(r.samplesDeduplicated, 2); // 200_000 same value; 150_000 again
  assert.deepEqual(
    r.rejected.map((x) => [x.index, x.reason]),
    [
      [1, "duplicate sample for timestamp"],
      [4, "duplicate sample for timestamp"],
      [5, "out of bounds"],
    ],
  );
  const q = s.db.querier("t", 0, 1e12);
  const got = readAll(q, "x").get(labelsKey(ls))!;
  q.close();
  assert.deepEqual(got, [
    [100_000, bitsOf(1)],
    [150_000, bitsOf(7)],
    [200_000, bitsOf(2)],
    [250_000, bitsOf(5)],
  ]);
});

Deno.test("without an out-of-order window, older samples are rejected", async () => {
  await using s = await openDb({ ooo: 0 });
  const ls = labelsFrom({ __name__: "x" });
  const app = s.db.appender("t");
  app.appendSeries(ls, [2000, 1000, 3000], new Float64Array([1, 2, 3]));
  const r = await app.commit();
  assert.deepEqual(r.rejected.map((x) => x.reason), ["out of order sample"]);
  assert.equal(r.samplesAccepted, 2);
});

Deno.test("tenants are isolated on every read path", async () => {
  await using s = await openDb();
  for (const tenant of ["acme", "globex"]) {
    const app = s.db.appender(tenant);
    app.appendSeries(
      labelsFrom({ __name__: "m", owner: tenant }),
      [1000],
      new Float64Array([1]),
    );
    await app.commit();
  }
  for (const [tenant, other] of [["acme", "globex"], ["globex", "acme"]]) {
    const q = s.db.querier(tenant, 0, 1e6);
    const sel = q.select([newMatcher("=", "__name__", "m")]);
    assert.deepEqual(sel.map((x) => labelsKey(x.labels)), [
      labelsKey(labelsFrom({ __name__: "m", owner: tenant })),
    ]);
    assert.deepEqual(q.labelValues("owner"), [tenant]);
    assert.ok(!q.labelValues("owner").includes(other));
    q.close();
    assert.equal(s.db.stats(tenant).numSeries, 1);
  }
  const none = s.db.querier("nobody", 0, 1e6);
  assert.deepEqual(none.select([newMatcher("=", "__name__", "m")]), []);
  assert.deepEqual(none.labelNames(), []);
});

Deno.test("a querier sees the data as of its creation", async () => {
  await using s = await openDb();
  const ls = labelsFrom({ __name__: "snap" });
  let app = s.db.appender("t");
  app.appendSeries(ls, [1000, 2000], new Float64Array([1, 2]));
  await app.commit();
  const q = s.db.querier("t", 0, 1e9);
  const [series] = q.select([newMatcher("=", "__name__", "snap")]);
  app = s.db.appender("t");
  const ts = Array.from({ length: 300 }, (_, i) => 3000 + i * 1000);
  app.appendSeries(ls, ts, new Float64Array(300).fill(5));
  await app.commit(); // cuts chunks and grows buffers meanwhile
  const it = series.iterator();
  let n = 0;
  while (it.next()) n++;
  q.close();
  assert.equal(n, 2);
});

Deno.test("the series limit rejects new series, keeps existing ones", async () => {
  await using s = await openDb({ maxSeries: 2 });
  const app = s.db.appender("t");
  for (let i = 0; i < 3; i++) {
    app.appendSeries(
      labelsFrom({ __name__: "m", i: String(i) }),
      [1000],
      new Float64Array([i]),
    );
  }
  app.appendSeries(
    labelsFrom({ __name__: "m", i: "0" }),
    [2000],
    new Float64Array([9]),
  );
  const r = await app.commit();
  assert.deepEqual(r.rejected.map((x) => [x.index, x.reason]), [[
    2,
    "too many series",
  ]]);
  assert.equal(r.samplesAccepted, 3);
});

Deno.test("a query past the tenant's sample limit stops with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const db = await Db.open({
    dataDir: dir,
    engine,
    log: new MemoryLog(),
    maxSamplesPerQuery: (tenant) => (tenant === "small" ? 100 : Infinity),
  });
  try {
    for (const tenant of ["small", "big"]) {
      const app = db.appender(tenant);
      const ts = Array.from({ length: 150 }, (_, i) => 1000 * (i + 1));
      app.appendSeries(
        labelsFrom({ __name__: "m" }),
        ts,
        new Float64Array(150),
      );
      await app.commit();
    }
    for (const [tenant, want] of [["small", 100], ["big", 150]] as const) {
      const q = db.querier(tenant, 0, 1e9);
      const it = q.select([newMatcher("=", "__name__", "m")])[0].iterator();
      let n = 0;
      while (it.next()) n++;
      q.close();
      assert.equal(n, want);
      if (tenant === "small") {
        assert.match(String(it.err()), /too many samples.*limit 100/);
      } else assert.equal(it.err(), null);
    }
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendFrom copies exact bits; a kept label set survives its series' removal", async () => {
  await using s = await openDb();
  const ls = labelsFrom({ __name__: "kept", job: "a" });
  const column = fromBits([bitsOf(3), STALE_BITS, bitsOf(4)]);
  let app = s.db.appender("t");
  app.appendFrom(ls, 1000, column, 0);
  app.appendFrom(ls, 2000, column, 1);
  await app.commit();
  assert.throws(
    () => s.db.appender("t").appendFrom(ls, 3000, column, 3),
    RangeError,
  );
  const q = s.db.querier("t", 0, 1e9);
  const got = readAll(q, "kept").get(labelsKey(ls))!;
  q.close();
  assert.deepEqual(got, [[1000, bitsOf(3)], [2000, STALE_BITS]]);
  // Remove the series entirely, then append with the same label-set object.
  await s.db.deleteSeries(
    "t",
    [newMatcher("=", "job", "a")],
    -Infinity,
    Infinity,
  );
  app = s.db.appender("t");
  app.appendFrom(ls, 5000, column, 2);
  await app.commit();
  const q2 = s.db.querier("t", 0, 1e9);
  assert.deepEqual(readAll(q2, "kept").get(labelsKey(ls)), [[5000, bitsOf(4)]]);
  q2.close();
});
