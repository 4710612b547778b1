/**
 * Remote-write ingest in process, on the shared workload's pre-encoded
 * bodies (bench/compare/workload.ts: one sample per TimeSeries, 2,000 per
 * request, Snappy): samples per CPU-second for
 *   - decode only: the cursor decoder (src/ingest) vs the prompb object
 *     decoder + labelsFrom (what bench/compare/tidemark.ts measured);
 *   - decode + append + commit into a fresh Db, both ways;
 *   - the same two stages with Snappy and the WriteRequest walk in the
 *     engine module (src/ingest/remote_write_wasm.ts);
 *   - Snappy alone, TS and WASM.
 * Plain timed passes (each case is one long operation); figures go to the
 * shared results file through run.ts, or run it alone:
 *
 *   deno run -A bench/remote_write.ts [--minutes 60]
 * @module
 */
import { parseArgs } from "node:util";
import { decodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyDecode } from "../src/codec/snappy.ts";
import { labelsFrom } from "../src/model/labels.ts";
import { Db } from "../src/storage/db.ts";
import { loadEngine } from "../src/bindings/engine.ts";
import { DecodedBatch } from "../src/ingest/remote_write_batch.ts";
import { decodeWriteRequestV1 } from "../src/ingest/remote_write_decode.ts";
import { LabelCache } from "../src/ingest/remote_write_labels.ts";
import { applyBatch } from "../src/ingest/remote_write_apply.ts";
import {
  decoderFor,
  decodeWriteRequestV1Wasm,
  snappyDecodeWasm,
  WasmLabelCache,
} from "../src/ingest/remote_write_wasm.ts";
import type { Engine } from "../src/bindings/engine.ts";
import { encodeWorkload, interleaved } from "./compare/workload.ts";
import { ownCpuSeconds } from "./compare/proc.ts";
import type { CaseResult, SuiteResult } from "./_harness.ts";

const MAX_DECODED = 32 << 20;

interface Timed {
  cpu: number;
  wall: number;
  samples: number;
}

async function timed(fn: () => Promise<number> | number): Promise<Timed> {
  const c0 = ownCpuSeconds();
  const t0 = performance.now();
  const samples = await fn();
  return {
    cpu: ownCpuSeconds() - c0,
    wall: (performance.now() - t0) / 1000,
    samples,
  };
}

function decodeCursor(bodies: Uint8Array[]): number {
  const batch = new DecodedBatch();
  const cache = new LabelCache();
  let n = 0;
  for (const body of bodies) {
    decodeWriteRequestV1(snappyDecode(body, MAX_DECODED), batch, cache);
    n += batch.samples;
  }
  return n;
}

function decodeWasm(engine: Engine, bodies: Uint8Array[]): number {
  const batch = new DecodedBatch();
  const cache = new WasmLabelCache(engine);
  const dec = decoderFor(engine);
  let n = 0;
  try {
    for (const body of bodies) {
      snappyDecodeWasm(dec, body, MAX_DECODED);
      decodeWriteRequestV1Wasm(dec, batch, cache);
      n += batch.samples;
    }
  } finally {
    cache.free();
  }
  return n;
}

function snappyWasm(engine: Engine, bodies: Uint8Array[]): number {
  const dec = decoderFor(engine);
  let n = 0;
  for (const body of bodies) n += snappyDecodeWasm(dec, body, MAX_DECODED);
  return n;
}

function decodeObjects(bodies: Uint8Array[]): number {
  let n = 0;
  for (const body of bodies) {
    const req = decodeWriteRequest(snappyDecode(body, MAX_DECODED));
    for (const ts of req.timeseries) {
      labelsFrom(ts.labels.map((l) => [l.name, l.value] as const));
      n += ts.values.length;
    }
  }
  return n;
}

function snappyOnly(bodies: Uint8Array[]): number {
  let n = 0;
  for (const body of bodies) n += snappyDecode(body, MAX_DECODED).length;
  return n;
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "rw-bench-" });
  const db = await Db.open({ dataDir: dir, engine: await loadEngine() });
  try {
    return await fn(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function ingestCursor(db: Db, bodies: Uint8Array[]): Promise<number> {
  const batch = new DecodedBatch();
  const cache = new LabelCache();
  let n = 0;
  for (const body of bodies) {
    decodeWriteRequestV1(snappyDecode(body, MAX_DECODED), batch, cache);
    const o = await applyBatch(batch, db.appender("bench"), {
      createdTimestampZero: false,
      refuseExemplars: false,
      maxReasons: 5,
    });
    n += o.samplesWritten;
  }
  return n;
}

async function ingestWasm(db: Db, bodies: Uint8Array[]): Promise<number> {
  const batch = new DecodedBatch();
  const cache = new WasmLabelCache(db.engine);
  const dec = decoderFor(db.engine);
  let n = 0;
  try {
    for (const body of bodies) {
      snappyDecodeWasm(dec, body, MAX_DECODED);
      decodeWriteRequestV1Wasm(dec, batch, cache);
      const o = await applyBatch(batch, db.appender("bench"), {
        createdTimestampZero: false,
        refuseExemplars: false,
        maxReasons: 5,
      });
      n += o.samplesWritten;
    }
  } finally {
    cache.free();
  }
  return n;
}

async function ingestObjects(db: Db, bodies: Uint8Array[]): Promise<number> {
  let n = 0;
  for (const body of bodies) {
    const req = decodeWriteRequest(snappyDecode(body, MAX_DECODED));
    const app = db.appender("bench");
    for (const ts of req.timeseries) {
      const labels = labelsFrom(
        ts.labels.map((l) => [l.name, l.value] as const),
      );
      app.appendSeries(labels, ts.timestamps, ts.values);
    }
    n += (await app.commit()).samplesAccepted;
  }
  return n;
}

/** Runs the suite on `minutes` of the 10k-series workload. */
export async function run(minutes = 60): Promise<SuiteResult> {
  const w = encodeWorkload({
    series: 10_000,
    durationMs: minutes * 60_000,
    shards: 4,
  });
  const bodies = interleaved(w.parts[0].bodies);
  const figures: Record<string, number> = {};
  const cases: CaseResult[] = [];
  const record = (name: string, r: Timed) => {
    figures[`${name} samplesPerCpuSecond`] = Math.round(r.samples / r.cpu);
    cases.push({
      name,
      itemsPerSec: r.samples / r.wall,
      medianMs: r.wall * 1000,
      marginPct: 0,
      samples: 1,
    });
  };
  const engine = await loadEngine();
  // Warm every path on a slice, then measure each on every body.
  decodeCursor(bodies.slice(0, 50));
  decodeWasm(engine, bodies.slice(0, 50));
  decodeObjects(bodies.slice(0, 50));
  const snappy = await timed(() => snappyOnly(bodies));
  figures["snappy MB/s (decoded)"] = Math.round(
    snappy.samples / snappy.wall / 1e6,
  );
  const snappyW = await timed(() => snappyWasm(engine, bodies));
  figures["snappy wasm MB/s (decoded)"] = Math.round(
    snappyW.samples / snappyW.wall / 1e6,
  );
  record("decode: cursor", await timed(() => decodeCursor(bodies)));
  record("decode: wasm", await timed(() => decodeWasm(engine, bodies)));
  record("decode: prompb objects", await timed(() => decodeObjects(bodies)));
  record(
    "decode+append+commit: cursor",
    await withDb((db) => timed(() => ingestCursor(db, bodies))),
  );
  record(
    "decode+append+commit: wasm",
    await withDb((db) => timed(() => ingestWasm(db, bodies))),
  );
  record(
    "decode+append+commit: prompb objects",
    await withDb((db) => timed(() => ingestObjects(db, bodies))),
  );
  // Per-sample CPU: the store's share is end-to-end minus decode-only.
  const ns = (k: string) => 1e9 / figures[`${k} samplesPerCpuSecond`];
  for (const path of ["cursor", "wasm"]) {
    figures[`${path}: decode ns/sample`] = Math.round(ns(`decode: ${path}`));
    figures[`${path}: append+commit ns/sample (e2e - decode)`] = Math.round(
      ns(`decode+append+commit: ${path}`) - ns(`decode: ${path}`),
    );
  }
  figures.samples = w.samples;
  figures.requests = bodies.length;
  return { suite: "remote_write", cases, figures };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { minutes: { type: "string" } },
  });
  const r = await run(Number(values.minutes ?? 60));
  for (const c of r.cases) {
    console.log(
      `${c.name.padEnd(40)} ${
        (c.itemsPerSec / 1e3).toFixed(0)
      } k samples/s wall`,
    );
  }
  for (const [k, v] of Object.entries(r.figures)) {
    console.log(`${k.padEnd(52)} ${v}`);
  }
}
