// The evaluator's bulk series reads (readSamples over head chunks, the open
// chunk, out-of-order samples, blocks, merged head+block series and the
// per-query sample cap) return exactly what the per-sample cursor returns:
// same timestamps, same value bits (stale markers and NaN payloads kept).
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/mod.ts";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { markStale, readSamples } from "../src/storage/chunk_iterator.ts";
import { Db } from "../src/storage/db.ts";
import type { SampleIterator } from "../src/storage/interface.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const H = 3600_000;
const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

function bitsOf(v: Float64Array, i: number): string {
  const w = new Uint32Array(v.buffer, v.byteOffset + i * 8, 2);
  return `${w[1].toString(16)}:${w[0].toString(16)}`;
}

/** The oracle: the cursor, one sample at a time, bits via valueInto. */
function cursorRead(it: SampleIterator, mint: number, maxt: number) {
  const ts: number[] = [];
  const bits: string[] = [];
  const stale: boolean[] = [];
  const cell = new Float64Array(1);
  const exact = it as unknown as {
    valueInto(d: Float64Array, i: number): void;
  };
  let ok = it.seek(mint);
  while (ok && it.t <= maxt) {
    ts.push(it.t);
    exact.valueInto(cell, 0);
    bits.push(bitsOf(cell, 0));
    stale.push(it.isStale());
    ok = it.next();
  }
  return { ts, bits, stale, err: it.err() };
}

const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer);
const PAYLOAD_NAN = new Float64Array(new Uint32Array([7, 0x7ff80000]).buffer);

async function fillDb(
  db: Db,
  seed: number,
  hours: number,
): Promise<{ t0: number; blocks: number }> {
  const rng = new Prng(seed);
  const series = Array.from(
    { length: 12 },
    (_, i) => labelsFrom({ __name__: "m", i: String(i) }),
  );
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % (24 * H));
  let blocks = 0;
  for (let step = 0; step < hours * 240; step++) {
    const t = t0 + step * 15_000;
    const app = db.appender("t");
    for (const [k, ls] of series.entries()) {
      const r = rng.float();
      const v = new Float64Array(1);
      if (r < 0.01) v.set(STALE);
      else if (r < 0.02) v.set(PAYLOAD_NAN);
      else v[0] = k % 2 ? step : rng.normal();
      app.appendSeries(ls, [t + rng.int(0, 40)], v);
    }
    // A late sample now and then (out of order, within the window).
    if (step % 7 === 3) {
      app.appendSeries(
        series[step % 3],
        [t - 300_000 + 11],
        new Float64Array([-step]),
      );
    }
    await app.commit();
    if (step % 240 === 239) blocks += (await db.maintain()).blocksWritten;
  }
  return { t0, blocks };
}

function compareReads(db: Db, seed: number, t0: number, hours: number) {
  const rng = new Prng(seed * 7919);
  for (let round = 0; round < 40; round++) {
    const mint = t0 + rng.int(-H, hours * H);
    const maxt = mint + rng.int(0, 3 * H);
    const q = db.querier("t", mint - rng.int(0, H), maxt + rng.int(0, H));
    try {
      const m = [newMatcher("=", "__name__", "m")];
      const bulk = q.select(m);
      const cursor = q.select(m);
      assert.equal(bulk.length, cursor.length);
      for (let k = 0; k < bulk.length; k++) {
        const msg = `seed ${seed} round ${round} series ${
          labelsKey(bulk[k].labels)
        } [${mint}, ${maxt}]`;
        const it = bulk[k].iterator();
        const got = readSamples(it, mint, maxt);
        const want = cursorRead(cursor[k].iterator(), mint, maxt);
        assert.equal(it.err(), null, msg);
        assert.equal(want.err, null, msg);
        assert.deepEqual([...got.ts], want.ts, msg);
        const gotBits = [...got.ts].map((_, i) => bitsOf(got.vs, i));
        assert.deepEqual(gotBits, want.bits, msg);
        const flags = new Uint8Array(got.vs.length);
        const nStale = markStale(got.vs, flags);
        assert.deepEqual([...flags].map((f) => f === 1), want.stale, msg);
        assert.equal(nStale, want.stale.filter((x) => x).length, msg);
      }
    } finally {
      q.close();
    }
  }
}

Deno.test("bulk reads equal the cursor: head, out-of-order, blocks, merged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await Db.open({ dataDir: dir, engine, log: nullLog });
    const hours = 7;
    const { t0, blocks } = await fillDb(db, 11, hours);
    assert.ok(blocks >= 2, `${blocks} blocks written`);
    compareReads(db, 11, t0, hours);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bulk reads count against the per-query sample cap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await Db.open({
      dataDir: dir,
      engine,
      log: nullLog,
      maxSamplesPerQuery: 1000,
    });
    await fillDb(db, 3, 1);
    const q = db.querier("t", -Infinity, Infinity);
    let total = 0;
    let err: Error | null = null;
    for (const s of q.select([newMatcher("=", "__name__", "m")])) {
      const it = s.iterator();
      total += readSamples(it, -Infinity, Infinity).ts.length;
      err = it.err();
      if (err) break;
    }
    q.close();
    // 12 series × 240 samples (+ late ones) exceed the cap of 1000.
    assert.ok(total > 1000, `${total} samples read`);
    assert.ok(err, "the cap is reported");
    assert.match(err.message, /too many samples/);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
