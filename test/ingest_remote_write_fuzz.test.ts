/**
 * Seeded fuzz of the remote-write handler: thousands of random and mutated
 * valid bodies (1.0 and 2.0). Every answer is 204, 400, 413 or 415, never
 * another throw; a body refused whole writes nothing; a partial 400 writes
 * exactly what its samples-written header says; the decoder agrees with
 * the prompb object decoder on every body the latter accepts.
 */
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { decodeWriteRequest } from "../src/codec/prompb.ts";
import { createRemoteWriteHandler } from "../src/server/handlers/remote_write.ts";
import { DecodedBatch } from "../src/ingest/remote_write_batch.ts";
import { decodeWriteRequestV1 } from "../src/ingest/remote_write_decode.ts";
import { LabelCache } from "../src/ingest/remote_write_labels.ts";
import { RemoteWriteFormatError } from "../src/ingest/remote_write_wire.ts";
import {
  call,
  countSamples,
  CT_V2,
  dump,
  encodeV1,
  encodeV2,
  openTestDb,
  STALE_BITS,
  type TestSeries,
} from "./ingest_remote_write_helpers.ts";

const T0 = Date.UTC(2026, 0, 1);

function randomSeries(rng: Prng, n: number): TestSeries[] {
  const out: TestSeries[] = [];
  for (let i = 0; i < n; i++) {
    const labels: [string, string][] = [["__name__", `m${rng.int(0, 5)}`]];
    for (let k = rng.int(0, 3); k > 0; k--) {
      labels.push([
        rng.pick(["a", "b", "job", "le", "é"]),
        String(rng.int(0, 3)),
      ]);
    }
    const samples = [];
    for (let k = rng.int(0, 3); k > 0; k--) {
      samples.push({
        t: T0 + rng.int(-1000, 100_000),
        v: rng.u32() % 7 === 0 ? STALE_BITS : rng.normal() * 100,
      });
    }
    out.push({ labels, samples });
  }
  return out;
}

function mutate(rng: Prng, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  switch (rng.int(0, 3)) {
    case 0: // flip bytes
      for (let k = rng.int(1, 4); k > 0 && out.length; k--) {
        out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      }
      return out;
    case 1: // truncate
      return out.subarray(0, rng.int(0, out.length));
    case 2: { // set a byte to an edge value
      if (out.length) {
        out[rng.int(0, out.length - 1)] = rng.pick([0, 0x7f, 0x80, 0xff]);
      }
      return out;
    }
    default: { // splice random bytes in
      const ins = Uint8Array.from(
        { length: rng.int(1, 8) },
        () => rng.int(0, 255),
      );
      const at = rng.int(0, out.length);
      return new Uint8Array([
        ...out.subarray(0, at),
        ...ins,
        ...out.subarray(at),
      ]);
    }
  }
}

Deno.test("fuzz: the decoder only throws RemoteWriteFormatError and agrees with prompb", () => {
  const seed = 20261130;
  const rng = new Prng(seed);
  const batch = new DecodedBatch();
  const cache = new LabelCache({ maxEntries: 64 });
  let agreed = 0;
  for (let i = 0; i < 4000; i++) {
    const valid = encodeV1(randomSeries(rng, rng.int(0, 6)));
    const body = i % 4 === 0 ? valid : mutate(rng, valid);
    let ours: unknown = null;
    try {
      decodeWriteRequestV1(body, batch, cache);
    } catch (e) {
      ours = e;
      assert.ok(
        e instanceof RemoteWriteFormatError,
        `seed ${seed} case ${i}: ${e}`,
      );
    }
    let ref = null;
    try {
      ref = decodeWriteRequest(body);
    } catch { /* the object decoder refuses too */ }
    if (ref && ours === null) {
      // Same samples (bits and timestamps), same series count.
      const all = ref.timeseries.flatMap((ts) =>
        [...ts.timestamps].map((t, k) =>
          [t, ts.values.subarray(k, k + 1)] as const
        )
      );
      assert.equal(batch.samples, all.length, `seed ${seed} case ${i}`);
      assert.equal(
        batch.series,
        ref.timeseries.length,
        `seed ${seed} case ${i}`,
      );
      const words = new Uint32Array(batch.values.buffer);
      all.forEach(([t, v], k) => {
        const w = new Uint32Array(v.buffer, v.byteOffset, 2);
        // prompb has no "missing timestamp": it reads 0.
        const ts = batch.ts[k];
        assert.equal(
          ts !== ts ? 0 : ts,
          t,
          `seed ${seed} case ${i} sample ${k}`,
        );
        assert.deepEqual([words[2 * k], words[2 * k + 1]], [w[0], w[1]]);
      });
      agreed++;
    }
  }
  assert.ok(agreed > 1000, `only ${agreed} bodies decoded by both`);
});

Deno.test("fuzz: the handler answers only 204/400/413/415 and writes nothing from refused bodies", async () => {
  const seed = 424242;
  const rng = new Prng(seed);
  const t = await openTestDb({ maxSeriesPerTenant: 200 });
  const h = createRemoteWriteHandler();
  const counts: Record<number, number> = {};
  // Count what the store accepts, commit by commit.
  let accepted = 0;
  const appender = t.db.appender.bind(t.db);
  t.db.appender = (tenant) => {
    const app = appender(tenant);
    const commit = app.commit.bind(app);
    app.commit = async () => {
      const r = await commit();
      accepted += r.samplesAccepted;
      return r;
    };
    return app;
  };
  try {
    let stored = 0;
    for (let i = 0; i < 5000; i++) {
      const v2 = i % 3 === 0;
      const series = randomSeries(rng, rng.int(0, 5));
      if (v2 && rng.int(0, 3) === 0) {
        series.forEach((s) => s.created = T0 - rng.int(1, 1000));
      }
      const valid = v2 ? encodeV2(series) : encodeV1(series);
      let body: Uint8Array;
      let compress = true;
      const mode = rng.int(0, 9);
      if (mode < 3) body = valid;
      else if (mode < 8) body = mutate(rng, valid);
      else {
        // Mutate the compressed bytes instead.
        body = mutate(rng, snappyEncode(valid));
        compress = false;
      }
      const headers: Record<string, string> = v2
        ? { "content-type": CT_V2, "content-encoding": "snappy" }
        : { "content-type": "application/x-protobuf" };
      let a;
      try {
        a = await call(h, t.ctx(), body, headers, compress);
      } catch (e) {
        assert.fail(`seed ${seed} case ${i}: handler threw ${e}`);
      }
      counts[a.status] = (counts[a.status] ?? 0) + 1;
      assert.ok(
        [204, 400, 413].includes(a.status),
        `seed ${seed} case ${i}: ${a.status} ${a.text}`,
      );
      const now = accepted;
      const written = a.headers.get(
        "x-prometheus-remote-write-samples-written",
      );
      if (written === null) {
        assert.equal(
          now,
          stored,
          `seed ${seed} case ${i}: refused body wrote samples`,
        );
      } else {
        // Written counts identical resends too, so the store grows by at
        // most that, plus the zero samples of 2.0 created timestamps.
        const synthetic = v2 ? series.length + 1 : 0;
        assert.ok(
          now - stored <= Number(written) + synthetic,
          `seed ${seed} case ${i}: ${now - stored} > ${written}`,
        );
      }
      stored = now;
    }
    assert.equal(countSamples(dump(t.db, "t1")), accepted, `seed ${seed}`);
    assert.ok((counts[204] ?? 0) > 300, JSON.stringify(counts));
    assert.ok((counts[400] ?? 0) > 300, JSON.stringify(counts));
  } finally {
    await t.close();
  }
});
