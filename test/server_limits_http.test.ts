// Limits through the whole server: request bodies over the limit are
// refused with 413 before they are buffered, a snappy header announcing
// gigabytes is refused without allocating them, and a tenant's active
// series limit keeps the series within it while refusing the rest.
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { startTestServer } from "./_server.ts";

const PB = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
};

Deno.test("413 for a body over 32 MiB, declared or streamed, before buffering it", async () => {
  const tm = await startTestServer();
  try {
    const heap0 = Deno.memoryUsage().rss;
    // Declared length: refused before a byte is read.
    const big = new Uint8Array(40 << 20);
    const r1 = await fetch(`${tm.base}/api/v1/write`, {
      method: "POST",
      headers: PB,
      body: big,
    });
    assert.equal(r1.status, 413);
    assert.equal((await r1.json()).errorType, "payload_too_large");
    // Streamed without a length: refused once 32 MiB have passed.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 64 << 20) return c.close();
        sent += 1 << 20;
        c.enqueue(new Uint8Array(1 << 20));
      },
    });
    const r2 = await fetch(`${tm.base}/api/v1/write`, {
      method: "POST",
      headers: PB,
      body: stream,
    }).catch((e) => e as Error);
    if (r2 instanceof Response) {
      assert.equal(r2.status, 413);
      await r2.body?.cancel();
    } // else the server closed the upload early, which is also a refusal
    // A snappy block announcing 4 GiB - 1 (the largest length snappy can state).
    const header = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    const r3 = await fetch(`${tm.base}/api/v1/write`, {
      method: "POST",
      headers: PB,
      body: header,
    });
    assert.equal(r3.status, 413);
    await r3.body?.cancel();
    // Nothing like the refused sizes was allocated (test and server share a process).
    const grown = Deno.memoryUsage().rss - heap0;
    assert.ok(grown < 200 << 20, `RSS grew ${grown} bytes`);
  } finally {
    await tm.close();
  }
});

Deno.test("a tenant's active series limit: series within it kept, the rest refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tm-limits-" });
  await Deno.writeTextFile(
    `${dir}/auth.json`,
    JSON.stringify({
      tenants: {
        small: { tokens: ["sk_small"], limits: { maxActiveSeries: 5 } },
      },
    }),
  );
  const tm = await startTestServer({
    authFile: `${dir}/auth.json`,
    dataDir: `${dir}/data`,
  });
  try {
    const t = Date.now() - 60_000;
    const body = snappyEncode(encodeWriteRequest({
      timeseries: Array.from({ length: 8 }, (_, i) => ({
        labels: [{ name: "__name__", value: "lim" }, {
          name: "i",
          value: String(i),
        }],
        timestamps: Float64Array.of(t),
        values: Float64Array.of(i),
      })),
    }));
    const res = await fetch(`${tm.base}/api/v1/write`, {
      method: "POST",
      headers: { ...PB, authorization: "Bearer sk_small" },
      body,
    });
    assert.equal(res.status, 400);
    const err = await res.json();
    assert.match(err.error, /too many series/);
    const q = await fetch(`${tm.base}/api/v1/query?query=count(lim)`, {
      headers: { authorization: "Bearer sk_small" },
    });
    assert.equal((await q.json()).data.result[0].value[1], "5");
  } finally {
    await tm.close(true);
    await Deno.remove(dir, { recursive: true });
  }
});
