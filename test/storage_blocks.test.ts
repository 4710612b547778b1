// The head persists its oldest 2 h ranges into blocks, blocks compact into
// aligned 6 h and 24 h ranges, retention drops whole blocks; queries see one
// continuous series across head and blocks, bit for bit.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/mod.ts";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { Db } from "../src/storage/db.ts";
import type { Querier } from "../src/storage/interface.ts";
import { Prng } from "../src/util/prng.ts";

const engine = await loadEngine();
const H = 3600_000;
const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

function readAll(q: Querier): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const s of q.select([newMatcher("=", "__name__", "m")])) {
    const it = s.iterator();
    const got: [number, number][] = [];
    while (it.next()) got.push([it.t, it.v]);
    assert.equal(it.err(), null);
    out.set(labelsKey(s.labels), got);
  }
  return out;
}

Deno.test("head → blocks → compaction → retention, queries stay exact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await Db.open({
      dataDir: dir,
      engine,
      log: nullLog,
      retention: 20 * H,
    });
    const rng = new Prng(5);
    const oracle = new Map<string, Map<number, number>>();
    const series = Array.from(
      { length: 20 },
      (_, i) => labelsFrom({ __name__: "m", i: String(i) }),
    );
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % (24 * H));
    let written = 0, compacted = 0;
    // 30 hours of 15 s scrapes, with a few late samples, maintained hourly.
    for (let step = 0; step < 30 * 240; step++) {
      const t = t0 + step * 15_000;
      const app = db.appender("t");
      for (const ls of series) {
        const v = rng.float() < 0.5 ? step : rng.float();
        app.appendSeries(ls, [t + rng.int(0, 40)], new Float64Array([v]));
      }
      // A late (out-of-order) sample for one series, 10 minutes back.
      const late = series[step % series.length];
      const lt = t - 600_000 + 7;
      app.appendSeries(late, [lt], new Float64Array([-step]));
      const r = await app.commit();
      // Record what the store accepted, as the oracle.
      const rejected = new Set(r.rejected.map((x) => x.index));
      series.forEach((ls, k) => {
        if (rejected.has(k)) return;
        const key = labelsKey(ls);
        if (!oracle.has(key)) oracle.set(key, new Map());
      });
      if (step % 240 === 239) {
        const rep = await db.maintain();
        written += rep.blocksWritten;
        compacted += rep.blocksCompacted;
      }
    }
    assert.ok(written >= 10, `${written} blocks written`);
    assert.ok(compacted >= 2, `${compacted} compactions`);
    // Everything still readable and consistent: head + blocks.
    const q = db.querier("t", -Infinity, Infinity);
    const all = readAll(q);
    q.close();
    for (const [, samples] of all) {
      for (let i = 1; i < samples.length; i++) {
        assert.ok(
          samples[i][0] > samples[i - 1][0],
          "strictly increasing time",
        );
      }
    }
    assert.equal(all.size, 20);
    // Retention: nothing older than newest - 20 h (block granularity).
    const newest = Math.max(
      ...[...all.values()].map((s) => s[s.length - 1][0]),
    );
    const oldest = Math.min(...[...all.values()].map((s) => s[0][0]));
    assert.ok(
      oldest >= newest - 20 * H - 24 * H,
      "retention dropped old blocks",
    );
    assert.ok(oldest > t0, "the first hours are gone");
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every accepted sample is read back exactly across head and blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await Db.open({
      dataDir: dir,
      engine,
      log: nullLog,
      retention: 1000 * H,
    });
    const rng = new Prng(8);
    const ls = Array.from(
      { length: 5 },
      (_, i) => labelsFrom({ __name__: "m", s: String(i) }),
    );
    const oracle = ls.map(() => new Map<number, number>());
    const t0 = 1_800_000_000_000;
    for (let step = 0; step < 12 * 120; step++) {
      const app = db.appender("t");
      const pending: [number, number, number][] = [];
      for (let k = 0; k < ls.length; k++) {
        const late = rng.float() < 0.1;
        const t = t0 + step * 30_000 - (late ? rng.int(1, 1800) * 1000 : 0);
        const v = rng.int(0, 1000);
        app.appendSeries(ls[k], [t], new Float64Array([v]));
        pending.push([k, t, v]);
      }
      const r = await app.commit();
      const bad = new Map(r.rejected.map((x) => [x.index, x.reason]));
      pending.forEach(([k, t, v], i) => {
        if (!bad.has(i)) {
          if (!oracle[k].has(t)) oracle[k].set(t, v);
        } else {
          assert.ok(
            ["out of bounds", "duplicate sample for timestamp"].includes(
              bad.get(i)!,
            ),
            bad.get(i),
          );
        }
      });
      if (step % 60 === 0) await db.maintain();
    }
    await db.maintain();
    const q = db.querier("t", -Infinity, Infinity);
    const all = readAll(q);
    q.close();
    ls.forEach((l, k) => {
      const want = [...oracle[k].entries()].sort((a, b) => a[0] - b[0]);
      assert.deepEqual(all.get(labelsKey(l)), want, `series ${k}`);
    });
    await db.close();
    // Blocks survive a reopen (this store has no WAL: only block data returns).
    const again = await Db.open({ dataDir: dir, engine, log: nullLog });
    const q2 = again.querier("t", -Infinity, Infinity);
    const fromBlocks = readAll(q2);
    q2.close();
    assert.ok(fromBlocks.size === 5);
    for (const [key, samples] of fromBlocks) {
      const full = all.get(key)!;
      assert.deepEqual(samples, full.slice(0, samples.length));
      assert.ok(samples.length > full.length / 2);
    }
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a block failing its checksums is reported and no longer served, never silently read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await Db.open({
      dataDir: dir,
      engine,
      log: nullLog,
      retention: 1000 * H,
    });
    const t0 = 1_900_000_000_000 - (1_900_000_000_000 % (2 * H));
    const app = db.appender("t");
    const ts = Array.from({ length: 8 * 60 }, (_, i) => t0 + i * 60_000);
    app.appendSeries(
      labelsFrom({ __name__: "m", s: "1" }),
      ts,
      new Float64Array(ts.length).fill(7),
    );
    await app.commit();
    const rep = await db.maintain(); // writes the 2 h blocks up to t0 + 6 h
    assert.equal(rep.blocksWritten, 3);
    await db.close();
    // Flip one byte in the middle of the first block's chunks file.
    const blocksDir = [...Deno.readDirSync(`${dir}/tenants`)][0].name;
    const root = `${dir}/tenants/${blocksDir}/blocks`;
    const blocks = [...Deno.readDirSync(root)].map((e) => e.name).sort();
    const chunks = `${root}/${blocks[0]}/chunks`;
    const bytes = Deno.readFileSync(chunks);
    bytes[bytes.length >> 1] ^= 0x40;
    Deno.writeFileSync(chunks, bytes);
    const errors: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    let again: Db;
    try {
      again = await Db.open({ dataDir: dir, engine, log: nullLog });
      // The first query reading the damaged chunk fails loudly…
      const q = again.querier("t", -Infinity, Infinity);
      const [series] = q.select([newMatcher("=", "__name__", "m")]);
      const it = series.iterator();
      while (it.next()) { /* drain */ }
      q.close();
      assert.match(String(it.err()), /corrupt|checksum|CRC/i);
    } finally {
      console.error = error;
    }
    assert.ok(
      errors.some((w) => w.includes("corrupt block")),
      errors.join("\n"),
    );
    // …and later queries skip the block: only the intact 4 h are served.
    const q = again.querier("t", -Infinity, Infinity);
    const got = readAll(q).get(
      labelsKey(labelsFrom({ __name__: "m", s: "1" })),
    )!;
    q.close();
    assert.equal(got.length, 240);
    assert.ok(got.every(([t, v]) => t >= t0 + 2 * H && v === 7));
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
