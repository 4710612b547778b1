/**
 * Crash-test child: appends batches to the WAL in `Deno.args[0]` forever,
 * starting at batch id `Deno.args[1]`, from several concurrent callers, and
 * prints each batch id on stdout only after its commit() resolved. The
 * parent (test/wal_crash.test.ts) kills it with SIGKILL.
 *
 * Usage: deno run -A test/_wal_writer.ts <walDir> <firstId>
 * @module
 */
import { labelsFrom } from "../src/model/labels.ts";
import { Wal } from "../src/storage/wal/mod.ts";
import { Prng } from "../src/util/prng.ts";

/** Timestamps of batch `id` start at TS_BASE + id * 1000: ts[0] names the batch. */
export const TS_BASE = 1_700_000_000_000;

/** One batch, fully determined by its id (so the parent can check every bit). */
export interface Batch {
  tenant: string;
  refs: Uint32Array;
  ts: Float64Array;
  values: Float64Array;
}

/**
 * The batch with id `id`: 1-64 samples (one in 13: 10k-60k, so some
 * writes are large enough for a kill to land inside them), random value
 * bits, stale markers.
 */
export function batchFor(id: number): Batch {
  const prng = new Prng(id);
  const n = id % 13 === 3 ? prng.int(10_000, 60_000) : prng.int(1, 64);
  const refs = new Uint32Array(n);
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const bits = new Uint32Array(values.buffer);
  for (let i = 0; i < n; i++) {
    refs[i] = prng.int(0, 1_000_000);
    ts[i] = TS_BASE + id * 1000 + i;
    if (i % 5 === 4) {
      bits[2 * i] = 2; // the Prometheus stale marker 0x7ff0000000000002
      bits[2 * i + 1] = 0x7ff00000;
    } else {
      bits[2 * i] = prng.u32();
      bits[2 * i + 1] = prng.u32();
    }
  }
  return { tenant: `tenant-${id % 3}`, refs, ts, values };
}

/** The batch id of a replayed SAMPLES record. */
export function batchIdOf(ts: Float64Array): number {
  return (ts[0] - TS_BASE) / 1000;
}

async function main(): Promise<void> {
  const [dir, first] = Deno.args;
  const wal = await Wal.open(dir, { fsync: "never", segmentBytes: 256 * 1024 });
  const out = new TextEncoder();
  let next = Number(first);
  const caller = async () => {
    for (;;) {
      const id = next++;
      const b = batchFor(id);
      if (id % 10 === 0) {
        wal.logSeries(b.tenant, id, labelsFrom({ batch: String(id) }));
      }
      wal.logSamples(b.tenant, b.refs, b.ts, b.values);
      await wal.commit();
      // Acknowledged: only now may the id be reported.
      const line = out.encode(`${id}\n`);
      let off = 0;
      while (off < line.length) {
        off += await Deno.stdout.write(line.subarray(off));
      }
      if (id % 97 === 0) await wal.cut();
    }
  };
  await Promise.all([caller(), caller(), caller(), caller()]);
}

if (import.meta.main) await main();
