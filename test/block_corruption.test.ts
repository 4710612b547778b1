// Damaged blocks: every flipped byte of meta.json, the index and the chunks
// file is caught as BlockCorruptError (at open, or when the damaged chunk is
// read); undamaged chunks still read back exactly; truncated and missing
// files; the index parser never throws anything but DecodeError even when
// the damage comes with recomputed CRCs.
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/mod.ts";
import { crc32c } from "../src/codec/crc32c.ts";
import {
  BlockCorruptError,
  BlockReader,
  writeBlock,
  type WrittenBlock,
} from "../src/storage/block/mod.ts";
import { DecodeError } from "../src/storage/block/errors.ts";
import { TOC_SIZE } from "../src/storage/block/format.ts";
import { IndexReader } from "../src/storage/block/index_reader.ts";
import { generateWorkload } from "../bench/data/generator.ts";
import { Prng } from "../src/util/prng.ts";
import { toBlockSeries, withTempDir } from "./_block_helpers.ts";

const engine = await loadEngine();
const START = Date.UTC(2026, 0, 1);

async function smallBlock(dir: string): Promise<WrittenBlock> {
  const workload = generateWorkload({
    instances: 1,
    durationMs: 40 * 60_000,
    startMs: START,
  }).slice(0, 40);
  return await writeBlock(dir, {
    tenant: "acme",
    minTime: START,
    maxTime: START + 3600_000,
    series: workload.map((s) => toBlockSeries(engine, s)),
  });
}

/** Everything a reader returns: labels and chunk bytes, or the error. */
async function readAll(dir: string): Promise<Uint8Array[] | Error> {
  let r: BlockReader;
  try {
    r = await BlockReader.open(dir);
  } catch (e) {
    return e as Error;
  }
  const out: Uint8Array[] = [];
  try {
    for (const s of r.series()) {
      out.push(new TextEncoder().encode(JSON.stringify(s.labels)));
      for (const c of s.chunks) {
        try {
          out.push(r.chunk(c).slice());
        } catch (e) {
          if (!(e instanceof BlockCorruptError)) throw e;
          out.push(new Uint8Array(0)); // reported, skipped
        }
      }
    }
  } finally {
    r.close();
  }
  return out;
}

function positions(size: number, rng: Prng, budget: number): number[] {
  if (size <= budget) return Array.from({ length: size }, (_, i) => i);
  const set = new Set<number>();
  for (let i = 0; i < 16; i++) set.add(i);
  for (let i = size - 80; i < size; i++) set.add(i);
  while (set.size < budget) set.add(rng.int(0, size - 1));
  return [...set].sort((a, b) => a - b);
}

Deno.test("every flipped byte is reported, never returned", async (t) => {
  await withTempDir(async (tmp) => {
    const block = await smallBlock(tmp);
    const good = await readAll(block.dir);
    assert.ok(Array.isArray(good));
    const seed = 4242;
    const rng = new Prng(seed);
    for (const file of ["meta.json", "index", "chunks"]) {
      await t.step(file, async () => {
        const path = `${block.dir}/${file}`;
        const original = await Deno.readFile(path);
        let caught = 0;
        for (const pos of positions(original.length, rng, 400)) {
          const bad = original.slice();
          bad[pos] ^= rng.int(1, 255);
          await Deno.writeFile(path, bad);
          const got = await readAll(block.dir);
          const where = `seed ${seed}, ${file} byte ${pos}`;
          if (got instanceof Error) {
            assert.ok(got instanceof BlockCorruptError, `${where}: ${got}`);
            caught++;
            continue;
          }
          // Opened: only chunk reads may fail, and every other chunk is intact.
          assert.equal(file, "chunks", `${where}: opened despite damage`);
          assert.equal(got.length, good.length, where);
          let skipped = 0;
          got.forEach((b, i) => {
            if (b.length === 0 && good[i].length !== 0) skipped++;
            else assert.deepEqual(b, good[i], `${where}: item ${i}`);
          });
          assert.ok(skipped >= 1, `${where}: damage not detected`);
          caught++;
        }
        await Deno.writeFile(path, original);
        assert.ok(caught > 0);
      });
    }
    assert.deepEqual(await readAll(block.dir), good);
  });
});

Deno.test("truncated and missing files", async (t) => {
  await withTempDir(async (tmp) => {
    const block = await smallBlock(tmp);
    for (const file of ["meta.json", "index", "chunks"]) {
      const path = `${block.dir}/${file}`;
      const original = await Deno.readFile(path);
      for (
        const keep of [0, 1, 7, 8, original.length >> 1, original.length - 1]
      ) {
        await t.step(`${file} cut to ${keep} bytes`, async () => {
          await Deno.writeFile(path, original.subarray(0, keep));
          await assert.rejects(BlockReader.open(block.dir), BlockCorruptError);
        });
      }
      await t.step(`${file} missing`, async () => {
        await Deno.remove(path);
        await assert.rejects(BlockReader.open(block.dir), BlockCorruptError);
      });
      await Deno.writeFile(path, original);
    }
    (await BlockReader.open(block.dir)).close();
  });
});

Deno.test("chunks file truncated after open: reads fail typed", async () => {
  await withTempDir(async (tmp) => {
    const block = await smallBlock(tmp);
    const r = await BlockReader.open(block.dir);
    await Deno.truncate(`${block.dir}/chunks`, 100);
    let failed = 0;
    for (const s of r.series()) {
      for (const c of s.chunks) {
        try {
          r.chunk(c);
        } catch (e) {
          assert.ok(e instanceof BlockCorruptError, String(e));
          failed++;
        }
      }
    }
    assert.equal(failed, block.numChunks);
    assert.throws(() => r.verifyChunksFile(), BlockCorruptError);
    r.close();
  });
});

/** Recomputes section and TOC CRCs so that damage reaches the parser. */
function fixCrcs(bytes: Uint8Array): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const toc = bytes.length - TOC_SIZE;
  for (let k = 0; k < 4; k++) {
    const start = dv.getUint32(toc + 16 * k + 4);
    const len = dv.getUint32(toc + 16 * k + 12);
    dv.setUint32(start + len, crc32c(bytes.subarray(start, start + len)));
  }
  dv.setUint32(bytes.length - 4, crc32c(bytes.subarray(toc, bytes.length - 4)));
}

Deno.test("index parser: damage with valid CRCs throws only DecodeError", async () => {
  await withTempDir(async (tmp) => {
    const block = await smallBlock(tmp);
    const original = await Deno.readFile(`${block.dir}/index`);
    const bounds = {
      minTime: block.minTime,
      maxTime: block.maxTime,
      chunksSize: block.files.chunks.size,
    };
    new IndexReader(original, bounds); // the intact index parses
    const seed = 99;
    const rng = new Prng(seed);
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const bad = original.slice();
      const flips = rng.int(1, 4);
      for (let f = 0; f < flips; f++) {
        bad[rng.int(8, original.length - TOC_SIZE - 5)] = rng.int(0, 255);
      }
      fixCrcs(bad);
      try {
        const idx = new IndexReader(bad, bounds);
        // Whatever parsed must be readable without surprises.
        for (let id = 0; id < idx.numSeries; id++) idx.series(id);
      } catch (e) {
        assert.ok(
          e instanceof DecodeError,
          `seed ${seed} trial ${trial}: ${e}`,
        );
        rejected++;
      }
    }
    assert.ok(rejected > 1000, `only ${rejected} rejected`);
  });
});
