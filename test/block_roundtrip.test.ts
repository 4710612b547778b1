// Writing blocks and reading them back: the 10k-series workload bit for bit,
// label names/values, postings and select against a brute-force oracle, and
// input validation.
import assert from "node:assert/strict";
import { encodeChunks, loadEngine, XorDecoder } from "../src/bindings/mod.ts";
import { compareStrings, labelsFrom, labelsKey } from "../src/model/labels.ts";
import {
  BlockReader,
  ChunkEncoding,
  compareLabels,
  DENSE_SEGMENT_MAX,
  readMeta,
  writeBlock,
} from "../src/storage/block/mod.ts";
import { generateWorkload, sampleCount } from "../bench/data/generator.ts";
import { Prng } from "../src/util/prng.ts";
import {
  bitsOf,
  matcher,
  toBlockSeries,
  withTempDir,
} from "./_block_helpers.ts";

const engine = await loadEngine();
const START = Date.UTC(2026, 0, 1);
const TWO_HOURS = 2 * 3600_000;

Deno.test("10k-series workload round trip, bit for bit (dense)", async () => {
  await withTempDir(async (tmp) => {
    const workload = generateWorkload();
    const input = workload.map((s) => toBlockSeries(engine, s));
    const t0 = performance.now();
    const meta = await writeBlock(`${tmp}/blocks`, {
      tenant: "acme",
      minTime: START,
      maxTime: START + TWO_HOURS + 60_000,
      series: input,
      engine,
    });
    const writeMs = performance.now() - t0;
    const samples = sampleCount(workload);
    assert.equal(meta.numSeries, 10_000);
    assert.equal(meta.numSamples, samples);
    // 480 samples per series: one dense record each.
    assert.equal(meta.numChunks, 10_000);
    assert.equal(meta.stats.denseSamples, samples);
    const { dir: _dir, stats: _stats, ...written } = meta;
    assert.deepEqual(await readMeta(meta.dir), written);

    const t1 = performance.now();
    const reader = await BlockReader.open(meta.dir, { engine });
    const byKeyGen = new Map(
      workload.map((s) => [labelsKey(labelsFrom(s.labels)), s]),
    );
    let prev = null;
    let n = 0;
    let decoded = 0;
    for (const s of reader.series()) {
      if (prev) assert.ok(compareLabels(prev, s.labels) < 0, "sorted");
      prev = s.labels;
      const gen = byKeyGen.get(labelsKey(s.labels));
      assert.ok(gen, `unexpected series ${JSON.stringify(s.labels)}`);
      const genBits = bitsOf(gen.values);
      let at = 0;
      for (const ref of s.chunks) {
        const got = reader.samples(ref);
        const bits = bitsOf(got.values);
        assert.equal(ref.minTime, got.ts[0]);
        assert.equal(ref.maxTime, got.ts[got.ts.length - 1]);
        for (let i = 0; i < got.ts.length; i++, at++) {
          if (got.ts[i] !== gen.timestamps[at] || bits[i] !== genBits[at]) {
            assert.fail(`sample ${at} of ${labelsKey(s.labels)} differs`);
          }
        }
      }
      assert.equal(at, gen.timestamps.length);
      decoded += at;
      n++;
    }
    const readMs = performance.now() - t1;
    assert.equal(n, 10_000);
    assert.equal(decoded, samples);
    reader.verifyChunksFile();
    reader.close();

    let bytes = 0;
    for (const f of ["meta.json", "index", "chunks"]) {
      bytes += (await Deno.stat(`${meta.dir}/${f}`)).size;
    }
    assert.ok(bytes / samples < 1.9, `${bytes / samples} bytes/sample`);
    console.log(
      `block: ${(bytes / samples).toFixed(3)} bytes/sample ` +
        `(${bytes} bytes, ${samples} samples); write ${
          (samples / writeMs / 1e3).toFixed(1)
        } M samples/s, open+read+decode ${
          (samples / readMs / 1e3).toFixed(1)
        } M samples/s`,
    );
  });
});

Deno.test("chunk(ref) of dense records: XOR bytes that decode to the same samples", async () => {
  await withTempDir(async (tmp) => {
    const workload = generateWorkload({ instances: 3 });
    const meta = await writeBlock(tmp, {
      tenant: "acme",
      minTime: START,
      maxTime: START + TWO_HOURS + 60_000,
      series: workload.map((s) => toBlockSeries(engine, s)),
      engine,
    });
    const reader = await BlockReader.open(meta.dir, { engine });
    const dec = new XorDecoder(engine);
    const byKeyGen = new Map(
      workload.map((s) => [labelsKey(labelsFrom(s.labels)), s]),
    );
    for (const s of reader.series()) {
      const gen = byKeyGen.get(labelsKey(s.labels))!;
      const [ref] = s.chunks;
      assert.equal(reader.record(ref).encoding, ChunkEncoding.DENSE);
      const xor = reader.chunk(ref);
      // The same bytes Prometheus' encoder gives for these samples.
      const [want] = encodeChunks(
        engine,
        gen.timestamps,
        gen.values,
        DENSE_SEGMENT_MAX,
      );
      assert.deepEqual(xor, want);
      const count = dec.decodeExact(xor);
      assert.equal(count, gen.timestamps.length);
      assert.deepEqual(
        [...dec.exactTimestamps],
        [...gen.timestamps].map(BigInt),
      );
      assert.deepEqual([...dec.valueBits], [...bitsOf(gen.values)]);
    }
    dec.free();
    reader.close();
  });
});

Deno.test("dense: false stores the XOR chunks byte for byte", async () => {
  await withTempDir(async (tmp) => {
    const workload = generateWorkload({ instances: 2 });
    const input = workload.map((s) => toBlockSeries(engine, s));
    const meta = await writeBlock(tmp, {
      tenant: "acme",
      minTime: START,
      maxTime: START + TWO_HOURS + 60_000,
      series: input,
      engine,
      dense: false,
    });
    assert.equal(
      meta.numChunks,
      input.reduce((a, s) => a + s.chunks.length, 0),
    );
    const reader = await BlockReader.open(meta.dir, { engine });
    const byKey = new Map(input.map((s) => [labelsKey(s.labels), s]));
    for (const s of reader.series()) {
      const want = byKey.get(labelsKey(s.labels))!;
      assert.equal(s.chunks.length, want.chunks.length);
      s.chunks.forEach((ref, k) => {
        assert.deepEqual(reader.chunk(ref), want.chunks[k].data);
        assert.equal(ref.minTime, want.chunks[k].minTime);
        assert.equal(ref.maxTime, want.chunks[k].maxTime);
      });
    }
    reader.close();
  });
});

Deno.test("label names, values, postings and select vs brute force", async (t) => {
  await withTempDir(async (tmp) => {
    const seed = 77;
    const rng = new Prng(seed);
    const names = ["__name__", "job", "instance", "le", "zone", "ünï", "a b"];
    const values = ["", "x", "y", "yy", "ü", "\u{1F600}", "z0", "z1", "0.5"];
    const set = new Map<string, ReturnType<typeof labelsFrom>>();
    while (set.size < 400) {
      const pairs: [string, string][] = [["__name__", `m${rng.int(0, 5)}`]];
      for (const name of names.slice(1)) {
        if (rng.float() < 0.6) pairs.push([name, rng.pick(values)]);
      }
      const labels = labelsFrom(pairs);
      set.set(labelsKey(labels), labels);
    }
    const all = [...set.values()];
    const meta = await writeBlock(tmp, {
      tenant: "t",
      minTime: 0,
      maxTime: 1000,
      series: all.map((labels) => ({ labels, chunks: [] })),
    });
    all.sort(compareLabels);
    const reader = await BlockReader.open(meta.dir);
    assert.equal(reader.numSeries, all.length);
    await t.step("series in label order", () => {
      assert.deepEqual([...reader.series()].map((s) => s.labels), all);
    });
    await t.step("labelNames and labelValues", () => {
      const wantNames = [...new Set(all.flatMap((l) => l.map((x) => x.name)))]
        .sort(compareStrings);
      assert.deepEqual(reader.labelNames(), wantNames);
      for (const name of [...names, "missing"]) {
        const want = [
          ...new Set(
            all.flatMap((l) => l.filter((x) => x.name === name))
              .map((x) => x.value),
          ),
        ].sort(compareStrings);
        assert.deepEqual(reader.labelValues(name), want, name);
      }
    });
    const get = (l: (typeof all)[number], name: string) =>
      l.find((x) => x.name === name)?.value ?? "";
    await t.step("postings", () => {
      for (const name of names) {
        for (const value of values.slice(1)) {
          const want = all.flatMap((l, i) => get(l, name) === value ? [i] : []);
          assert.deepEqual([...reader.postings(name, value)], want);
        }
      }
    });
    await t.step("select with random matcher sets (seed 77)", () => {
      const types = ["=", "!=", "=~", "!~"] as const;
      for (let q = 0; q < 300; q++) {
        const ms = Array.from({ length: rng.int(1, 3) }, () => {
          const type = rng.pick([...types]);
          const value = type.includes("~")
            ? rng.pick(["y.*", "z[01]", ".*", ".+", "x|ü", ""])
            : rng.pick(values);
          return matcher(type, rng.pick([...names, "nope"]), value);
        });
        const want = all.filter((l) =>
          ms.every((m) => m.matches(get(l, m.name)))
        );
        const got = reader.select(ms).map((s) => s.labels);
        const desc = ms.map((m) => `${m.name}${m.type}${m.value}`).join(",");
        assert.deepEqual(got, want, `seed ${seed} query ${q}: ${desc}`);
        const wantNames = [
          ...new Set(want.flatMap((l) => l.map((x) => x.name))),
        ]
          .sort(compareStrings);
        assert.deepEqual(reader.labelNames(ms), wantNames, desc);
        const wantJob = [...new Set(want.map((l) => get(l, "job")))]
          .filter((v) => v !== "").sort(compareStrings);
        assert.deepEqual(reader.labelValues("job", ms), wantJob, desc);
      }
    });
    reader.close();
  });
});

Deno.test("select with a time range keeps overlapping chunks only", async () => {
  await withTempDir(async (tmp) => {
    const s = toBlockSeries(engine, {
      labels: { __name__: "m" },
      timestamps: Float64Array.from({ length: 600 }, (_, i) => i * 10),
      values: Float64Array.from({ length: 600 }, (_, i) => i),
    });
    const meta = await writeBlock(tmp, {
      tenant: "t",
      minTime: 0,
      maxTime: 6000,
      series: [s],
      dense: false,
    });
    const r = await BlockReader.open(meta.dir);
    const m = [matcher("=", "__name__", "m")];
    assert.equal(r.select(m)[0].chunks.length, 5);
    const got = r.select(m, { mint: 1200, maxt: 2400 })[0].chunks;
    assert.deepEqual(got.map((c) => [c.minTime, c.maxTime]), [
      [1200, 2390],
      [2400, 3590],
    ]);
    assert.equal(r.select(m, { mint: 7000, maxt: 8000 }).length, 0);
    r.close();
    // Dense: the 600 samples are one record covering the whole range.
    const dense = await writeBlock(`${tmp}/d`, {
      tenant: "t",
      minTime: 0,
      maxTime: 6000,
      series: [s],
    });
    const rd = await BlockReader.open(dense.dir);
    const chunks = rd.select(m, { mint: 1200, maxt: 2400 })[0].chunks;
    assert.deepEqual(chunks.map((c) => [c.minTime, c.maxTime]), [[0, 5990]]);
    assert.deepEqual(
      [...rd.samples(chunks[0]).values],
      Array.from({ length: 600 }, (_, i) => i),
    );
    assert.equal(rd.select(m, { mint: 7000, maxt: 8000 }).length, 0);
    rd.close();
  });
});

Deno.test("writeBlock rejects bad input and leaves nothing behind", async (t) => {
  await withTempDir(async (tmp) => {
    await Deno.mkdir(`${tmp}/b`);
    const chunk = (minTime: number, maxTime: number) => ({
      minTime,
      maxTime,
      data: new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    });
    const l = labelsFrom({ a: "1" });
    const cases: [string, Parameters<typeof writeBlock>[1]][] = [
      ["empty range", { tenant: "t", minTime: 5, maxTime: 5, series: [] }],
      ["chunk before range", {
        tenant: "t",
        minTime: 10,
        maxTime: 20,
        series: [{ labels: l, chunks: [chunk(5, 12)] }],
      }],
      ["chunk at maxTime", {
        tenant: "t",
        minTime: 10,
        maxTime: 20,
        series: [{ labels: l, chunks: [chunk(12, 20)] }],
      }],
      ["overlapping chunks", {
        tenant: "t",
        minTime: 0,
        maxTime: 20,
        series: [{ labels: l, chunks: [chunk(1, 5), chunk(5, 8)] }],
      }],
      ["non-XOR input chunk", {
        tenant: "t",
        minTime: 0,
        maxTime: 20,
        series: [{ labels: l, chunks: [{ ...chunk(1, 5), encoding: 2 }] }],
      }],
      ["samples out of order", {
        tenant: "t",
        minTime: 0,
        maxTime: 20,
        series: [{
          labels: l,
          samples: { ts: Float64Array.of(3, 2), values: Float64Array.of(1, 2) },
        }],
      }],
      ["samples at maxTime", {
        tenant: "t",
        minTime: 0,
        maxTime: 20,
        series: [{
          labels: l,
          samples: {
            ts: Float64Array.of(3, 20),
            values: Float64Array.of(1, 2),
          },
        }],
      }],
      ["duplicate series", {
        tenant: "t",
        minTime: 0,
        maxTime: 20,
        series: [{ labels: l, chunks: [] }, { labels: l, chunks: [] }],
      }],
    ];
    for (const [name, opts] of cases) {
      await t.step(name, async () => {
        await assert.rejects(writeBlock(`${tmp}/b`, opts), RangeError);
        const left = [];
        for await (const e of Deno.readDir(`${tmp}/b`)) left.push(e.name);
        assert.deepEqual(left, []);
      });
    }
  });
});
