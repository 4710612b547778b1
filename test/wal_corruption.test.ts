import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { crc32c } from "../src/codec/crc32c.ts";
import { labelsFrom } from "../src/model/labels.ts";
import {
  listWal,
  replay,
  type ReplayReport,
  Wal,
  type WalRecord,
} from "../src/storage/wal/mod.ts";
import { Prng } from "../src/util/prng.ts";

const HEADER = 8;

/** A record as a comparable string (arrays as hex bytes, so NaN bits count). */
function canon(r: WalRecord): string {
  return JSON.stringify(r, (_k, v) => {
    if (v instanceof Float64Array || v instanceof Uint32Array) {
      return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
        .map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    return v;
  });
}

interface Seen {
  key: string; // "<file>:<offset>"
  end: number;
  canon: string;
}

async function readAll(
  dir: string,
  repair = true,
): Promise<{ seen: Seen[]; report: ReplayReport }> {
  const seen: Seen[] = [];
  const report = await replay(dir, (r, pos) => {
    seen.push({
      key: `${basename(pos.file)}:${pos.offset}`,
      end: pos.end,
      canon: canon(r),
    });
  }, { log: false, repair });
  return { seen, report };
}

/** Record boundaries by walking the framing alone (independent of the reader). */
function boundaries(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out = [HEADER];
  let p = HEADER;
  while (p < bytes.length) {
    p += 9 + view.getUint32(p + 1, true);
    out.push(p);
  }
  assert.equal(p, bytes.length, "framing walk ends at the file end");
  return out;
}

/** Writes a WAL of mixed records; returns the file bytes by name. */
async function buildWal(
  dir: string,
  seed: number,
  ops: number,
  segmentBytes: number,
): Promise<Map<string, Uint8Array>> {
  const prng = new Prng(seed);
  const wal = await Wal.open(dir, { fsync: "never", segmentBytes });
  let ref = 0;
  for (let k = 0; k < ops; k++) {
    const tenant = prng.pick(["a", "bb", "ü"]);
    const roll = prng.float();
    if (roll < 0.3) {
      wal.logSeries(tenant, ref++, labelsFrom({ __name__: "m", k: String(k) }));
    } else if (roll < 0.9) {
      const n = prng.int(1, 12);
      const values = new Float64Array(n);
      const u = new Uint32Array(values.buffer);
      for (let i = 0; i < u.length; i++) u[i] = prng.u32();
      wal.logSamples(
        tenant,
        Uint32Array.from({ length: n }, () => prng.int(0, ref)),
        Float64Array.from({ length: n }, () => 1e12 + prng.int(0, 1e5)),
        values,
      );
    } else {
      wal.logTombstones(tenant, new Uint32Array([prng.int(0, ref)]), 0, k);
    }
    if (prng.float() < 0.3) await wal.commit();
  }
  await wal.close();
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    files.set(e.name, await Deno.readFile(join(dir, e.name)));
  }
  return files;
}

async function writeFiles(
  dir: string,
  files: Map<string, Uint8Array>,
): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) {
    await Deno.writeFile(join(dir, name), bytes);
  }
}

/** Captures console.warn/error while `fn` runs. */
async function capture<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; warns: string[]; errors: string[] }> {
  const warns: string[] = [];
  const errors: string[] = [];
  const { warn, error } = console;
  console.warn = (...a: unknown[]) => warns.push(a.join(" "));
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    return { value: await fn(), warns, errors };
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

Deno.test("wal corruption: every truncation point of the last segment", async () => {
  const root = await Deno.makeTempDir();
  try {
    const files = await buildWal(join(root, "src"), 5, 60, 1 << 30);
    assert.deepEqual([...files.keys()], ["00000001"]);
    const full = files.get("00000001")!;
    const bounds = boundaries(full);
    const { seen: all } = await readAll(join(root, "src"));
    assert.ok(all.length > 40 && full.length > 2000, `${all.length} records`);
    const dir = join(root, "cut");
    await Deno.mkdir(dir);
    const seg = join(dir, "00000001");
    for (let c = 0; c <= full.length; c++) {
      await Deno.writeFile(seg, full.subarray(0, c));
      const { seen, report } = await readAll(dir);
      const msg = `cut at ${c}`;
      assert.deepEqual(seen, all.filter((r) => r.end <= c), msg);
      const good = c < HEADER ? 0 : bounds.filter((b) => b <= c).at(-1)!;
      if (good === c) {
        assert.deepEqual(report.problems, [], msg);
      } else {
        assert.equal(report.problems.length, 1, msg);
        const p = report.problems[0];
        assert.equal(p.truncated, true, msg);
        assert.equal(p.kind, "torn", msg);
        assert.equal(p.offset, c < HEADER ? 0 : good, msg);
      }
      assert.equal((await Deno.stat(seg)).size, good, `${msg}: repaired size`);
      // Some cuts: the writer continues after the repaired tail.
      if (c % 97 === 0 || c === full.length - 1) {
        const wal = await Wal.open(dir, { fsync: "never", log: false });
        wal.logSeries("after", 1, labelsFrom({ a: "1" }));
        await wal.close();
        const again = await readAll(dir);
        assert.deepEqual(again.report.problems, [], msg);
        assert.deepEqual(
          again.seen.slice(0, -1),
          all.filter((r) => r.end <= c),
        );
        assert.match(again.seen.at(-1)!.canon, /"after"/);
        await Deno.remove(dir, { recursive: true });
        await Deno.mkdir(dir);
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wal corruption: open() repairs a torn tail without a replay first", async () => {
  const root = await Deno.makeTempDir();
  try {
    const files = await buildWal(root, 6, 30, 1 << 30);
    const full = files.get("00000001")!;
    const { seen: all } = await readAll(root);
    const cut = full.length - 3;
    await Deno.writeFile(join(root, "00000001"), full.subarray(0, cut));
    const { warns } = await capture(async () => {
      const wal = await Wal.open(root, { fsync: "never" });
      wal.logSeries("x", 1, labelsFrom({ a: "b" }));
      await wal.close();
    });
    assert.equal(warns.length, 1);
    assert.match(warns[0], /torn tail/);
    const { seen, report } = await readAll(root);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(seen.slice(0, -1), all.filter((r) => r.end <= cut));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wal corruption: random byte flips never crash nor yield a wrong record", async () => {
  const root = await Deno.makeTempDir();
  try {
    const files = await buildWal(join(root, "src"), 11, 300, 2048);
    const names = [...files.keys()].sort();
    assert.ok(names.length >= 5, `${names.length} segments`);
    const { seen: all } = await readAll(join(root, "src"));
    const byKey = new Map(all.map((s) => [s.key, s]));
    const starts = new Map(names.map((n) => [n, boundaries(files.get(n)!)]));
    const dir = join(root, "trial");
    for (let trial = 0; trial < 250; trial++) {
      const seed = 1000 + trial;
      const prng = new Prng(seed);
      const victim = prng.pick(names);
      const bytes = files.get(victim)!.slice();
      // Distinct positions (two flips of one byte could cancel out); the
      // reserved header bytes 5-7 are not checked, so they don't count.
      const flips = new Set<number>();
      for (let k = prng.int(1, 3); k > 0; k--) {
        flips.add(prng.int(0, bytes.length - 1));
      }
      for (const at of flips) bytes[at] ^= prng.int(1, 255);
      const counted = [...flips].filter((at) => at < 5 || at >= HEADER);
      const first = counted.length ? Math.min(...counted) : Infinity;
      const mutated = new Map(files);
      mutated.set(victim, bytes);
      await writeFiles(dir, mutated);
      const { seen, report } = await readAll(dir);
      const msg = `seed ${seed}, ${victim} first flip at ${first}`;
      for (const s of seen) {
        assert.equal(s.canon, byKey.get(s.key)?.canon, `${msg}: ${s.key}`);
      }
      // Exactly: every record of other files, and the victim's records
      // wholly before the damaged one (header bytes 5-7 are reserved).
      const victimBounds = starts.get(victim)!;
      const damagedStart = first < 5
        ? -1
        : first === Infinity
        ? Infinity
        : victimBounds.filter((b) => b <= first).at(-1)!;
      const expected = all.filter((s) => {
        const [file, off] = s.key.split(":");
        return file !== victim || Number(off) < damagedStart &&
            s.end <= damagedStart;
      });
      assert.deepEqual(seen.map((s) => s.key), expected.map((s) => s.key), msg);
      if (damagedStart !== Infinity) {
        assert.equal(report.problems.length, 1, msg);
        assert.equal(report.problems[0].file, join(dir, victim), msg);
        assert.equal(
          report.problems[0].truncated,
          victim === names.at(-1),
          msg,
        );
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wal corruption: empty, zero-filled and garbage segments", async (t) => {
  const root = await Deno.makeTempDir();
  try {
    const files = await buildWal(join(root, "src"), 21, 120, 2048);
    const names = [...files.keys()].sort();
    const { seen: all } = await readAll(join(root, "src"));
    const last = names.at(-1)!;
    const lastNo = Number(last);
    const nameOf = (n: number) => String(n).padStart(8, "0");
    const dir = join(root, "case");
    const keysOf = (seen: { key: string }[]) => seen.map((s) => s.key);

    await t.step(
      "zero-length segments in the middle and at the end",
      async () => {
        const m = new Map(files);
        m.set(nameOf(lastNo + 1), new Uint8Array(0));
        await writeFiles(dir, m);
        let r = await readAll(dir);
        assert.deepEqual(r.report.problems, []);
        assert.deepEqual(keysOf(r.seen), keysOf(all));
        // Add a later segment: the empty one is now in the middle.
        const wal = await Wal.open(dir, { fsync: "never" });
        wal.logSeries("z", 1, labelsFrom({ z: "1" }));
        await wal.close();
        r = await readAll(dir);
        assert.deepEqual(r.report.problems, []);
        assert.equal(r.seen.length, all.length + 1);
        assert.deepEqual(r.report.segments.at(-1), lastNo + 2);
      },
    );

    await t.step(
      "zero-filled last segment (preallocated) is emptied",
      async () => {
        const m = new Map(files);
        m.set(nameOf(lastNo + 1), new Uint8Array(4096));
        await writeFiles(dir, m);
        const { value: r, warns, errors } = await capture(() =>
          replay(dir, () => {})
        );
        assert.equal(r.problems.length, 1);
        assert.equal(r.problems[0].kind, "zeros");
        assert.equal(r.problems[0].truncated, true);
        assert.equal(warns.length, 1);
        assert.equal(errors.length, 0);
        assert.equal((await Deno.stat(join(dir, nameOf(lastNo + 1)))).size, 0);
      },
    );

    await t.step("zeros after the last record are cut off", async () => {
      const m = new Map(files);
      const tail = files.get(last)!;
      const padded = new Uint8Array(tail.length + 1000);
      padded.set(tail);
      m.set(last, padded);
      await writeFiles(dir, m);
      const r = await readAll(dir);
      assert.deepEqual(keysOf(r.seen), keysOf(all));
      assert.equal(r.report.problems[0].kind, "zeros");
      assert.equal(r.report.problems[0].offset, tail.length);
      assert.equal((await Deno.stat(join(dir, last))).size, tail.length);
    });

    await t.step(
      "zero-filled middle segment is reported, later ones replay",
      async () => {
        const m = new Map(files);
        const mid = names[1];
        m.set(mid, new Uint8Array(files.get(mid)!.length));
        await writeFiles(dir, m);
        const { value: r, errors } = await capture(() => readAll(dir, true));
        assert.deepEqual(
          keysOf(r.seen),
          keysOf(all.filter((s) => !s.key.startsWith(mid))),
        );
        assert.equal(r.report.problems.length, 1);
        assert.equal(r.report.problems[0].kind, "zeros");
        assert.equal(r.report.problems[0].truncated, false);
        assert.equal(errors.length, 0, "log: false is silent");
      },
    );

    await t.step(
      "corrupt middle segment: loud, skipped from there, later segments replay",
      async () => {
        const m = new Map(files);
        const mid = names[2];
        const bytes = files.get(mid)!.slice();
        const b = boundaries(bytes);
        const at = b[Math.floor(b.length / 2)] + 12;
        bytes[at] ^= 0x40;
        m.set(mid, bytes);
        await writeFiles(dir, m);
        const seen: string[] = [];
        const { value: r, errors, warns } = await capture(() =>
          replay(dir, (_r, pos) => {
            seen.push(`${basename(pos.file)}:${pos.offset}`);
          })
        );
        const cutOff = b.filter((x) => x <= at).at(-1)!;
        assert.deepEqual(
          seen,
          keysOf(all.filter((s) => {
            const [f, o] = s.key.split(":");
            return f !== mid || Number(o) < cutOff;
          })),
        );
        assert.equal(r.problems.length, 1);
        assert.equal(r.problems[0].kind, "corrupt");
        assert.equal(r.problems[0].offset, cutOff);
        assert.equal(r.problems[0].truncated, false);
        assert.equal(warns.length, 0);
        assert.equal(errors.length, 1);
        assert.match(errors[0], /SKIPPED/);
        assert.deepEqual(
          files.get(mid)!.length,
          (await Deno.stat(join(dir, mid))).size,
        );
      },
    );

    await t.step(
      "garbage tail on the last segment is cut with a warning",
      async () => {
        const m = new Map(files);
        const tail = files.get(last)!;
        const prng = new Prng(77);
        const junk = Uint8Array.from({ length: 300 }, () => prng.int(1, 255));
        const bytes = new Uint8Array(tail.length + junk.length);
        bytes.set(tail);
        bytes.set(junk, tail.length);
        m.set(last, bytes);
        await writeFiles(dir, m);
        const { value: r, warns } = await capture(() => readAll(dir));
        assert.deepEqual(keysOf(r.seen), keysOf(all));
        assert.equal(r.report.problems[0].truncated, true);
        assert.equal((await Deno.stat(join(dir, last))).size, tail.length);
        assert.equal(warns.length, 0, "log: false is silent");
      },
    );

    await t.step("a record claiming a huge length", async () => {
      for (const len of [0xfffffff0, 64 * 1024 * 1024 + 1, 60 * 1024 * 1024]) {
        const m = new Map(files);
        const tail = files.get(last)!;
        const bytes = new Uint8Array(tail.length + 9 + 20);
        bytes.set(tail);
        bytes[tail.length] = 3;
        new DataView(bytes.buffer).setUint32(tail.length + 1, len, true);
        m.set(last, bytes);
        await writeFiles(dir, m);
        const r = await readAll(dir);
        assert.deepEqual(keysOf(r.seen), keysOf(all), `len ${len}`);
        assert.equal(r.report.problems[0].offset, tail.length, `len ${len}`);
        assert.equal(
          r.report.problems[0].kind,
          len > 64 * 1024 * 1024 ? "corrupt" : "torn",
          `len ${len}`,
        );
      }
    });

    await t.step("bad magic and unsupported version", async () => {
      for (
        const [at, value, re] of [[0, 0x58, /magic/], [
          4,
          9,
          /version/,
        ]] as const
      ) {
        const m = new Map(files);
        const bytes = files.get(names[0])!.slice();
        bytes[at] = value;
        m.set(names[0], bytes);
        await writeFiles(dir, m);
        const r = await readAll(dir);
        assert.deepEqual(
          keysOf(r.seen),
          keysOf(all.filter((s) => !s.key.startsWith(names[0]))),
        );
        assert.match(r.report.problems[0].message, re);
      }
    });

    await t.step(
      "records with a valid checksum but a bad payload are refused",
      async () => {
        const record = (type: number, payload: number[]) => {
          const p = Uint8Array.from(payload);
          const out = new Uint8Array(9 + p.length);
          out[0] = type;
          const v = new DataView(out.buffer);
          v.setUint32(1, p.length, true);
          v.setUint32(5, crc32c(p, crc32c(Uint8Array.of(type))), true);
          out.set(p, 9);
          return out;
        };
        const cases: [string, Uint8Array][] = [
          ["unknown tenant id", record(2, [5, 1, 0])],
          ["unknown record type", record(9, [1, 2, 3])],
          ["sample count beyond the payload", record(3, [50, 100, 0])],
          ["trailing bytes", record(5, new Array(13).fill(0))],
          ["invalid UTF-8 tenant", record(1, [51, 2, 0xc3, 0x28])],
        ];
        for (const [what, rec] of cases) {
          const m = new Map(files);
          const tail = files.get(last)!;
          // A fresh TENANT record first (id 50 = "t"), itself good.
          const tenant = record(1, [50, 1, 0x74]);
          const bytes = new Uint8Array(
            tail.length + tenant.length + rec.length,
          );
          bytes.set(tail);
          bytes.set(tenant, tail.length);
          bytes.set(rec, tail.length + tenant.length);
          m.set(last, bytes);
          await writeFiles(dir, m);
          const r = await readAll(dir);
          assert.deepEqual(keysOf(r.seen), keysOf(all), what);
          assert.equal(r.report.problems.length, 1, what);
          assert.equal(r.report.problems[0].kind, "corrupt", what);
          assert.equal(
            r.report.problems[0].offset,
            tail.length + tenant.length,
            what,
          );
        }
      },
    );

    await t.step(
      "a corrupt checkpoint is reported; segments after it replay",
      async () => {
        await writeFiles(dir, files);
        const wal = await Wal.open(dir, { fsync: "never" });
        const before = await wal.cut();
        await wal.truncate(before, {
          series: [{ tenant: "t", ref: 1, labels: labelsFrom({ a: "1" }) }],
        });
        wal.logSeries("t", 2, labelsFrom({ a: "2" }));
        await wal.close();
        const cp = join(
          dir,
          (await listWal(dir)).checkpoints.map((c) =>
            `checkpoint.${nameOf(c)}`
          )[0],
        );
        const bytes = await Deno.readFile(cp);
        bytes[bytes.length - 2] ^= 1;
        await Deno.writeFile(cp, bytes);
        const r = await readAll(dir);
        assert.equal(r.report.problems.length, 1);
        assert.equal(r.report.problems[0].file, cp);
        assert.equal(r.report.problems[0].truncated, false);
        assert.deepEqual(r.seen.map((s) => JSON.parse(s.canon).kind), [
          "checkpoint",
          "series",
        ]);
        assert.match(r.seen[1].canon, /"value":"2"/);
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
