// Query limits at the API: a query past its timeout answers 503 `timeout`,
// a request's `timeout` can only lower the server's, too many points is
// 400 with Prometheus' wording (the samples limit is tested on the engine,
// test/promql_limits.test.ts).
import assert from "node:assert/strict";
import { startTestServer } from "./_server.ts";

async function ask(base: string, path: string) {
  const r = await fetch(base + path);
  return { status: r.status, body: await r.json() };
}

Deno.test("query limits at the API: timeout 503, points 400", async () => {
  const tm = await startTestServer({ queryTimeoutMs: 60_000 });
  try {
    // 604,800 subquery steps take far longer than 5 ms anywhere.
    const heavy = encodeURIComponent("count_over_time(vector(1)[7d:1s])");
    const slow = await ask(
      tm.base,
      `/api/v1/query?query=${heavy}&time=1000000&timeout=0.005`,
    );
    assert.equal(slow.status, 503);
    assert.equal(slow.body.errorType, "timeout");
    const fine = await ask(
      tm.base,
      `/api/v1/query?query=${heavy}&time=1000000`,
    );
    assert.equal(fine.status, 200);
    assert.equal(fine.body.data.result[0].value[1], "604800");
    const points = await ask(
      tm.base,
      "/api/v1/query_range?query=1&start=0&end=110010&step=10",
    );
    assert.equal(points.status, 400);
    assert.match(points.body.error, /11,000 points/);
  } finally {
    await tm.close();
  }
});
