// Tenant isolation on the write and export routes of the whole server:
// what one tenant remote-writes or pushes is invisible to another through
// remote read, PromQL, telemetry and the Pushgateway routes, and another
// tenant's DELETE cannot remove it.
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { lm, query, readBody, samplesOf } from "./_remote_read_helpers.ts";
import { startTestServer } from "./_server.ts";

const ACME = { authorization: `Basic ${btoa("acme:sk_acme")}` };
const INITECH = { authorization: "Bearer sk_initech" };

Deno.test("isolation on remote write/read, Pushgateway and telemetry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tm-wiso-" });
  await Deno.writeTextFile(
    `${dir}/auth.json`,
    JSON.stringify({
      tenants: {
        acme: { tokens: ["sk_acme"] },
        initech: { tokens: ["sk_initech"] },
      },
    }),
  );
  const tm = await startTestServer({
    authFile: `${dir}/auth.json`,
    dataDir: `${dir}/data`,
  });
  try {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const body = snappyEncode(encodeWriteRequest({
      timeseries: [{
        labels: [{ name: "__name__", value: "orders_total" }, {
          name: "shop",
          value: "east",
        }],
        timestamps: Float64Array.of(t0, t0 + 30_000, t0 + 60_000),
        values: Float64Array.of(1, 5, 12),
      }],
    }));
    const write = (headers: Record<string, string>) =>
      fetch(`${tm.base}/api/v1/write`, {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/x-protobuf",
          "content-encoding": "snappy",
        },
        body,
      });
    const noAuth = await write({});
    assert.equal(noAuth.status, 401);
    await noAuth.body?.cancel();
    const w = await write(ACME);
    assert.equal(w.status, 204, await w.text());

    // Remote read: acme sees its 3 samples, initech nothing.
    const rr = readBody([
      query(t0 - 1000, t0 + 61_000, [lm(0, "__name__", "orders_total")]),
    ]);
    const readAs = (headers: Record<string, string>) =>
      fetch(`${tm.base}/api/v1/read`, {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/x-protobuf",
          "content-encoding": "snappy",
        },
        body: rr as Uint8Array<ArrayBuffer>,
      });
    const mine = await samplesOf(await readAs(ACME));
    assert.deepEqual(
      Array.from(mine.results[0].timeseries[0].values),
      [1, 5, 12],
    );
    const theirs = await samplesOf(await readAs(INITECH));
    assert.equal(theirs.results[0].timeseries.length, 0);

    // Telemetry: the increase (4 + 7) for acme, nothing for initech.
    const tele = (headers: Record<string, string>) =>
      fetch(`${tm.base}/api/v1/tenant/telemetry`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          metric: "orders_total",
          tags: { shop: ["east"] },
          start: t0 - 1000,
          end: t0 + 119_000,
          step: "2m",
        }),
      }).then(async (r) => {
        assert.equal(r.status, 200);
        return (await r.json()).data;
      });
    assert.deepEqual(await tele(ACME), [{
      ts: t0 - 1000,
      bucket: { east: { count: 11 } },
    }]);
    assert.deepEqual(await tele(INITECH), [{ ts: t0 - 1000, bucket: {} }]);

    // Pushgateway: acme's group survives initech's DELETE of the same path.
    const push = await fetch(`${tm.base}/metrics/job/nightly`, {
      method: "PUT",
      headers: ACME,
      body: "backup_ok 1\n",
    });
    assert.equal(push.status, 200);
    await push.body?.cancel();
    const del = await fetch(`${tm.base}/metrics/job/nightly`, {
      method: "DELETE",
      headers: INITECH,
    });
    assert.equal(del.status, 202);
    await del.body?.cancel();
    const q = (headers: Record<string, string>, expr: string) =>
      fetch(`${tm.base}/api/v1/query?query=${encodeURIComponent(expr)}`, {
        headers,
      }).then(async (r) => (await r.json()).data.result);
    const acmeSees = await q(ACME, "backup_ok");
    assert.equal(acmeSees.length, 1);
    assert.equal(acmeSees[0].value[1], "1");
    assert.deepEqual(await q(INITECH, "backup_ok"), []);
    assert.deepEqual(await q(INITECH, "orders_total"), []);
    assert.deepEqual(
      await q(INITECH, 'count({__name__=~".+"})'),
      [],
    );
  } finally {
    await tm.close(true);
    await Deno.remove(dir, { recursive: true });
  }
});
