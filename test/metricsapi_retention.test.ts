// Log retention of the Metrics API: the log's disk size stays bounded over
// many snapshot cycles (and everything written is still there after a
// restart), a never-truncated log replays whole without a snapshot, and
// kill -9 at every step of the snapshot + deletion sequence (a child
// process writing over HTTP) loses no acknowledged batch and doubles none.
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import { getLabel } from "../src/model/labels.ts";
import type { Observation } from "../src/metricsapi/types.ts";
import type { MetricsStore } from "../src/metricsapi/store.ts";
import { loadSnapshot, SnapshotWriter } from "../src/metricsapi/snapshot.ts";
import { newTenant, type TenantState } from "../src/metricsapi/tenant.ts";
import { type MetricsApiServer, startMetricsApi } from "./_metricsapi.ts";

const T0 = Date.parse("2024-06-01T00:00:00Z");
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

/** One batch: `size` increments of 1 on counter "r.c", tagged with the batch. */
function batch(b: number, size: number) {
  return Array.from({ length: size }, (_, i) => ({
    name: "r.c",
    type: "counter",
    value: 1,
    timestamp: T0 + (b * 7 + i) % HOUR,
    tags: { batch: String(b) },
  }));
}

function asRequest(metrics: ReturnType<typeof batch>) {
  return {
    metrics: metrics.map((m, index) => ({
      index,
      item: {
        name: m.name,
        type: "counter",
        value: m.value,
        t: m.timestamp,
        tags: m.tags,
      } as Observation,
    })),
    events: [],
  };
}

/** Sum of "r.c" per batch over the whole hour, through the API. */
async function sums(srv: MetricsApiServer): Promise<Map<number, number>> {
  const r = await srv.call(
    "GET",
    `/api/v1/metrics/r.c/query?from=${iso(T0)}&to=${
      iso(T0 + HOUR)
    }&interval=1h&group_by=tags.batch`,
  );
  const out = new Map<number, number>();
  if (r.status === 404) return out;
  assert.equal(r.status, 200, JSON.stringify(r.json));
  for (
    const [b, pts] of Object.entries(
      r.json.data.groups as Record<string, { value: number }[]>,
    )
  ) {
    out.set(Number(b), pts.reduce((a, p) => a + p.value, 0));
  }
  return out;
}

/** Totals of the PromQL view per batch. */
async function viewTotals(srv: MetricsApiServer): Promise<Map<number, number>> {
  const v = await srv.engine.instantQuery(
    "default",
    'last_over_time({"r.c"}[3h])',
    T0 + HOUR,
  );
  const out = new Map<number, number>();
  if (v.value.type === "vector") {
    for (const s of v.value.samples) {
      out.set(Number(getLabel(s.metric, "batch")), s.v);
    }
  }
  return out;
}

function snapshotFiles(mdir: string): string[] {
  return [...Deno.readDirSync(mdir)].map((e) => e.name).filter((n) =>
    /^snapshot-\d{8}\.json$/.test(n)
  );
}

function segmentFiles(mdir: string): string[] {
  return [...Deno.readDirSync(`${mdir}/log`)].map((e) => e.name).sort();
}

Deno.test("log size stays bounded across many snapshot cycles; a restart has everything", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-ret-" });
  const mdir = `${dataDir}/metricsapi`;
  const now = T0 + HOUR;
  const SIZE = 100;
  let srv = await startMetricsApi({
    dataDir,
    now,
    store: { snapshotEveryMs: Infinity, segmentBytes: 64 << 10 },
  });
  let written = 0;
  let b = 0;
  try {
    await t.step(
      "snapshots every 10 writes: 2 snapshots, 2 segments",
      async () => {
        let maxLog = 0;
        for (let cycle = 0; cycle < 60; cycle++) {
          for (let i = 0; i < 10; i++, b++) {
            const before = await srv.store.logDiskBytes();
            await srv.store.write("default", asRequest(batch(b, SIZE)));
            written += await srv.store.logDiskBytes() - before;
          }
          await srv.store.snapshotNow();
          maxLog = Math.max(maxLog, await srv.store.logDiskBytes());
          assert.ok(snapshotFiles(mdir).length <= 2, `cycle ${cycle}`);
          if (cycle >= 1) {
            // The previous snapshot's segment (10 records) and the new empty one.
            assert.deepEqual(segmentFiles(mdir).length, 2, `cycle ${cycle}`);
          }
        }
        const perCycle = written / 60;
        assert.ok(
          maxLog <= 1.5 * perCycle,
          `log ${maxLog} bytes at most, ~${perCycle} written per cycle`,
        );
        assert.ok(written > 30 * maxLog, `${written} written, ${maxLog} kept`);
        assert.ok(srv.store.snapshots.segmentsDeleted >= 58);
      },
    );

    await t.step("background snapshots after every write group", async () => {
      await srv.close(true);
      srv = await startMetricsApi({
        dataDir,
        now,
        store: { snapshotEveryMs: 0, segmentBytes: 16 << 10 },
      });
      let maxLog = 0;
      let since = 0;
      const start = b;
      // 4 writers at once: group commits overlap the background snapshots.
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; i < 400; i += 4) {
          await srv.store.write("default", asRequest(batch(start + i, SIZE)));
          if (w === 0) {
            const bytes = await srv.store.logDiskBytes();
            maxLog = Math.max(maxLog, bytes);
            since++;
          }
        }
      }));
      b = start + 400;
      await srv.store.snapshotNow();
      assert.ok(since > 0 && srv.store.snapshots.written >= 20);
      assert.ok(snapshotFiles(mdir).length <= 2);
      // 400 records of ~4 KiB were written; only a few snapshots' worth stay.
      assert.ok(maxLog < 400 * 4096 / 5, `log at most ${maxLog} bytes`);
    });

    await t.step("restart: every batch there once", async () => {
      const expected = await sums(srv);
      assert.equal(expected.size, b);
      for (const [k, v] of expected) assert.equal(v, SIZE, `batch ${k}`);
      const view = await viewTotals(srv);
      await srv.close(true);
      srv = await startMetricsApi({ dataDir, now });
      console.log(
        `restart from snapshot: ${srv.store.replay.seconds.toFixed(3)} s ` +
          `(${srv.store.replay.records} records replayed)`,
      );
      assert.ok(srv.store.replay.fromSnapshot);
      assert.deepEqual(await sums(srv), expected);
      assert.deepEqual(await viewTotals(srv), view);
      assert.equal(view.size, b);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("a log never truncated replays whole without a snapshot", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-ret-" });
  const mdir = `${dataDir}/metricsapi`;
  const now = T0 + HOUR;
  let srv = await startMetricsApi({ dataDir, now });
  try {
    for (let b = 0; b < 20; b++) {
      await srv.store.write("default", asRequest(batch(b, 50)));
    }
    await srv.close(true); // one snapshot: nothing deleted
    assert.equal(snapshotFiles(mdir).length, 1);
    assert.equal(segmentFiles(mdir)[0], "00000001.log");
    for (const n of snapshotFiles(mdir)) await Deno.remove(`${mdir}/${n}`);
    srv = await startMetricsApi({ dataDir, now });
    assert.ok(!srv.store.replay.fromSnapshot);
    assert.equal(srv.store.replay.observations, 1000);
    const s = await sums(srv);
    assert.equal(s.size, 20);
    for (const v of s.values()) assert.equal(v, 50);
  } finally {
    await srv.close();
  }
});

/** Runs the child until it kills itself at `crashStep` (or is killed). */
async function crashRun(
  dataDir: string,
  opts: Record<string, unknown>,
  firstBatch: number,
  killAfterAcks = Infinity,
): Promise<{ acked: Set<number>; crashed: string | null }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./_metricsapi_child.ts", import.meta.url).pathname,
      dataDir,
    ],
    env: { MAPI_CHILD_OPTS: JSON.stringify(opts) },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const r = await reader.read();
    if (r.done) throw new Error(`child ended early: ${out}`);
    out += r.value;
  }
  const base = out.slice(0, out.indexOf("\n")).trim();
  out = out.slice(out.indexOf("\n") + 1);
  const stdout = (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true, value: "" }));
      if (r.done) break;
      out += r.value;
    }
  })();
  const acked = new Set<number>();
  let dead = false;
  const SENT = 600;
  let next = firstBatch;
  const writers = Array.from({ length: 4 }, async () => {
    while (!dead && next < firstBatch + SENT) {
      const b = next++;
      try {
        const r = await fetch(`${base}/api/v1/metrics/batch`, {
          method: "POST",
          body: JSON.stringify({ metrics: batch(b, 100) }),
        });
        const j = await r.json();
        if (r.status === 200 && j.data.accepted === 100) acked.add(b);
        if (acked.size >= killAfterAcks && !dead) {
          dead = true;
          child.kill("SIGKILL"); // while the other writers are in flight
        }
      } catch {
        dead = true; // the server died mid-request
      }
    }
  });
  await Promise.all(writers);
  if (!dead) child.kill("SIGKILL");
  dead = true;
  await child.status;
  await stdout;
  const m = /crash (\S+)/.exec(out);
  return { acked, crashed: m ? m[1] : null };
}

/** Checks every acknowledged batch is there once, and nothing is doubled. */
async function verify(
  store: MetricsStore,
  srv: MetricsApiServer,
  acked: Set<number>,
  context: string,
): Promise<void> {
  const s = await sums(srv);
  for (const b of acked) assert.equal(s.get(b), 100, `${context}: batch ${b}`);
  for (const [b, v] of s) assert.equal(v, 100, `${context}: batch ${b} whole`);
  const view = await viewTotals(srv);
  assert.equal(view.size, s.size, `${context}: view series`);
  for (const [b, v] of view) assert.equal(v, 100, `${context}: view ${b}`);
  assert.ok(store.replay.seconds >= 0);
}

const STEPS = [
  "rolled",
  "tmp-written",
  "tmp-synced",
  "renamed",
  "snapshots-deleted",
  "segment-deleted",
  "segments-deleted",
];
const SEED = 20241130;

for (const [i, step] of STEPS.entries()) {
  Deno.test(`kill -9 at snapshot step "${step}": no acknowledged batch lost, none doubled`, async () => {
    const rng = new Prng(SEED + i);
    const crashAt = rng.int(2, 6);
    const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-kill-" });
    const mdir = `${dataDir}/metricsapi`;
    try {
      const acked = new Set<number>();
      // Two crashes in a row in the same directory: the second run starts
      // from what the first crash left.
      for (let round = 0; round < 2; round++) {
        const run = await crashRun(dataDir, {
          now: T0 + HOUR,
          segmentBytes: 8192,
          snapshotEveryMs: 0,
          crashStep: step,
          crashAt,
        }, round * 1000);
        const ctx = `seed ${
          SEED + i
        }, step ${step} #${crashAt}, round ${round}`;
        assert.equal(run.crashed, step, `${ctx}: the child crashed there`);
        assert.ok(run.acked.size > 0, ctx);
        for (const b of run.acked) acked.add(b);
        const srv = await startMetricsApi({ dataDir, now: T0 + HOUR });
        try {
          console.log(
            `${ctx}: restart ${srv.store.replay.seconds.toFixed(3)} s, ` +
              `${srv.store.replay.records} records replayed, snapshot ${
                srv.store.replay.snapshot?.split("/").at(-1) ?? "none"
              }, ${segmentFiles(mdir).length} segments`,
          );
          await verify(srv.store, srv, acked, ctx);
        } finally {
          await srv.close(true);
        }
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}

Deno.test("kill -9 at random moments with a snapshot after every write group", async () => {
  const rng = new Prng(SEED);
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-kill-" });
  try {
    const acked = new Set<number>();
    for (let round = 0; round < 4; round++) {
      const after = rng.int(5, 80);
      const run = await crashRun(
        dataDir,
        {
          now: T0 + HOUR,
          segmentBytes: 8192,
          snapshotEveryMs: 0,
        },
        round * 1000,
        after,
      );
      for (const b of run.acked) acked.add(b);
      const ctx = `seed ${SEED}, round ${round}, killed after ${after} acks`;
      const srv = await startMetricsApi({ dataDir, now: T0 + HOUR });
      try {
        console.log(
          `${ctx}: restart ${
            srv.store.replay.seconds.toFixed(3)
          } s, ${srv.store.replay.records} records replayed`,
        );
        await verify(srv.store, srv, acked, ctx);
      } finally {
        await srv.close(true);
      }
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a snapshot holds the state at its capture while writes change it between chunks", async () => {
  const rng = new Prng(SEED + 99);
  const dataDir = await Deno.makeTempDir({ prefix: "tm-mapi-cow-" });
  const now = T0 + HOUR;
  const srv = await startMetricsApi({ dataDir, now });
  try {
    const state = new Map<string, TenantState>([[
      "default",
      newTenant(srv.db.engine),
    ]]);
    const t = state.get("default")!;
    // 2000 series, one observation each; the oracle counts per series.
    const count = new Map<string, number>();
    const add = (s: number) => {
      t.series.add("cow.c", "counter", { s: String(s) }, T0 + s, 1, now);
      count.set(String(s), (count.get(String(s)) ?? 0) + 1);
    };
    for (let s = 0; s < 2000; s++) add(s);
    const atCapture = new Map(count);
    const writer = new SnapshotWriter({
      position: { segment: 7, offset: 0 },
      eventSeq: 0,
      tenants: state,
    });
    const path = `${dataDir}/cow.json`;
    let writing = true;
    const done = writer.write(path, { chunkBytes: 512, fsync: false }).finally(
      () => writing = false,
    );
    // Between chunks: change old series and create new ones.
    let changes = 0;
    while (writing) {
      await new Promise((r) => setTimeout(r, 0));
      for (let k = 0; k < 20; k++) add(rng.int(0, 2999));
      changes += 20;
    }
    await done;
    assert.ok(
      changes > 100,
      `seed ${SEED + 99}: writes ran during the snapshot`,
    );
    const loaded = await loadSnapshot(path, srv.db.engine, () => {});
    assert.ok(loaded, "the snapshot loads");
    const lt = loaded.tenants.get("default")!;
    const got = new Map<string, number>();
    for (const ts of lt.series.series.get("cow.c")!.values()) {
      let n = 0;
      for (const b of ts.levels[2].values()) n += b.count;
      got.set(ts.tags.s, n);
    }
    assert.deepEqual(got, atCapture, `seed ${SEED + 99}`);
    assert.notDeepEqual(count, atCapture);
    lt.series.free();
    t.series.free();
  } finally {
    await srv.close();
  }
});
