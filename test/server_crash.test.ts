// Acknowledged writes survive kill -9 of the real server process: remote
// write requests are sent while the process is killed at a random moment;
// after each restart every sample of every acknowledged (204) request must
// be readable, bit for bit. A SIGTERM at the end must exit 0 and lose
// nothing either.
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { Prng } from "../src/util/prng.ts";
import { lm, query, readBody, samplesOf } from "./_remote_read_helpers.ts";
import { spawnServer } from "./_process.ts";

const SEED = 4242;
const SERIES = 20;
const T0 = 1_790_000_000_000;

function requestBody(n: number): Uint8Array<ArrayBuffer> {
  // Request n carries one sample per series at T0 + n s, value n + series/100.
  return snappyEncode(encodeWriteRequest({
    timeseries: Array.from({ length: SERIES }, (_, s) => ({
      labels: [{ name: "__name__", value: "crash_probe" }, {
        name: "s",
        value: String(s).padStart(2, "0"),
      }],
      timestamps: Float64Array.of(T0 + n * 1000),
      values: Float64Array.of(n + s / 100),
    })),
  }));
}

async function readAll(base: string): Promise<Map<number, number>> {
  const res = await fetch(`${base}/api/v1/read`, {
    method: "POST",
    headers: {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
    },
    body: readBody([
      query(T0 - 1, T0 + 10_000_000, [lm(0, "__name__", "crash_probe")]),
    ]) as Uint8Array<ArrayBuffer>,
  });
  const r = await samplesOf(res);
  // Request number → samples found for it across the series.
  const found = new Map<number, number>();
  for (const ts of r.results[0].timeseries) {
    const s = Number(ts.labels.find((l) => l.name === "s")!.value);
    for (let i = 0; i < ts.timestamps.length; i++) {
      const n = (ts.timestamps[i] - T0) / 1000;
      assert.equal(
        ts.values[i],
        n + s / 100,
        `seed ${SEED}: value of ${n}/${s}`,
      );
      found.set(n, (found.get(n) ?? 0) + 1);
    }
  }
  return found;
}

Deno.test(`kill -9 loses no acknowledged remote write (seed ${SEED})`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tm-crash-" });
  const r = new Prng(SEED);
  const acked = new Set<number>();
  let next = 0;
  try {
    for (let round = 0; round < 4; round++) {
      const srv = await spawnServer(dir);
      const before = await readAll(srv.base);
      for (const n of acked) {
        assert.equal(
          before.get(n),
          SERIES,
          `seed ${SEED} round ${round}: request ${n} lost`,
        );
      }
      // Two concurrent senders; kill after a random number of acks.
      const killAfter = r.int(20, 120);
      let stop = false;
      const sender = async () => {
        while (!stop) {
          const n = next++;
          try {
            const res = await fetch(`${srv.base}/api/v1/write`, {
              method: "POST",
              headers: {
                "content-type": "application/x-protobuf",
                "content-encoding": "snappy",
              },
              body: requestBody(n),
            });
            await res.body?.cancel();
            if (res.status === 204) acked.add(n);
          } catch {
            return; // the process died mid-request: not acknowledged
          }
        }
      };
      const senders = [sender(), sender()];
      const target = acked.size + killAfter;
      while (acked.size < target) {
        await new Promise((res) => setTimeout(res, 2));
      }
      await srv.kill("SIGKILL");
      stop = true;
      await Promise.all(senders);
    }
    const srv = await spawnServer(dir);
    const after = await readAll(srv.base);
    for (const n of acked) {
      assert.equal(after.get(n), SERIES, `request ${n} lost`);
    }
    assert.ok(acked.size >= 80, `only ${acked.size} requests acknowledged`);
    console.log(`acknowledged ${acked.size} of ${next} requests over 4 kills`);
    const status = await srv.kill("SIGTERM");
    assert.equal(status.code, 0);
    const srv2 = await spawnServer(dir);
    const final = await readAll(srv2.base);
    for (const n of acked) assert.equal(final.get(n), SERIES);
    await srv2.kill("SIGKILL");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
