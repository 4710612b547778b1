// Deleting series by matchers and time range, per tenant: from the head
// (and again on WAL replay) and from blocks (rewritten), never touching
// another tenant.
import assert from "node:assert/strict";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { Db } from "../src/storage/db.ts";

const H = 3600_000;

function samples(db: Db, tenant: string): Map<string, number[]> {
  const q = db.querier(tenant, -Infinity, Infinity);
  const out = new Map<string, number[]>();
  for (const s of q.select([newMatcher("=~", "__name__", ".+")])) {
    const it = s.iterator();
    const ts: number[] = [];
    while (it.next()) ts.push(it.t);
    out.set(labelsKey(s.labels), ts);
  }
  q.close();
  return out;
}

Deno.test("deletion from head and blocks, surviving a reopen, per tenant", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let db = await Db.open({ dataDir: dir });
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));
    const a = labelsFrom({ __name__: "m", job: "a" });
    const b = labelsFrom({ __name__: "m", job: "b" });
    // 5 h of minutely samples for two series in two tenants.
    for (const tenant of ["acme", "globex"]) {
      const app = db.appender(tenant);
      const ts = Array.from({ length: 300 }, (_, i) => t0 + i * 60_000);
      app.appendSeries(a, ts, new Float64Array(300).fill(1));
      app.appendSeries(b, ts, new Float64Array(300).fill(2));
      await app.commit();
    }
    const rep = await db.maintain(); // persists [t0, t0 + 2 h) into a block
    assert.ok(rep.blocksWritten >= 2);
    // Delete job="a" samples in [t0 + 1 h, t0 + 3 h]: half in a block, half in the head.
    const n = await db.deleteSeries(
      "acme",
      [newMatcher("=", "job", "a")],
      t0 + H,
      t0 + 3 * H,
    );
    assert.ok(n >= 2, `${n} series touched`);
    const check = (what: string) => {
      const acme = samples(db, "acme");
      const globex = samples(db, "globex");
      const ta = acme.get(labelsKey(a))!;
      assert.ok(
        ta.every((t) => t < t0 + H || t > t0 + 3 * H),
        `${what}: range gone`,
      );
      assert.equal(ta.length, 300 - 121, `${what}: the rest kept`);
      assert.equal(
        acme.get(labelsKey(b))!.length,
        300,
        `${what}: other series untouched`,
      );
      assert.equal(
        globex.get(labelsKey(a))!.length,
        300,
        `${what}: other tenant untouched`,
      );
    };
    check("after delete");
    await db.close();
    db = await Db.open({ dataDir: dir }); // the WAL's tombstone deletes again
    check("after reopen");
    // Deleting everything of a series removes it.
    await db.deleteSeries(
      "acme",
      [newMatcher("=", "job", "b")],
      -Infinity,
      Infinity,
    );
    assert.equal((samples(db, "acme")).has(labelsKey(b)), false);
    await db.close();
    db = await Db.open({ dataDir: dir });
    assert.equal((samples(db, "acme")).has(labelsKey(b)), false);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
