// Aggregations computed from columns (selectors and range functions produce
// columnar vectors) against a plain oracle over the raw samples: grouping,
// first-seen group order, Kahan sums, NaN/±Inf, ties in topk/bottomk (stable
// order, NaN last), and gaps (series absent at some steps).
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { PromQLEngine } from "../src/promql/mod.ts";
import { Db } from "../src/storage/db.ts";
import { Prng } from "../src/util/prng.ts";

const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

interface Raw {
  labels: Record<string, string>;
  ts: number[];
  vs: number[];
}

/** Value of a series at t with a 5-minute lookback, or undefined. */
function at(s: Raw, t: number): number | undefined {
  let v: number | undefined;
  for (let i = 0; i < s.ts.length; i++) {
    if (s.ts[i] <= t && s.ts[i] > t - 300_000) v = s.vs[i];
  }
  return v;
}

function key(labels: Record<string, string>): string {
  return Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(",");
}

function sameNumber(a: number, b: number): boolean {
  return Number.isNaN(a) ? Number.isNaN(b) : a === b;
}

Deno.test("columnar aggregations equal a per-sample oracle", async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rng = new Prng(seed);
    const dir = await Deno.makeTempDir();
    const db = await Db.open({ dataDir: dir, log: nullLog });
    try {
      // Series inserted in random label order; the selector returns them
      // sorted by labels, which is the order the oracle walks.
      const raw: Raw[] = [];
      const n = rng.int(3, 25);
      const pool = [0, 1, 2, NaN, Infinity, -Infinity, 0.1, 0.2, 0.3, 1e308];
      for (let i = 0; i < n; i++) {
        const labels = {
          __name__: "x",
          id: String(rng.int(0, 999)).padStart(3, "0") + `-${i}`,
          g: `g${rng.int(0, 3)}`,
        };
        const ts: number[] = [];
        const vs: number[] = [];
        for (let k = 0; k < 40; k++) {
          if (rng.float() < 0.2) continue; // a gap
          ts.push(k * 60_000 + rng.int(0, 500));
          vs.push(
            rng.float() < 0.6
              ? pool[rng.int(0, pool.length - 1)]
              : rng.normal(),
          );
        }
        raw.push({ labels, ts, vs });
        const app = db.appender("t");
        app.appendSeries(labelsFrom(labels), ts, Float64Array.from(vs));
        await app.commit();
      }
      raw.sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1));
      const engine = new PromQLEngine(db);
      for (let probe = 0; probe < 8; probe++) {
        const t = rng.int(0, 42 * 60_000);
        const live = raw
          .map((s) => ({ s, v: at(s, t) }))
          .filter((x) => x.v !== undefined) as { s: Raw; v: number }[];
        const msg = `seed ${seed} t ${t}`;
        // sum by (g): Kahan–Neumaier in series order, groups in first-seen order.
        const sums = new Map<string, { sum: number; c: number }>();
        for (const { s, v } of live) {
          const acc = sums.get(s.labels.g) ?? { sum: 0, c: 0 };
          const t2 = acc.sum + v;
          if (!Number.isFinite(t2) && !Number.isNaN(t2)) acc.c = 0;
          else if (Math.abs(acc.sum) >= Math.abs(v)) {
            acc.c += (acc.sum - t2) + v;
          } else acc.c += (v - t2) + acc.sum;
          acc.sum = t2;
          sums.set(s.labels.g, acc);
        }
        const r = await engine.instantQuery("t", "sum by (g) (x)", t);
        assert.equal(r.value.type, "vector");
        if (r.value.type !== "vector") continue;
        assert.deepEqual(
          r.value.samples.map((x) => x.metric[0].value),
          [...sums.keys()],
          `${msg} group order`,
        );
        for (const x of r.value.samples) {
          const acc = sums.get(x.metric[0].value)!;
          const want = Number.isFinite(acc.sum) ? acc.sum + acc.c : acc.sum;
          assert.ok(sameNumber(x.v, want), `${msg} sum ${x.v} vs ${want}`);
        }
        // topk / bottomk: stable by value, NaN last, per group.
        for (const op of ["topk", "bottomk"]) {
          const k = rng.int(0, 6);
          const r2 = await engine.instantQuery(
            "t",
            `${op} by (g) (${k}, x)`,
            t,
          );
          if (r2.value.type !== "vector") throw new Error("vector expected");
          const groups = new Map<string, { s: Raw; v: number }[]>();
          for (const x of live) {
            const list = groups.get(x.s.labels.g) ?? [];
            list.push(x);
            groups.set(x.s.labels.g, list);
          }
          const want: string[] = [];
          for (const list of groups.values()) {
            const sorted = [...list].sort((a, b) => {
              if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
              if (Number.isNaN(b.v)) return -1;
              return op === "topk" ? b.v - a.v : a.v - b.v;
            });
            for (const x of sorted.slice(0, k)) {
              want.push(`${key(x.s.labels)}=${x.v}`);
            }
          }
          const got = r2.value.samples.map((x) =>
            `${
              key(Object.fromEntries(x.metric.map((l) => [l.name, l.value])))
            }=${x.v}`
          );
          assert.deepEqual(got, want, `${msg} ${op} ${k}`);
        }
        // count and max over everything.
        const r3 = await engine.instantQuery("t", "count(x)", t);
        if (r3.value.type !== "vector") throw new Error("vector expected");
        assert.deepEqual(
          r3.value.samples.map((x) => x.v),
          live.length ? [live.length] : [],
          msg,
        );
      }
    } finally {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
});
