import assert from "node:assert/strict";
import { join } from "node:path";
import { type Labels, labelsFrom } from "../src/model/labels.ts";
import {
  listWal,
  MAX_SAMPLES_PER_RECORD,
  replay,
  type ReplayReport,
  Wal,
  type WalRecord,
} from "../src/storage/wal/mod.ts";
import { Prng } from "../src/util/prng.ts";

/** A logged operation, the oracle the replayed records are compared with. */
type Op =
  | { kind: "series"; tenant: string; ref: number; labels: Labels }
  | {
    kind: "samples";
    tenant: string;
    refs: Uint32Array;
    ts: Float64Array;
    values: Float64Array;
  }
  | {
    kind: "tombstones";
    tenant: string;
    refs: Uint32Array;
    mint: number;
    maxt: number;
  };

const STALE_BITS = [0x00000002, 0x7ff00000]; // 0x7ff0000000000002, little-endian words

/** Values with special bit patterns: stale marker, signalling/quiet/negative NaNs, ±0, ±Inf, subnormal. */
function specialValues(): Float64Array {
  const words = [
    STALE_BITS,
    [0x00000001, 0x7ff00000], // signalling NaN
    [0xdeadbeef, 0x7ff7ffff], // signalling NaN, big payload
    [0x00000000, 0x7ff80000], // canonical quiet NaN
    [0x12345678, 0xfff81234], // negative quiet NaN with payload
    [0x00000000, 0x80000000], // -0
    [0x00000000, 0x7ff00000], // +Inf
    [0x00000000, 0xfff00000], // -Inf
    [0x00000001, 0x00000000], // smallest subnormal
    [0xffffffff, 0x7fefffff], // largest finite
  ];
  const out = new Float64Array(words.length);
  const u = new Uint32Array(out.buffer);
  words.forEach(([lo, hi], i) => {
    u[2 * i] = lo;
    u[2 * i + 1] = hi;
  });
  return out;
}

function randomBitsValues(prng: Prng, n: number): Float64Array {
  const out = new Float64Array(n);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < u.length; i++) u[i] = prng.u32();
  return out;
}

function bytesOf(a: Float64Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Flattens replayed records into ops (SERIES records may carry several series). */
function flatten(recs: WalRecord[]): Op[] {
  const out: Op[] = [];
  for (const r of recs) {
    if (r.kind === "series") {
      for (const s of r.series) {
        out.push({
          kind: "series",
          tenant: r.tenant,
          ref: s.ref,
          labels: s.labels,
        });
      }
    } else if (r.kind !== "checkpoint") out.push(r);
  }
  return out;
}

/** Asserts ops are equal, comparing value and timestamp arrays bit for bit. */
function assertOpsEqual(actual: Op[], expected: Op[], msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: op count`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const at = `${msg}: op ${i}`;
    assert.equal(a.kind, e.kind, at);
    assert.equal(a.tenant, e.tenant, at);
    if (a.kind === "series" && e.kind === "series") {
      assert.equal(a.ref, e.ref, at);
      assert.deepEqual(
        a.labels.map((l) => [l.name, l.value]),
        e.labels.map((l) => [l.name, l.value]),
        at,
      );
    } else if (a.kind === "samples" && e.kind === "samples") {
      assert.deepEqual(Array.from(a.refs), Array.from(e.refs), `${at} refs`);
      assert.deepEqual(bytesOf(a.ts), bytesOf(e.ts), `${at} timestamps`);
      assert.deepEqual(bytesOf(a.values), bytesOf(e.values), `${at} values`);
    } else if (a.kind === "tombstones" && e.kind === "tombstones") {
      assert.deepEqual(Array.from(a.refs), Array.from(e.refs), `${at} refs`);
      assert.equal(a.mint, e.mint, at);
      assert.equal(a.maxt, e.maxt, at);
    }
  }
}

function log(wal: Wal, op: Op): void {
  if (op.kind === "series") wal.logSeries(op.tenant, op.ref, op.labels);
  else if (op.kind === "samples") {
    wal.logSamples(op.tenant, op.refs, op.ts, op.values);
  } else wal.logTombstones(op.tenant, op.refs, op.mint, op.maxt);
}

async function readAll(
  dir: string,
): Promise<{ recs: WalRecord[]; report: ReplayReport }> {
  const recs: WalRecord[] = [];
  const report = await replay(dir, (r) => {
    recs.push(r);
  }, { log: false });
  return { recs, report };
}

/** A seeded mix of every record kind over several tenants. */
function randomOps(prng: Prng, count: number, tenants: string[]): Op[] {
  const ops: Op[] = [];
  let nextRef = 0;
  for (let k = 0; k < count; k++) {
    const tenant = prng.pick(tenants);
    const roll = prng.float();
    if (roll < 0.35) {
      const pairs: [string, string][] = [["__name__", `metric_${k % 7}`]];
      for (let j = prng.int(0, 6); j > 0; j--) {
        pairs.push([
          `l${j}`,
          prng.pick(["a", "ünïcødé", "x".repeat(40), "日本", "🙂"]),
        ]);
      }
      ops.push({
        kind: "series",
        tenant,
        ref: nextRef++,
        labels: labelsFrom(pairs),
      });
    } else if (roll < 0.9) {
      const n = prng.int(0, 300);
      const refs = new Uint32Array(n);
      const ts = new Float64Array(n);
      const base = prng.int(-2e12, 2e12);
      for (let i = 0; i < n; i++) {
        refs[i] = prng.float() < 0.1 ? prng.u32() : prng.int(0, 5000);
        ts[i] = base + prng.int(-1e6, 1e6);
      }
      ops.push({
        kind: "samples",
        tenant,
        refs,
        ts,
        values: randomBitsValues(prng, n),
      });
    } else {
      const refs = Uint32Array.from(
        { length: prng.int(0, 20) },
        () => prng.u32(),
      );
      const mint = prng.int(-1e13, 1e13);
      ops.push({
        kind: "tombstones",
        tenant,
        refs,
        mint,
        maxt: mint + prng.int(0, 1e9),
      });
    }
  }
  return ops;
}

Deno.test("wal: every record kind round-trips, bit-exact values", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("special values and timestamps", async () => {
      const sub = join(dir, "special");
      const values = specialValues();
      const n = values.length;
      const ops: Op[] = [
        {
          kind: "series",
          tenant: "",
          ref: 0,
          labels: labelsFrom({ __name__: "up", job: "a" }),
        },
        { kind: "series", tenant: "", ref: 0xffffffff, labels: [] },
        {
          kind: "series",
          tenant: "tenant with spaces/ünï",
          ref: 7,
          labels: labelsFrom({ "ключ": "значение", "a.b-c": "🙂" }),
        },
        {
          kind: "samples",
          tenant: "",
          refs: Uint32Array.from(
            { length: n },
            (_, i) => [0, 0xffffffff, 3][i % 3],
          ),
          ts: Float64Array.from(
            { length: n },
            (_, i) => 1_700_000_000_000 + i * 15_000,
          ),
          values,
        },
        // Extreme timestamps: raw-timestamp mode must keep them exactly.
        {
          kind: "samples",
          tenant: "tenant with spaces/ünï",
          refs: new Uint32Array(6).fill(7),
          ts: new Float64Array([
            -Number.MAX_SAFE_INTEGER,
            Number.MAX_SAFE_INTEGER,
            0,
            -1,
            2 ** 52,
            -(2 ** 52),
          ]),
          values: values.slice(0, 6),
        },
        // Non-integer and NaN timestamps are kept exactly too.
        {
          kind: "samples",
          tenant: "",
          refs: new Uint32Array([1, 2, 3]),
          ts: new Float64Array([0.5, NaN, 1e300]),
          values: new Float64Array(
            new Uint32Array([2, 0x7ff00000, 1, 0x7ff00000, 0, 0]).buffer,
          ),
        },
        {
          kind: "samples",
          tenant: "",
          refs: new Uint32Array(0),
          ts: new Float64Array(0),
          values: new Float64Array(0),
        },
        {
          kind: "tombstones",
          tenant: "",
          refs: new Uint32Array([5, 1, 0xffffffff]),
          mint: -Number.MAX_SAFE_INTEGER,
          maxt: Number.MAX_SAFE_INTEGER,
        },
        {
          kind: "tombstones",
          tenant: "x",
          refs: new Uint32Array(0),
          mint: 5,
          maxt: 5,
        },
      ];
      const wal = await Wal.open(sub, { fsync: "never" });
      for (const op of ops) log(wal, op);
      await wal.close();
      const { recs, report } = await readAll(sub);
      // The empty SAMPLES batch logs nothing.
      assertOpsEqual(
        flatten(recs),
        ops.filter((o) => o.kind !== "samples" || o.refs.length > 0),
        "special",
      );
      assert.deepEqual(report.problems, []);
      // The stale marker keeps its exact bits.
      const first = recs.find((r) => r.kind === "samples")!;
      assert.equal(first.kind, "samples");
      const w = new Uint32Array(first.values.buffer, 0, 2);
      assert.deepEqual([w[0], w[1]], STALE_BITS);
    });

    for (const seed of [1, 2, 3, 42]) {
      await t.step(`random ops, seed ${seed}`, async () => {
        const sub = join(dir, `rand${seed}`);
        const prng = new Prng(seed);
        const ops = randomOps(prng, 400, ["a", "b", "ccc", "tenant-ü"]);
        const wal = await Wal.open(sub, { fsync: "never" });
        for (const op of ops) {
          log(wal, op);
          if (prng.float() < 0.2) await wal.commit();
        }
        await wal.close();
        const { recs, report } = await readAll(sub);
        const expected = ops.filter((o) =>
          o.kind !== "samples" || o.refs.length > 0
        );
        assertOpsEqual(flatten(recs), expected, `seed ${seed}`);
        assert.deepEqual(report.problems, [], `seed ${seed}`);
        assert.equal(
          report.samples,
          expected.reduce(
            (a, o) => a + (o.kind === "samples" ? o.refs.length : 0),
            0,
          ),
        );
        assert.equal(
          report.series,
          expected.filter((o) => o.kind === "series").length,
        );
      });
    }

    await t.step(
      "consecutive series of a tenant share one record",
      async () => {
        const sub = join(dir, "merge");
        const wal = await Wal.open(sub, { fsync: "never" });
        for (let i = 0; i < 100; i++) {
          wal.logSeries("t", i, labelsFrom({ i: String(i) }));
        }
        wal.logSeries("u", 100, labelsFrom({ i: "100" }));
        await wal.close();
        const { recs } = await readAll(sub);
        assert.deepEqual(
          recs.map((r) =>
            r.kind === "series" ? [r.tenant, r.series.length] : r.kind
          ),
          [["t", 100], ["u", 1]],
        );
      },
    );

    await t.step(
      "batches above MAX_SAMPLES_PER_RECORD split; n limits the batch",
      async () => {
        const sub = join(dir, "split");
        const n = MAX_SAMPLES_PER_RECORD + 5;
        const refs = new Uint32Array(n + 3);
        const ts = new Float64Array(n + 3);
        const values = new Float64Array(n + 3);
        for (let i = 0; i < n + 3; i++) {
          refs[i] = i % 1000;
          ts[i] = i;
          values[i] = i * 0.5;
        }
        const wal = await Wal.open(sub, { fsync: "never" });
        wal.logSamples("t", refs, ts, values, n);
        assert.throws(
          () => wal.logSamples("t", refs, ts, values, n + 4),
          RangeError,
        );
        await wal.close();
        const { recs } = await readAll(sub);
        assert.deepEqual(
          recs.map((r) => r.kind === "samples" ? r.refs.length : -1),
          [MAX_SAMPLES_PER_RECORD, 5],
        );
        const last = recs[1];
        assert.equal(last.kind, "samples");
        assert.deepEqual(
          Array.from(last.ts),
          [0, 1, 2, 3, 4].map((i) => i + MAX_SAMPLES_PER_RECORD),
        );
        assert.equal(last.values[4], (n - 1) * 0.5);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wal: segments rotate on size and cut(); reopen continues numbering", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const prng = new Prng(7);
    const segmentBytes = 4096;
    const wal = await Wal.open(dir, { fsync: "never", segmentBytes });
    assert.equal(wal.segment, 1);
    const ops = randomOps(prng, 300, ["a", "b"]);
    for (const op of ops) {
      log(wal, op);
      if (prng.float() < 0.5) await wal.commit();
    }
    const before = wal.segment;
    assert.ok(before > 5, `rotated to ${before}`);
    const cutAt = await wal.cut();
    assert.equal(cutAt, before + 1);
    // A cut with nothing logged since stays put.
    assert.equal(await wal.cut(), cutAt);
    const more = randomOps(prng, 20, ["c"]);
    for (const op of more) log(wal, op);
    const lastSeg = wal.segment;
    await wal.close();

    const listing = await listWal(dir);
    assert.deepEqual(
      listing.segments,
      Array.from({ length: lastSeg }, (_, i) => i + 1),
    );
    for (const s of listing.segments.slice(0, -1)) {
      const size =
        (await Deno.stat(join(dir, String(s).padStart(8, "0")))).size;
      // A record larger than the limit gets a segment to itself.
      assert.ok(
        size <= segmentBytes || size < 300 * 21 + 200,
        `segment ${s}: ${size} bytes`,
      );
    }
    const expect = [...ops, ...more].filter((o) =>
      o.kind !== "samples" || o.refs.length > 0
    );
    let { recs, report } = await readAll(dir);
    assertOpsEqual(flatten(recs), expect, "rotated");
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.gaps, []);

    // Reopen: a new segment after the last; old records still replay first.
    const again = await Wal.open(dir, { fsync: "never", segmentBytes });
    assert.equal(again.segment, lastSeg + 1);
    const extra: Op = {
      kind: "series",
      tenant: "a",
      ref: 99999,
      labels: labelsFrom({ z: "1" }),
    };
    log(again, extra);
    await again.close();
    ({ recs, report } = await readAll(dir));
    assertOpsEqual(flatten(recs), [...expect, extra], "reopened");
    assert.deepEqual(report.segments.at(-1), lastSeg + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wal: truncate writes a checkpoint of live series, then drops old segments", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wal = await Wal.open(dir, { fsync: "never", segmentBytes: 2048 });
    const labelsOf = (i: number) => labelsFrom({ __name__: "m", i: String(i) });
    for (let i = 0; i < 50; i++) {
      wal.logSeries(i % 2 ? "odd" : "even", i, labelsOf(i));
    }
    const refs = Uint32Array.from({ length: 50 }, (_, i) => i);
    for (let k = 0; k < 20; k++) {
      wal.logSamples(
        "even",
        refs,
        new Float64Array(50).fill(k * 1000),
        new Float64Array(50).fill(k),
      );
      await wal.commit();
    }
    const cutAt = await wal.cut();
    const after: Op[] = [
      { kind: "series", tenant: "even", ref: 50, labels: labelsOf(50) },
      {
        kind: "samples",
        tenant: "even",
        refs: new Uint32Array([0, 50]),
        ts: new Float64Array([1e6, 1e6]),
        values: new Float64Array([1, 2]),
      },
    ];
    for (const op of after) log(wal, op);
    await wal.commit();
    // Truncating the segment being written is refused.
    await assert.rejects(
      wal.truncate(wal.segment + 1, { series: [] }),
      RangeError,
    );

    const live = [0, 3, 4, 49].map((i) => ({
      tenant: i % 2 ? "odd" : "even",
      ref: i,
      labels: labelsOf(i),
    }));
    const tomb = {
      tenant: "odd",
      refs: new Uint32Array([3]),
      mint: 0,
      maxt: 5000,
    };
    await wal.truncate(cutAt, { series: live, tombstones: [tomb] });
    assert.equal(wal.checkpoint, cutAt - 1);
    let listing = await listWal(dir);
    assert.deepEqual(listing.checkpoints, [cutAt - 1]);
    assert.deepEqual(listing.segments, [cutAt]);

    let { recs, report } = await readAll(dir);
    assert.equal(report.checkpoint, cutAt - 1);
    assert.deepEqual(
      recs[0].kind === "checkpoint" && recs[0].covers,
      cutAt - 1,
    );
    const expected: Op[] = [
      ...live.map((s) => ({ kind: "series" as const, ...s })),
      { kind: "tombstones", ...tomb },
      ...after,
    ];
    assertOpsEqual(flatten(recs), expected, "after truncate");

    // A second truncation replaces the checkpoint.
    const cut2 = await wal.cut();
    await wal.truncate(cut2, { series: live.slice(0, 1) });
    await wal.close();
    listing = await listWal(dir);
    assert.deepEqual(listing.checkpoints, [cut2 - 1]);
    // The segment after the cut holds no record yet, so it was never created.
    assert.deepEqual(listing.segments, []);
    ({ recs, report } = await readAll(dir));
    assertOpsEqual(
      flatten(recs),
      [{ kind: "series", ...live[0] }],
      "second truncate",
    );
    assert.deepEqual(report.problems, []);

    // Reopen after a checkpoint: numbering continues past it.
    const again = await Wal.open(dir, { fsync: "never" });
    assert.equal(again.segment, cut2);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wal: open finishes an interrupted truncation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wal = await Wal.open(dir, { fsync: "never", segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) {
      wal.logSeries("t", i, labelsFrom({ i: String(i), pad: "p".repeat(50) }));
      await wal.commit();
    }
    const cutAt = await wal.cut();
    wal.logSeries("t", 1000, labelsFrom({ after: "cut" }));
    await wal.close();
    const listing = await listWal(dir);
    const copy = join(dir, "copy");
    await Deno.mkdir(copy);
    const restore = async () => {
      for (const s of listing.segments) {
        const name = String(s).padStart(8, "0");
        await Deno.copyFile(join(dir, name), join(copy, name));
      }
    };
    await restore();
    const real = await Wal.open(copy, { fsync: "never" });
    await real.truncate(cutAt, {
      series: [{ tenant: "t", ref: 5, labels: labelsFrom({ i: "5" }) }],
    });
    await real.close();
    // Simulate a crash after the checkpoint's rename but before the
    // deletions, plus a checkpoint left half-written.
    await restore();
    await Deno.writeTextFile(join(copy, "checkpoint.00000099.tmp"), "half");

    // Replay skips the covered segments even before open cleans up.
    let { recs } = await readAll(copy);
    assertOpsEqual(flatten(recs), [
      { kind: "series", tenant: "t", ref: 5, labels: labelsFrom({ i: "5" }) },
      {
        kind: "series",
        tenant: "t",
        ref: 1000,
        labels: labelsFrom({ after: "cut" }),
      },
    ], "before cleanup");
    const reopened = await Wal.open(copy, { fsync: "never" });
    await reopened.close();
    const after = await listWal(copy);
    assert.deepEqual(after.temporary, []);
    assert.ok(after.segments.every((s) => s >= cutAt), `${after.segments}`);
    ({ recs } = await readAll(copy));
    assert.equal(flatten(recs).length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wal: concurrent commits never interleave and share writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const prng = new Prng(99);
    const wal = await Wal.open(dir, {
      fsync: "never",
      segmentBytes: 64 * 1024,
    });
    const batches = new Map<number, Op>();
    const callers = Array.from({ length: 16 }, async (_, c) => {
      for (let k = 0; k < 25; k++) {
        const id = c * 1000 + k;
        const n = 1 + ((id * 7) % 90);
        const op: Op = {
          kind: "samples",
          tenant: `caller-${c}`,
          refs: Uint32Array.from({ length: n }, (_, i) => id + i),
          ts: Float64Array.from({ length: n }, () => id),
          values: randomBitsValues(prng, n),
        };
        batches.set(id, op);
        log(wal, op);
        if (k % 3 === 0) await new Promise((r) => setTimeout(r, 0));
        await wal.commit();
      }
    });
    await Promise.all(callers);
    const commits = 16 * 25;
    assert.ok(
      wal.stats.flushes < commits,
      `flushes ${wal.stats.flushes} < commits ${commits}`,
    );
    await wal.close();
    const { recs, report } = await readAll(dir);
    assert.deepEqual(report.problems, []);
    const seen = new Set<number>();
    for (const r of recs) {
      assert.equal(r.kind, "samples");
      if (r.kind !== "samples") continue;
      const id = r.ts[0];
      assert.ok(!seen.has(id), `batch ${id} once`);
      seen.add(id);
      assertOpsEqual([r], [batches.get(id)!], `batch ${id}`);
    }
    assert.equal(seen.size, commits);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wal: fsync policies", async (t) => {
  const dir = await Deno.makeTempDir();
  const one = (wal: Wal) =>
    wal.logSamples(
      "t",
      new Uint32Array([1]),
      new Float64Array([1]),
      new Float64Array([1]),
    );
  try {
    await t.step("always: a sync per commit", async () => {
      const wal = await Wal.open(join(dir, "always"), { fsync: "always" });
      for (let i = 0; i < 5; i++) {
        one(wal);
        await wal.commit();
      }
      assert.equal(wal.stats.syncs, 5);
      await wal.close();
      assert.equal(wal.stats.syncs, 5);
    });
    await t.step("never: only on close", async () => {
      const wal = await Wal.open(join(dir, "never"), { fsync: "never" });
      for (let i = 0; i < 5; i++) {
        one(wal);
        await wal.commit();
      }
      assert.equal(wal.stats.syncs, 0);
      await wal.close();
      assert.equal(wal.stats.syncs, 1);
    });
    await t.step("never: syncs each segment it leaves", async () => {
      const wal = await Wal.open(join(dir, "never-rot"), { fsync: "never" });
      one(wal);
      await wal.cut();
      one(wal);
      await wal.commit();
      assert.equal(wal.stats.syncs, 1);
      await wal.close();
      assert.equal(wal.stats.syncs, 2);
    });
    await t.step("interval: syncs in the background", async () => {
      const wal = await Wal.open(join(dir, "interval"), {
        fsync: "interval",
        fsyncIntervalMs: 20,
      });
      one(wal);
      await wal.commit();
      assert.equal(wal.stats.syncs, 0);
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(wal.stats.syncs, 1);
      await wal.close();
      assert.equal(wal.stats.syncs, 1);
    });
    await t.step("closed WAL refuses work", async () => {
      const wal = await Wal.open(join(dir, "closed"), { fsync: "never" });
      await wal.close();
      await wal.close();
      assert.throws(() => one(wal), /closed/);
      await assert.rejects(wal.commit(), /closed/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
