// The Metrics API's contract limits through the whole server: with an auth
// file, batch requests are limited to 10 per minute by default (429,
// Retry-After, code rate_limited in the Metrics API envelope), a batch of
// more than 500 items is refused whole, and a missing credential is an
// `unauthorized` error in the same envelope.
import assert from "node:assert/strict";
import { startTestServer } from "./_server.ts";

Deno.test("Metrics API: batch rate limit, batch size, unauthorized", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tm-mapi-lim-" });
  await Deno.writeTextFile(
    `${dir}/auth.json`,
    JSON.stringify({ tenants: { acme: { tokens: ["sk_acme"] } } }),
  );
  const tm = await startTestServer({
    authFile: `${dir}/auth.json`,
    dataDir: `${dir}/data`,
  });
  const auth = {
    authorization: "Bearer sk_acme",
    "content-type": "application/json",
  };
  try {
    const batch = (n: number) =>
      JSON.stringify({
        metrics: Array.from({ length: n }, (_, i) => ({
          name: "api.requests",
          type: "counter",
          value: 1,
          tags: { endpoint: `/e${i % 3}` },
        })),
      });
    const big = await fetch(`${tm.base}/api/v1/metrics/batch`, {
      method: "POST",
      headers: auth,
      body: batch(501),
    });
    assert.equal(big.status, 400);
    assert.equal((await big.json()).error.code, "batch_too_large");
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 11; i++) {
      const r = await fetch(`${tm.base}/api/v1/metrics/batch`, {
        method: "POST",
        headers: auth,
        body: batch(2),
      });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
      else await r.body?.cancel();
    }
    // The refused oversized batch counted as one of the 10.
    assert.deepEqual(statuses, [
      200,
      200,
      200,
      200,
      200,
      200,
      200,
      200,
      200,
      429,
      429,
    ]);
    assert.ok(limited);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    assert.equal((await limited.json()).error.code, "rate_limited");
    // Exactly the nine accepted batches of two increments were counted.
    const def = await fetch(`${tm.base}/api/v1/metrics/api.requests`, {
      headers: auth,
    });
    assert.equal((await def.json()).data.data_points, 18);
    const anon = await fetch(`${tm.base}/api/v1/metrics`);
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).error.code, "unauthorized");
  } finally {
    await tm.close(true);
    await Deno.remove(dir, { recursive: true });
  }
});
