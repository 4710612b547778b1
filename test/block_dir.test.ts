// A tenant's blocks directory: crash safety of writes (leftover *.tmp
// directories, a series source that fails mid-write), listing sorted by
// time with corrupt blocks reported, deletion, and tenant path escaping.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import {
  BlockCorruptError,
  BlockReader,
  type BlockSeriesInput,
  deleteBlock,
  escapeTenant,
  listBlocks,
  removeTmpBlocks,
  tenantBlocksDir,
  writeBlock,
} from "../src/storage/block/mod.ts";
import { withTempDir } from "./_block_helpers.ts";

const XOR_ONE = new Uint8Array([0, 1, 0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]); // t=1, v=1

/** `n` series of one sample each at `t` (the chunk's bytes say t = 1; only the index's times matter here). */
function series(n: number, t = 1): BlockSeriesInput[] {
  return Array.from({ length: n }, (_, i) => ({
    labels: labelsFrom({ __name__: "m", i: String(i) }),
    chunks: [{ minTime: t, maxTime: t, data: XOR_ONE }],
  }));
}

Deno.test("a write that fails mid-way leaves no block and no tmp dir", async () => {
  await withTempDir(async (tmp) => {
    function* failing(): Generator<BlockSeriesInput> {
      yield* series(50);
      throw new Error("disk on fire");
    }
    await assert.rejects(
      writeBlock(tmp, {
        tenant: "t",
        minTime: 0,
        maxTime: 10,
        series: failing(),
      }),
      /disk on fire/,
    );
    const left = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    assert.deepEqual(left, []);
  });
});

Deno.test("a crashed write (leftover tmp dir) is invisible and removed at start-up", async () => {
  await withTempDir(async (tmp) => {
    const good = await writeBlock(tmp, {
      tenant: "t",
      minTime: 0,
      maxTime: 10,
      series: series(3),
    });
    // Simulate a process killed while writing: a half-written tmp dir,
    // and one killed while deleting.
    const crashed = `${tmp}/01KZZZZZZZZZZZZZZZZZZZZZZZ.tmp`;
    await Deno.mkdir(crashed);
    await Deno.writeFile(`${crashed}/chunks`, new Uint8Array(100));
    await Deno.mkdir(`${tmp}/01KYYYYYYYYYYYYYYYYYYYYYYY.deleted.tmp`);
    const listing = await listBlocks(tmp);
    assert.deepEqual(listing.blocks.map((b) => b.id), [good.id]);
    assert.deepEqual(listing.corrupt, []);
    const removed = await removeTmpBlocks(tmp);
    assert.equal(removed.length, 2);
    const left = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    assert.deepEqual(left, [good.id]);
    (await BlockReader.open(good.dir)).close();
  });
});

Deno.test("listBlocks: sorted by time, corrupt and foreign blocks reported", async () => {
  await withTempDir(async (tmp) => {
    const mk = (minTime: number, maxTime: number, tenant = "t") =>
      writeBlock(tmp, { tenant, minTime, maxTime, series: series(2, minTime) });
    const c = await mk(200, 300);
    const a = await mk(0, 100);
    const b = await mk(100, 200);
    const foreign = await mk(300, 400, "other");
    const broken = await mk(400, 500);
    const text = await Deno.readTextFile(`${broken.dir}/meta.json`);
    await Deno.writeTextFile(
      `${broken.dir}/meta.json`,
      text.replace('"numSeries": 2', '"numSeries": 3'),
    );
    const listing = await listBlocks(tmp, "t");
    assert.deepEqual(listing.blocks.map((x) => x.id), [a.id, b.id, c.id]);
    assert.deepEqual(
      listing.corrupt.map((x) => x.dir).sort(),
      [foreign.dir, broken.dir].sort(),
    );
    for (const x of listing.corrupt) {
      assert.ok(x.error instanceof BlockCorruptError);
    }
    assert.deepEqual((await listBlocks(`${tmp}/none`)).blocks, []);
  });
});

Deno.test("a block copied under another name is refused", async () => {
  await withTempDir(async (tmp) => {
    const b = await writeBlock(tmp, {
      tenant: "t",
      minTime: 0,
      maxTime: 10,
      series: series(1),
    });
    const other = `${tmp}/01AAAAAAAAAAAAAAAAAAAAAAAA`;
    await Deno.rename(b.dir, other);
    await assert.rejects(BlockReader.open(other), BlockCorruptError);
  });
});

Deno.test("deleteBlock removes the block", async () => {
  await withTempDir(async (tmp) => {
    const a = await writeBlock(tmp, {
      tenant: "t",
      minTime: 0,
      maxTime: 10,
      series: series(1),
    });
    const b = await writeBlock(tmp, {
      tenant: "t",
      minTime: 10,
      maxTime: 20,
      series: [],
    });
    await deleteBlock(a.dir);
    assert.deepEqual((await listBlocks(tmp)).blocks.map((x) => x.id), [b.id]);
    const left = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    assert.deepEqual(left, [b.id]);
  });
});

Deno.test("tenant ids escape to distinct safe path segments", () => {
  const ids = ["", ".", "..", "a/b", "a%2Fb", "acme", "ACME", "ü", "a b", "-_"];
  const escaped = ids.map(escapeTenant);
  assert.equal(new Set(escaped).size, ids.length);
  for (const e of escaped) {
    assert.match(e, /^[A-Za-z0-9_%-]+$/);
    assert.ok(e !== "." && e !== "..");
  }
  assert.equal(escapeTenant("acme-1_x"), "acme-1_x");
  assert.equal(escapeTenant("a/b"), "a%2Fb");
  assert.equal(escapeTenant("ü"), "%C3%BC");
  assert.equal(tenantBlocksDir("/data", "a.b"), "/data/tenants/a%2Eb/blocks");
});
