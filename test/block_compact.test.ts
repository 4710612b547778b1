// Compaction against an oracle that merges samples in plain TypeScript:
// non-overlapping blocks, overlapping blocks with duplicate timestamps (the
// later input wins) and special float bits, series present in only some
// inputs, and inputs of mixed encodings (dense and XOR-only blocks).
import assert from "node:assert/strict";
import { encodeChunks, loadEngine } from "../src/bindings/mod.ts";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import { decodeChunk } from "../src/reference/xor.ts";
import {
  BlockReader,
  type BlockSeriesInput,
  ChunkEncoding,
  compactBlocks,
  DENSE_SEGMENT_MAX,
  listBlocks,
  writeBlock,
  type WrittenBlock,
} from "../src/storage/block/mod.ts";
import { generateWorkload } from "../bench/data/generator.ts";
import { Prng } from "../src/util/prng.ts";
import { SPECIAL_BITS } from "./_xor_series.ts";
import { bitsOf, toBlockSeries, withTempDir } from "./_block_helpers.ts";

const engine = await loadEngine();

/** Per series: timestamp → value bits. */
type Samples = Map<string, Map<bigint, bigint>>;

/** Encodes exact samples (sorted by t) into chunks of `perChunk` samples. */
function chunksOf(samples: [bigint, bigint][], perChunk: number) {
  const ts = BigInt64Array.from(samples, ([t]) => t);
  const bits = BigUint64Array.from(samples, ([, b]) => b);
  const values = new Float64Array(bits.buffer);
  const data = encodeChunks(engine, ts, values, perChunk);
  let at = 0;
  return data.map((d) => {
    const n = (d[0] << 8) | d[1];
    const c = {
      minTime: Number(ts[at]),
      maxTime: Number(ts[at + n - 1]),
      data: d,
    };
    at += n;
    return c;
  });
}

/** A block of `nSeries` random series with samples in [from, to). */
async function randomBlock(
  dir: string,
  rng: Prng,
  opts: {
    from: number;
    to: number;
    nSeries: number;
    step: number;
    /** Timestamps on multiples of this (default 1 ms). */
    grid?: number;
  },
): Promise<{ block: WrittenBlock; samples: Samples }> {
  const samples: Samples = new Map();
  const series: BlockSeriesInput[] = [];
  for (let s = 0; s < opts.nSeries; s++) {
    if (rng.float() < 0.2) continue; // absent from this block
    const labels = labelsFrom({ __name__: "m", s: String(s) });
    const list: [bigint, bigint][] = [];
    const grid = opts.grid ?? 1;
    const steps = opts.step / grid;
    for (let t = opts.from + rng.int(0, steps) * grid; t < opts.to;) {
      const r = rng.float();
      const bits = r < 0.1
        ? rng.pick(SPECIAL_BITS)
        : r < 0.5
        ? BigInt(rng.int(0, 3)) << 52n | 0x4000000000000000n
        : new BigUint64Array(Float64Array.of(rng.normal()).buffer)[0];
      list.push([BigInt(t), bits]);
      t += rng.int(1, steps) * grid;
    }
    if (!list.length) continue;
    samples.set(labelsKey(labels), new Map(list));
    series.push({ labels, chunks: chunksOf(list, rng.int(5, 150)) });
  }
  // Half the blocks dense, half XOR-only: compaction sees mixed encodings.
  const block = await writeBlock(dir, {
    tenant: "acme",
    minTime: opts.from,
    maxTime: opts.to,
    series,
    engine,
    dense: rng.float() < 0.5,
  });
  return { block, samples };
}

/**
 * Every series' samples, decoded from `chunk(ref)` with the plain-TS
 * reference decoder; `samples(ref)` must give the same.
 */
async function readSamples(dir: string): Promise<Samples> {
  const r = await BlockReader.open(dir, { engine });
  const out: Samples = new Map();
  for (const s of r.series()) {
    const m = new Map<bigint, bigint>();
    let lastT: bigint | null = null;
    let lastMax = -Infinity;
    for (const ref of s.chunks) {
      assert.ok(ref.minTime > lastMax, "chunks must not overlap");
      lastMax = ref.maxTime;
      const decoded = decodeChunk(r.chunk(ref));
      assert.ok(decoded.length <= DENSE_SEGMENT_MAX);
      const fast = r.samples(ref);
      assert.deepEqual(
        [...fast.ts].map(BigInt),
        decoded.map((d) => d.t),
        "samples(ref) timestamps",
      );
      assert.deepEqual(
        [...bitsOf(fast.values)],
        decoded.map((d) => d.vbits),
        "samples(ref) value bits",
      );
      assert.equal(decoded[0].t, BigInt(ref.minTime));
      assert.equal(decoded[decoded.length - 1].t, BigInt(ref.maxTime));
      for (const { t, vbits } of decoded) {
        assert.ok(lastT === null || t > lastT, "timestamps must rise");
        lastT = t;
        m.set(t, vbits);
      }
    }
    out.set(labelsKey(s.labels), m);
  }
  r.close();
  return out;
}

/** The oracle: later inputs overwrite earlier ones at equal timestamps. */
function mergeOracle(inputs: Samples[]): Samples {
  const out: Samples = new Map();
  for (const input of inputs) {
    for (const [key, samples] of input) {
      const m = out.get(key) ?? new Map<bigint, bigint>();
      for (const [t, b] of samples) m.set(t, b);
      out.set(key, m);
    }
  }
  for (const [key, m] of out) {
    out.set(key, new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1))));
  }
  return out;
}

function assertSameSamples(got: Samples, want: Samples, msg: string): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), msg);
  for (const [key, m] of want) {
    assert.deepEqual([...got.get(key)!], [...m], `${msg}: ${key}`);
  }
}

Deno.test("non-overlapping blocks: samples kept, meta merged", async () => {
  await withTempDir(async (tmp) => {
    const seed = 11;
    const rng = new Prng(seed);
    const a = await randomBlock(tmp, rng, {
      from: 0,
      to: 100_000,
      nSeries: 40,
      step: 900,
    });
    const b = await randomBlock(tmp, rng, {
      from: 100_000,
      to: 200_000,
      nSeries: 40,
      step: 900,
    });
    const c = await compactBlocks(engine, [a.block.dir, b.block.dir], tmp);
    assert.equal(c.minTime, 0);
    assert.equal(c.maxTime, 200_000);
    assert.equal(c.level, 2);
    assert.deepEqual(c.parents, [a.block.id, b.block.id]);
    assert.deepEqual(c.sources, [a.block.id, b.block.id].sort());
    assert.equal(c.numSamples, a.block.numSamples + b.block.numSamples);
    const want = mergeOracle([a.samples, b.samples]);
    assertSameSamples(await readSamples(c.dir), want, `seed ${seed}`);
    // The inputs are now superseded.
    const listing = await listBlocks(tmp, "acme");
    assert.deepEqual(listing.blocks.map((x) => x.id), [c.id]);
    assert.deepEqual(
      listing.superseded.map((x) => x.id).sort(),
      [a.block.id, b.block.id].sort(),
    );
  });
});

Deno.test("overlapping blocks merge sample by sample; later input wins", async (t) => {
  let duplicates = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    await t.step(`seed ${seed}`, async () => {
      await withTempDir(async (tmp) => {
        const rng = new Prng(seed);
        const inputs = [];
        const n = rng.int(2, 4);
        for (let k = 0; k < n; k++) {
          const from = rng.int(0, 50) * 1000;
          inputs.push(
            await randomBlock(tmp, rng, {
              from,
              to: from + rng.int(20, 100) * 1000,
              nSeries: 30,
              // Steps on a 1 s grid make timestamps collide often.
              step: rng.pick([1000, 3000, 7000]),
              grid: 1000,
            }),
          );
        }
        const c = await compactBlocks(
          engine,
          inputs.map((x) => x.block.dir),
          tmp,
        );
        const want = mergeOracle(inputs.map((x) => x.samples));
        const total = [...want.values()].reduce((a, m) => a + m.size, 0);
        assert.equal(c.numSamples, total, `seed ${seed}`);
        duplicates += inputs.reduce((a, x) => a + x.block.numSamples, 0) -
          total;
        assertSameSamples(await readSamples(c.dir), want, `seed ${seed}`);
        // Compacting again (the result with an input) is stable.
        const again = await compactBlocks(
          engine,
          [inputs[0].block.dir, c.dir],
          tmp,
        );
        assert.equal(again.level, 3);
        assertSameSamples(
          await readSamples(again.dir),
          mergeOracle([inputs[0].samples, want]),
          `seed ${seed} again`,
        );
      });
    });
  }
  assert.ok(duplicates > 200, `only ${duplicates} duplicate timestamps`);
});

Deno.test("duplicate timestamps: kept once, value of the later input", async () => {
  await withTempDir(async (tmp) => {
    const labels = labelsFrom({ __name__: "dup" });
    const nanA = 0x7ff0000000000002n; // stale marker
    const nanB = 0x7ff4000000000abcn; // signalling NaN with payload
    const mk = async (samples: [bigint, bigint][], from: number) =>
      await writeBlock(tmp, {
        tenant: "acme",
        minTime: from,
        maxTime: 10_000,
        series: [{ labels, chunks: chunksOf(samples, 120) }],
      });
    const a = await mk([[1000n, nanA], [2000n, 1n], [3000n, 2n]], 0);
    const b = await mk([[2000n, nanB], [2500n, 5n], [3000n, 2n]], 1000);
    const c = await compactBlocks(engine, [a.dir, b.dir], tmp);
    const got = (await readSamples(c.dir)).get(labelsKey(labels))!;
    assert.deepEqual([...got], [
      [1000n, nanA],
      [2000n, nanB],
      [2500n, 5n],
      [3000n, 2n],
    ]);
    const reversed = await compactBlocks(engine, [b.dir, a.dir], tmp);
    const got2 = (await readSamples(reversed.dir)).get(labelsKey(labels))!;
    assert.equal(got2.get(2000n), 1n);
  });
});

Deno.test("compaction refuses mixed tenants and leaves nothing", async () => {
  await withTempDir(async (tmp) => {
    const mk = (tenant: string) =>
      writeBlock(`${tmp}/in`, {
        tenant,
        minTime: 0,
        maxTime: 10,
        series: [],
      });
    const a = await mk("a");
    const b = await mk("b");
    await assert.rejects(
      compactBlocks(engine, [a.dir, b.dir], `${tmp}/out`),
      RangeError,
    );
    await assert.rejects(Deno.stat(`${tmp}/out`), Deno.errors.NotFound);
  });
});

Deno.test("mixed encodings: a dense and an XOR-only block compact into dense records", async () => {
  await withTempDir(async (tmp) => {
    const start = Date.UTC(2026, 0, 1);
    const half = 3600_000;
    const workload = generateWorkload({
      instances: 2,
      durationMs: 2 * half,
      startMs: start,
    });
    const part = (from: number, to: number) =>
      workload.map((s) => {
        const keep = s.timestamps.map((t) => (t >= from && t < to ? 1 : 0));
        const idx = [...keep.keys()].filter((i) => keep[i]);
        return toBlockSeries(engine, {
          labels: s.labels,
          timestamps: Float64Array.from(idx, (i) => s.timestamps[i]),
          values: new Float64Array(
            BigUint64Array.from(idx, (i) => bitsOf(s.values)[i]).buffer,
          ),
        });
      });
    const a = await writeBlock(tmp, {
      tenant: "acme",
      minTime: start,
      maxTime: start + half,
      series: part(start, start + half),
      engine,
    });
    const b = await writeBlock(tmp, {
      tenant: "acme",
      minTime: start + half,
      maxTime: start + 2 * half + 60_000,
      series: part(start + half, start + 2 * half + 60_000),
      engine,
      dense: false,
    });
    const c = await compactBlocks(engine, [a.dir, b.dir], tmp);
    assert.equal(c.numSamples, a.numSamples + b.numSamples);
    const r = await BlockReader.open(c.dir, { engine });
    const encodings = [0, 0, 0];
    for (const s of r.series()) {
      for (const ref of s.chunks) encodings[r.record(ref).encoding]++;
    }
    r.close();
    assert.equal(encodings[ChunkEncoding.XOR], 0, `${encodings}`);
    assert.equal(encodings[ChunkEncoding.DENSE], workload.length);
    const want: Samples = new Map(workload.map((s) => {
      const bits = bitsOf(s.values);
      return [
        labelsKey(labelsFrom(s.labels)),
        new Map([...s.timestamps].map((t, i) => [BigInt(t), bits[i]])),
      ];
    }));
    assertSameSamples(await readSamples(c.dir), want, "mixed");
    assert.ok(c.files.chunks.size < a.files.chunks.size + b.files.chunks.size);
  });
});
