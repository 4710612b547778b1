// Durability of the Metrics API: close and reopen (everything there,
// nothing doubled, also when the view watermark is lost, the newest snapshot
// is missing or damaged), a torn log tail, and kill -9 of a child process in
// the middle of HTTP writes. Log retention: metricsapi_retention.test.ts.
import assert from "node:assert/strict";
import { Db } from "../src/storage/db.ts";
import { MetricsStore, SnapshotMissingError } from "../src/metricsapi/store.ts";
import { Prng } from "../src/util/prng.ts";
import {
  type MetricsApiServer,
  postAll,
  startMetricsApi,
} from "./_metricsapi.ts";

const T0 = Date.parse("2024-06-01T00:00:00Z");
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

/** Everything observable through the API and PromQL, as one JSON value. */
async function snapshot(srv: MetricsApiServer) {
  const range = `from=${iso(T0)}&to=${iso(T0 + 2 * HOUR)}&interval=15m`;
  const q = (name: string, agg: string, extra = "") =>
    srv.call(
      "GET",
      `/api/v1/metrics/${name}/query?${range}&aggregation=${agg}${extra}`,
    )
      .then((r) => r.json);
  const promql = async (expr: string) => {
    const r = await srv.engine.instantQuery("default", expr, T0 + 2 * HOUR);
    return r.value.type === "vector"
      ? r.value.samples.map((s) => [s.metric, s.v])
      : r.value;
  };
  return {
    defs: (await srv.call("GET", "/api/v1/metrics")).json,
    points: await Promise.all(
      ["c", "g", "d", "s"].map((n) =>
        srv.call("GET", `/api/v1/metrics/${n}`).then((r) =>
          r.json.data.data_points
        )
      ),
    ),
    counter: await q("c", "sum", "&group_by=tags.k"),
    gauge: await q("g", "last,avg,min,max"),
    dist: await q("d", "count,sum,p50,p99"),
    set: await q("s", "count"),
    events: (await srv.call("GET", "/api/v1/events?limit=1000")).json,
    promCounter: await promql('{"c"}'),
    promCount: await promql('{"d_count"}'),
  };
}

function workload(seed: number) {
  const rng = new Prng(seed);
  const metrics = [];
  for (let i = 0; i < 4000; i++) {
    const t = T0 + rng.int(0, 2 * HOUR - 1);
    metrics.push({
      name: "c",
      type: "counter",
      value: rng.int(1, 9),
      timestamp: t,
      tags: { k: rng.pick(["x", "y"]) },
    });
    metrics.push({
      name: "c",
      type: "counter",
      value: 1,
      timestamp: t,
      tags: { k: "x" },
    }); // same ms
    metrics.push({
      name: "g",
      type: "gauge",
      value: rng.float(),
      timestamp: t,
    });
    metrics.push({
      name: "d",
      type: "distribution",
      value: rng.float() * 100,
      timestamp: t,
    });
    metrics.push({
      name: "s",
      type: "set",
      value: `m${rng.int(0, 999)}`,
      timestamp: t,
    });
  }
  const events = Array.from({ length: 300 }, (_, i) => ({
    name: "deploy",
    value: i,
    timestamp: T0 + rng.int(0, 2 * HOUR - 1),
    properties: { i },
  }));
  return { metrics, events };
}

Deno.test("close and reopen: everything there, nothing doubled", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-restart-" });
  const mdir = `${dataDir}/metricsapi`;
  const now = T0 + 2 * HOUR;
  const { metrics, events } = workload(3);
  const half = metrics.length / 2;
  let srv = await startMetricsApi({ dataDir, now });
  try {
    await postAll(srv, metrics.slice(0, half));
  } finally {
    await srv.close(true); // writes snapshot A
  }
  const snapshotsIn = () =>
    [...Deno.readDirSync(mdir)].map((e) => e.name).filter((n) =>
      /^snapshot-\d{8}\.json$/.test(n)
    ).sort().reverse();
  const [snapshotA] = snapshotsIn();
  let before;
  srv = await startMetricsApi({ dataDir, now });
  try {
    assert.ok(srv.store.replay.fromSnapshot);
    assert.equal(srv.store.replay.records, 0);
    await postAll(srv, metrics.slice(half));
    const r = await srv.call("POST", "/api/v1/flux/batch", { events });
    assert.equal(r.json.data.events.accepted, 300);
    before = await snapshot(srv);
    assert.equal(before.points[0], 8000);
    assert.equal(before.events.data.events.length, 300);
  } finally {
    await srv.close(true); // snapshot B
  }

  const reopen = async (check: () => void) => {
    srv = await startMetricsApi({ dataDir, now });
    try {
      check();
      assert.deepEqual(await snapshot(srv), before);
    } finally {
      await srv.close(true);
    }
  };

  await t.step("reopen from the latest snapshot", () =>
    reopen(() => {
      assert.ok(srv.store.replay.fromSnapshot);
      assert.equal(srv.store.replay.records, 0);
    }));

  await t.step(
    "newest snapshot missing, no watermark: the previous one and the log after it, its view re-appended, nothing doubled",
    async () => {
      const names = snapshotsIn();
      assert.deepEqual(names.length, 2, "two snapshots kept");
      assert.equal(names[1], snapshotA);
      await Deno.remove(`${mdir}/${names[0]}`);
      await Deno.remove(`${mdir}/view-watermark.json`);
      await reopen(() => {
        assert.ok(srv.store.replay.fromSnapshot);
        assert.equal(srv.store.replay.snapshot, `${mdir}/${snapshotA}`);
        assert.equal(srv.store.replay.observations, metrics.length - half);
        assert.equal(srv.store.replay.events, 300);
        assert.ok(srv.store.replay.viewSamplesReappended > 0);
      });
    },
  );

  await t.step(
    "newest snapshot damaged: the previous one is used",
    async () => {
      const names = snapshotsIn();
      assert.equal(names.length, 2);
      const newest = `${mdir}/${names[0]}`;
      const good = await Deno.readFile(newest);
      await Deno.writeFile(newest, good.subarray(0, good.length >> 1));
      await reopen(() => {
        assert.ok(srv.store.replay.fromSnapshot);
        assert.equal(srv.store.replay.snapshot, `${mdir}/${names[1]}`);
        assert.equal(srv.store.replay.observations, metrics.length - half);
      });
    },
  );

  await t.step(
    "no usable snapshot once segments were deleted: the start refuses",
    async () => {
      const saved = new Map<string, Uint8Array>();
      for (const n of snapshotsIn()) {
        saved.set(n, await Deno.readFile(`${mdir}/${n}`));
        await Deno.remove(`${mdir}/${n}`);
      }
      const segs = [...Deno.readDirSync(`${mdir}/log`)].map((e) => e.name)
        .sort();
      assert.notEqual(segs[0], "00000001.log", "segment 1 was deleted");
      const db = await Db.open({ dataDir });
      try {
        await assert.rejects(
          MetricsStore.open({ dataDir, db, now: () => now, warn: () => {} }),
          SnapshotMissingError,
        );
      } finally {
        await db.close();
      }
      for (const [n, bytes] of saved) {
        await Deno.writeFile(`${mdir}/${n}`, bytes);
      }
    },
  );

  await t.step("a torn log tail is cut; the rest survives", async () => {
    const dir = `${dataDir}/metricsapi/log`;
    const seg = [...Deno.readDirSync(dir)].map((e) => e.name).sort().at(-1)!;
    const f = await Deno.open(`${dir}/${seg}`, { append: true });
    await f.write(new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, 5])); // a frame cut short
    f.close();
    srv = await startMetricsApi({ dataDir, now });
    try {
      assert.deepEqual(await snapshot(srv), before);
      const w = await srv.call("POST", "/api/v1/metrics", {
        name: "g",
        type: "gauge",
        value: 1,
        timestamp: T0,
      });
      assert.equal(w.status, 200, "writes continue after the cut");
    } finally {
      await srv.close();
    }
  });
});

Deno.test("kill -9 during HTTP writes: acknowledged batches survive whole, none doubled", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-crash-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./_metricsapi_child.ts", import.meta.url).pathname,
      dataDir,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let base = "";
  while (!base.includes("\n")) base += (await reader.read()).value ?? "";
  base = base.trim();
  const acked = new Set<number>();
  const sent = 120;
  let killed = false;
  const post = async (b: number) => {
    const metrics = Array.from({ length: 500 }, (_, i) => ({
      name: "crash.c",
      type: "counter",
      value: 1,
      timestamp: T0 + i,
      tags: { batch: String(b) },
    }));
    try {
      const r = await fetch(`${base}/api/v1/metrics/batch`, {
        method: "POST",
        body: JSON.stringify({ metrics }),
      });
      const j = await r.json();
      if (r.status === 200 && j.data.accepted === 500) acked.add(b);
    } catch { /* the server died mid-request */ }
  };
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let b = w; b < sent && !killed; b += 4) await post(b);
  });
  // Kill once a good share is acknowledged, while writes are in flight.
  while (acked.size < 30) await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGKILL");
  killed = true;
  await Promise.all(writers);
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});

  const srv = await startMetricsApi({ dataDir, now: T0 + HOUR });
  try {
    const r = await srv.call(
      "GET",
      `/api/v1/metrics/crash.c/query?from=${iso(T0)}&to=${
        iso(T0 + HOUR)
      }&interval=1h&group_by=tags.batch`,
    );
    const sums = new Map<number, number>();
    for (
      const [b, pts] of Object.entries(
        r.json.data.groups as Record<string, { value: number }[]>,
      )
    ) {
      sums.set(Number(b), pts[0].value);
    }
    for (const b of acked) {
      assert.equal(sums.get(b), 500, `acknowledged batch ${b}`);
    }
    for (const [b, s] of sums) {
      assert.equal(s, 500, `batch ${b} is whole, never doubled`);
    }
    // The PromQL view agrees for every batch that is in the log.
    const v = await srv.engine.instantQuery(
      "default",
      '{"crash.c"}',
      T0 + 1000,
    );
    assert.equal(v.value.type, "vector");
    if (v.value.type === "vector") {
      assert.equal(v.value.samples.length, sums.size);
      for (const s of v.value.samples) assert.equal(s.v, 500);
    }
    assert.ok(acked.size >= 30 && sums.size >= acked.size);
  } finally {
    await srv.close();
  }
});
