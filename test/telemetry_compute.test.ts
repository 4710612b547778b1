// The telemetry histogram over a real store, against hand-computed cases
// and a brute-force oracle written here from the documented semantics
// (a reset-adjusted running total per run, differenced at bucket edges).
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { setMatchesOf } from "../src/model/matcher.ts";
import { Db } from "../src/storage/db.ts";
import {
  computeTelemetry,
  type TelemetryPoint,
} from "../src/telemetry/histogram.ts";
import { LOOKBACK_MS } from "../src/telemetry/increase.ts";
import { parseTelemetryRequest } from "../src/telemetry/request.ts";
import { telemetryMatchers } from "../src/telemetry/select.ts";
import { Prng } from "../src/util/prng.ts";

const STALE = new Float64Array(
  new BigUint64Array([0x7ff0000000000002n]).buffer,
)[0];
const nullLog = {
  logSeries() {},
  logSamples() {},
  commit: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/** One generated series: labels, times, values; `stale[i]` marks a stale marker. */
interface RawSeries {
  labels: Record<string, string>;
  ts: number[];
  vs: number[];
  stale: boolean[];
}

async function withDb(body: (db: Db) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tm-telemetry-" });
  const db = await Db.open({ dataDir: dir, log: nullLog });
  try {
    await body(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function load(db: Db, tenant: string, all: RawSeries[]): Promise<void> {
  const app = db.appender(tenant);
  for (const s of all) {
    const vs = Float64Array.from(s.vs);
    s.stale.forEach((st, i) => {
      if (st) vs[i] = STALE;
    });
    app.appendSeries(labelsFrom(s.labels), s.ts, vs);
  }
  const r = await app.commit();
  assert.deepEqual(r.rejected, []);
}

function query(
  db: Db,
  tenant: string,
  body: unknown,
  now = 0,
): Promise<TelemetryPoint[]> {
  const q = parseTelemetryRequest(JSON.stringify(body), now);
  const querier = db.querier(tenant, q.start - LOOKBACK_MS, q.end - 1);
  try {
    return Promise.resolve(plain(computeTelemetry(querier, q)));
  } finally {
    querier.close();
  }
}

function plain<T>(x: T): T {
  return JSON.parse(JSON.stringify(x));
}

function series(
  labels: Record<string, string>,
  points: [number, number | "stale"][],
): RawSeries {
  return {
    labels,
    ts: points.map((p) => p[0]),
    vs: points.map((p) => p[1] === "stale" ? 0 : p[1]),
    stale: points.map((p) => p[1] === "stale"),
  };
}

Deno.test("telemetry: hand-computed buckets (resets, staleness, lookback, keys)", async (t) => {
  await withDb(async (db) => {
    const s = 1000;
    await load(db, "t", [
      // pairs: +5 @30s | +10 @60s, reset +3 @90s | +5 @120s
      series({ __name__: "tx", chain: "ethereum", type: "TRANSACTION" }, [
        [0, 10],
        [30 * s, 15],
        [60 * s, 25],
        [90 * s, 3],
        [120 * s, 8],
      ]),
      // +10 @30s; the stale marker ends the run; 70s starts anew; +5 @100s
      series({ __name__: "tx", chain: "bitcoin", type: "TRANSACTION" }, [
        [0, 10],
        [30 * s, 20],
        [45 * s, "stale"],
        [70 * s, 25],
        [100 * s, 30],
      ]),
      // same key as the first series on another instance: +1 @60s
      series({
        __name__: "tx",
        chain: "ethereum",
        type: "TRANSACTION",
        instance: "b",
      }, [[0, 1], [60 * s, 2]]),
      series({ __name__: "tx", chain: "ethereum", type: "TRANSFER" }, [
        [0, 0],
        [150 * s, 7],
      ]),
      series({ __name__: "other", chain: "ethereum", type: "TRANSACTION" }, [
        [0, 0],
        [30 * s, 1000],
      ]),
    ]);
    await t.step(
      "tags in request order, epoch bounds fill empty buckets",
      async () => {
        assert.deepEqual(
          await query(db, "t", {
            metric: "tx",
            tags: { chain: ["ethereum", "bitcoin"], type: ["TRANSACTION"] },
            start: 0,
            end: 240 * s,
            step: "1m",
          }),
          [
            {
              ts: 0,
              bucket: {
                "bitcoin,TRANSACTION": { count: 10 },
                "ethereum,TRANSACTION": { count: 5 },
              },
            },
            {
              ts: 60 * s,
              bucket: {
                "bitcoin,TRANSACTION": { count: 5 },
                "ethereum,TRANSACTION": { count: 14 },
              },
            },
            { ts: 120 * s, bucket: { "ethereum,TRANSACTION": { count: 5 } } },
            { ts: 180 * s, bucket: {} },
          ],
        );
      },
    );
    await t.step("reversed tag order reverses the key", async () => {
      const got = await query(db, "t", {
        metric: "tx",
        tags: { type: ["TRANSACTION", "TRANSFER"], chain: ["ethereum"] },
        start: "0",
        end: "180000",
        step: 60_000,
      });
      assert.deepEqual(got, [
        { ts: 0, bucket: { "TRANSACTION,ethereum": { count: 5 } } },
        { ts: 60 * s, bucket: { "TRANSACTION,ethereum": { count: 14 } } },
        {
          ts: 120 * s,
          bucket: {
            "TRANSACTION,ethereum": { count: 5 },
            "TRANSFER,ethereum": { count: 7 },
          },
        },
      ]);
    });
    await t.step(
      "no tags: one total key; date math omits empty buckets",
      async () => {
        const got = await query(db, "t", {
          metric: "tx",
          start: "now-10m",
          step: "1m",
        }, 300 * s);
        // start = -300s: buckets at -300s + k·60s; data only in those at 0, 60s, 120s
        assert.deepEqual(got, [
          { ts: 0, bucket: { total: { count: 15 } } },
          { ts: 60 * s, bucket: { total: { count: 19 } } },
          { ts: 120 * s, bucket: { total: { count: 12 } } },
        ]);
      },
    );
    await t.step("buckets aligned to start, not to the epoch", async () => {
      const got = await query(db, "t", {
        metric: "tx",
        tags: { chain: ["ethereum"], type: ["TRANSACTION"] },
        start: 15 * s,
        end: 135 * s,
        step: "1m",
      });
      // [15s,75s): +5 @30s, +10 @60s, +1 @60s; [75s,135s): +3 @90s, +5 @120s
      // (the pair ending at 30s starts at 0s, within the lookback of 15s)
      assert.deepEqual(got, [
        { ts: 15 * s, bucket: { "ethereum,TRANSACTION": { count: 16 } } },
        { ts: 75 * s, bucket: { "ethereum,TRANSACTION": { count: 8 } } },
      ]);
    });
    await t.step("end is exclusive and cuts the last bucket", async () => {
      const got = await query(db, "t", {
        metric: "tx",
        tags: { chain: ["ethereum"], type: ["TRANSACTION"] },
        start: 0,
        end: 90 * s,
        step: "1m",
      });
      // the reset sample at 90s is outside [0, 90s)
      assert.deepEqual(got, [
        { ts: 0, bucket: { "ethereum,TRANSACTION": { count: 5 } } },
        { ts: 60 * s, bucket: { "ethereum,TRANSACTION": { count: 11 } } },
      ]);
    });
    await t.step("end == start: no buckets", async () => {
      assert.deepEqual(
        await query(db, "t", { metric: "tx", start: 5, end: 5, step: 1 }),
        [],
      );
    });
    await t.step(
      "unknown metric or tag value: epoch fill is all empty",
      async () => {
        assert.deepEqual(
          await query(db, "t", {
            metric: "tx",
            tags: { chain: ["nope"] },
            start: 0,
            end: 120 * s,
            step: "1m",
          }),
          [{ ts: 0, bucket: {} }, { ts: 60 * s, bucket: {} }],
        );
        assert.deepEqual(
          await query(db, "t", { metric: "nope", start: "-1h", step: "1m" }, 0),
          [],
        );
      },
    );
  });
});

Deno.test("telemetry: the lookback bounds the pair that crosses start", async () => {
  await withDb(async (db) => {
    const start = 10_000_000;
    await load(db, "t", [
      series({ __name__: "c", k: "in" }, [
        [start - LOOKBACK_MS, 100],
        [start + 1, 150],
      ]),
      series({ __name__: "c", k: "out" }, [
        [start - LOOKBACK_MS - 1, 100],
        [start + 1, 150],
        [start + 2, 160],
      ]),
    ]);
    assert.deepEqual(
      await query(db, "t", {
        metric: "c",
        tags: { k: ["in", "out"] },
        start,
        end: start + 60_000,
        step: "1m",
      }),
      [{ ts: start, bucket: { in: { count: 50 }, out: { count: 10 } } }],
    );
  });
});

Deno.test("telemetry: tag values with regex metacharacters match exactly", async () => {
  const values = [
    "a.b",
    "a|b",
    "(x)",
    "[y]",
    "z*",
    "^q$",
    "back\\slash",
    "emoji😀",
    "__proto__",
  ];
  const m = telemetryMatchers("c", [["v", values]]);
  assert.deepEqual(setMatchesOf(m[1])?.sort(), [...values].sort());
  assert.equal(m[1].matches("aXb"), false);
  assert.equal(m[1].matches("a"), false);
  await withDb(async (db) => {
    await load(db, "t", [
      ...values.map((v) => series({ __name__: "c", v }, [[0, 0], [1000, 1]])),
      series({ __name__: "c", v: "aXb" }, [[0, 0], [1000, 100]]),
      series({ __name__: "c", v: "b" }, [[0, 0], [1000, 100]]),
    ]);
    const got = await query(db, "t", {
      metric: "c",
      tags: { v: values },
      start: 0,
      end: 2000,
      step: 2000,
    });
    assert.deepEqual(Object.keys(got[0].bucket).sort(), [...values].sort());
    for (const v of values) assert.equal(got[0].bucket[v].count, 1, v);
  });
});

// ---- the oracle -------------------------------------------------------

interface OracleQuery {
  metric: string;
  tags: [string, string[]][];
  start: number;
  end: number;
  step: number;
  fill: boolean;
}

/** Per bucket and key, from reset-adjusted running totals of each run. */
function oracle(all: RawSeries[], q: OracleQuery): TelemetryPoint[] {
  const n = Math.ceil((q.end - q.start) / q.step);
  const sums: Map<string, number>[] = Array.from(
    { length: n },
    () => new Map(),
  );
  for (const s of all) {
    if (s.labels.__name__ !== q.metric) continue;
    if (!q.tags.every(([k, vs]) => vs.includes(s.labels[k] ?? ""))) continue;
    const key = q.tags.length
      ? q.tags.map(([k]) => s.labels[k] ?? "").join(",")
      : "total";
    // runs: split at stale markers; drop non-finite values; keep what the query reads
    const runs: { t: number; v: number }[][] = [[]];
    for (let i = 0; i < s.ts.length; i++) {
      if (s.stale[i]) runs.push([]);
      else if (
        Number.isFinite(s.vs[i]) && s.ts[i] >= q.start - LOOKBACK_MS &&
        s.ts[i] < q.end
      ) runs[runs.length - 1].push({ t: s.ts[i], v: s.vs[i] });
    }
    for (const run of runs) {
      const total: number[] = [];
      run.forEach((p, i) => {
        if (i === 0) total.push(0);
        else {
          const prev = run[i - 1].v;
          total.push(total[i - 1] + (p.v < prev ? p.v : p.v - prev));
        }
      });
      for (let k = 0; k < n; k++) {
        const lo = q.start + k * q.step;
        const hi = Math.min(lo + q.step, q.end);
        const inside = run.map((p, i) => [p.t, i]).filter(([t]) =>
          t >= lo && t < hi
        ).map(([, i]) => i);
        if (inside.length === 0) continue;
        const first = inside[0];
        const last = inside[inside.length - 1];
        const from = first > 0 ? first - 1 : first;
        if (from === last) continue; // a lone first sample: no pair
        sums[k].set(key, (sums[k].get(key) ?? 0) + total[last] - total[from]);
      }
    }
  }
  const out: TelemetryPoint[] = [];
  sums.forEach((m, k) => {
    if (m.size === 0 && !q.fill) return;
    const bucket: Record<string, { count: number }> = {};
    for (const key of [...m.keys()].sort()) {
      bucket[key] = { count: Math.round(m.get(key)!) };
    }
    out.push({ ts: q.start + k * q.step, bucket });
  });
  return out;
}

const T0 = Date.parse("2024-05-01T00:00:00Z");
const CHAINS = ["ethereum", "bitcoin", "sol.ana|x"];
const TYPES = ["TRANSACTION", "TRANSFER"];
const INSTANCES = ["a", "b", "c"];

/** Counters with resets, stale markers, gaps and NaNs; fractional values are multiples of 1/4 (sums stay exact). */
function generate(rng: Prng, fractional: boolean): RawSeries[] {
  const out: RawSeries[] = [];
  const one = (labels: Record<string, string>) => {
    const s: RawSeries = { labels, ts: [], vs: [], stale: [] };
    let t = T0 - 20 * 60_000 + rng.int(0, 60_000);
    let v = rng.int(0, 100);
    const inc = () => fractional ? rng.int(0, 80) / 4 : rng.int(0, 20);
    while (t < T0 + 6 * 3_600_000) {
      const r = rng.float();
      if (r < 0.015) {
        s.ts.push(t), s.vs.push(0), s.stale.push(true);
        t += rng.int(60_000, 15 * 60_000);
        v = rng.float() < 0.5 ? v + inc() : inc();
      } else if (r < 0.045) v = fractional ? rng.int(0, 20) / 4 : rng.int(0, 5);
      else if (r < 0.05) t += rng.int(6 * 60_000, 20 * 60_000); // a gap, no marker
      else v += inc();
      s.ts.push(t);
      s.vs.push(rng.float() < 0.005 ? Number.NaN : v);
      s.stale.push(false);
      t += rng.int(5_000, 120_000);
    }
    out.push(s);
  };
  for (const chain of CHAINS) {
    for (const type of TYPES) {
      for (const instance of INSTANCES) {
        if (rng.float() < 0.3) continue;
        one({ __name__: "tx_total", chain, type, instance });
      }
    }
  }
  one({ __name__: "tx_total", chain: "ethereum", instance: "a" }); // no type
  one({ __name__: "other_total", chain: "ethereum", type: "TRANSFER" });
  one({ __name__: "tx_total_x", chain: "bitcoin", type: "TRANSFER" });
  return out;
}

function randomTags(rng: Prng): [string, string[]][] {
  const names = ["chain", "type", "instance"].filter(() => rng.float() < 0.5);
  for (let i = names.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [names[i], names[j]] = [names[j], names[i]];
  }
  const pool: Record<string, string[]> = {
    chain: [...CHAINS, "nope"],
    type: [...TYPES, "nope"],
    instance: INSTANCES,
  };
  return names.map((n) => {
    const vs = pool[n].filter(() => rng.float() < 0.6);
    return [n, vs.length ? vs : [pool[n][0]]];
  });
}

Deno.test("telemetry: random counters against the oracle", async () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rng = new Prng(seed);
    const fractional = seed % 2 === 0;
    const data = generate(rng, fractional);
    await withDb(async (db) => {
      await load(db, "t", data);
      for (let i = 0; i < 25; i++) {
        const tags = randomTags(rng);
        const step = rng.pick([
          60_000,
          7 * 60_000 + 123,
          900_000,
          3_600_000,
          86_400_000,
        ]);
        const start = T0 + rng.int(-30 * 60_000, 3 * 3_600_000);
        const span = rng.int(0, 4 * 3_600_000);
        const epoch = rng.float() < 0.5;
        const spanS = Math.floor(span / 1000);
        // date math: end = now, start = now - spanS seconds
        const body = epoch
          ? {
            metric: "tx_total",
            tags: Object.fromEntries(tags),
            start,
            end: start + span,
            step,
          }
          : {
            metric: "tx_total",
            tags: Object.fromEntries(tags),
            start: `now-${spanS}s`,
            step,
          };
        const now = start + spanS * 1000;
        const end = epoch ? start + span : now;
        const want = oracle(data, {
          metric: "tx_total",
          tags,
          start,
          end,
          step,
          fill: epoch,
        });
        const got = await query(db, "t", body, now);
        assert.deepEqual(
          got,
          want,
          `seed ${seed} query ${i}: ${JSON.stringify(body)} now=${now}`,
        );
        if (epoch) {
          assert.equal(
            got.length,
            Math.ceil(span / step),
            `seed ${seed} query ${i}`,
          );
        }
      }
    });
  }
});
