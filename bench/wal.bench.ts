/**
 * Write-ahead log: encode samples/s, append (encode + write) samples/s,
 * replay samples/s and series/s, on remote-write-like batches (1,000
 * series, one sample each) in a temporary directory.
 *
 * Run alone: deno run -A bench/wal.bench.ts
 * @module
 */
import { labelsFrom } from "../src/model/labels.ts";
import { ByteBuf } from "../src/storage/wal/bytes.ts";
import { RecordEncoder } from "../src/storage/wal/encode.ts";
import { replay, Wal } from "../src/storage/wal/mod.ts";
import { Prng } from "../src/util/prng.ts";
import { type BenchCase, runSuite, type SuiteResult } from "./_harness.ts";

const SERIES = 1000;
const BATCHES = 100;

export async function run(): Promise<SuiteResult> {
  const prng = new Prng(17);
  const refs = Uint32Array.from({ length: SERIES }, (_, i) => i);
  const values = Float64Array.from(
    { length: SERIES },
    () => Math.round(prng.float() * 1e4) / 10,
  );
  const stamps = Array.from({ length: BATCHES }, (_, b) =>
    Float64Array.from(
      { length: SERIES },
      () => 1_700_000_000_000 + b * 15_000 + prng.int(0, 50),
    ));
  const labelSets = Array.from({ length: 10_000 }, (_, i) =>
    labelsFrom({
      __name__: `http_requests_total_${i % 20}`,
      instance: `10.0.${i % 256}.${i % 7}:9100`,
      job: "node",
      method: ["GET", "POST"][i % 2],
      code: String(200 + (i % 5)),
    }));

  const root = await Deno.makeTempDir();
  // Replay input: 2M samples and 10k series.
  const replayDir = `${root}/replay`;
  {
    const wal = await Wal.open(replayDir, { fsync: "never" });
    labelSets.forEach((l, i) => wal.logSeries("tenant-a", i, l));
    for (let k = 0; k < 20; k++) {
      for (const ts of stamps) wal.logSamples("tenant-a", refs, ts, values);
      await wal.commit();
    }
    await wal.close();
  }
  const seriesDir = `${root}/series`;
  {
    const wal = await Wal.open(seriesDir, { fsync: "never" });
    labelSets.forEach((l, i) => wal.logSeries("tenant-a", i, l));
    await wal.close();
  }
  const figures: Record<string, number> = {};
  const probe = await replay(replayDir, () => {}, { log: false });
  figures.bytesPerSample = probe.bytes / probe.samples;

  const enc = new RecordEncoder(new ByteBuf(16 * 1024 * 1024));
  const appendWal = await Wal.open(`${root}/append`, { fsync: "never" });
  const cases: BenchCase[] = [
    {
      name: "encode (logSamples into the buffer)",
      items: SERIES * BATCHES,
      fn: () => {
        enc.buf.pos = 0;
        for (const ts of stamps) {
          enc.samples("tenant-a", refs, ts, values, 0, SERIES);
        }
      },
    },
    {
      name: "append (encode + commit per batch, fsync never)",
      items: SERIES * BATCHES,
      fn: async () => {
        for (const ts of stamps) {
          appendWal.logSamples("tenant-a", refs, ts, values);
          await appendWal.commit();
        }
        // Keep the directory small: drop finished segments.
        if (appendWal.segment > 2) {
          await appendWal.truncate(appendWal.segment, { series: [] });
        }
      },
    },
    {
      name: "replay samples",
      items: probe.samples,
      fn: () => replay(replayDir, () => {}, { log: false }),
    },
    {
      name: "logSeries (encode, 5 labels)",
      items: labelSets.length,
      fn: () => {
        enc.buf.pos = 0;
        labelSets.forEach((l, i) => enc.series("tenant-a", i, l));
        enc.seal();
      },
    },
    {
      name: "replay series (5 labels)",
      items: labelSets.length,
      fn: () => replay(seriesDir, () => {}, { log: false }),
    },
  ];
  const result = await runSuite("wal", cases, figures);
  await appendWal.close();
  await Deno.remove(root, { recursive: true });
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run(), null, 2));
