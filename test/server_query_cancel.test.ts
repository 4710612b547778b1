// Cancellation when the client goes away: a heavy query whose HTTP client
// aborts is canceled by the server while it reads its selectors (answered
// 503 canceled to nobody, counted in /metrics), well before it would have
// finished, and the server keeps serving.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { startTestServer } from "./_server.ts";

Deno.test("a query is canceled when its client goes away", async () => {
  const tm = await startTestServer();
  try {
    const t0 = Date.now() - 3600_000;
    const app = tm.server.db.appender("default");
    const ts = Float64Array.from({ length: 240 }, (_, i) => t0 + i * 15_000);
    for (let s = 0; s < 20_000; s++) {
      const vs = Float64Array.from(ts, (_, i) => i * (s % 7 + 1));
      app.appendSeries(
        labelsFrom({ __name__: "cancel_probe", s: String(s) }),
        ts,
        vs,
      );
    }
    assert.equal((await app.commit()).rejected.length, 0);
    const q = encodeURIComponent("sum(rate(cancel_probe[5m]))");
    const url = `${tm.base}/api/v1/query_range?query=${q}&start=${
      t0 / 1000
    }&end=${(t0 + 3600_000) / 1000}&step=15`;
    // How long the whole query takes.
    const full0 = performance.now();
    const full = await fetch(url);
    assert.equal(full.status, 200);
    await full.body?.cancel();
    const fullMs = performance.now() - full0;

    const metric = async () => {
      const text = await (await fetch(`${tm.base}/metrics`)).text();
      const line = text.split("\n").find((l) =>
        l.startsWith(
          'tidemark_http_requests_total{route="/api/v1/query_range",code="503"}',
        )
      );
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const ac = new AbortController();
    const started = performance.now();
    const pending = fetch(url, { signal: ac.signal }).catch((e) => e);
    // Late enough for the request to reach the server, early in its reading.
    setTimeout(() => ac.abort(), Math.max(20, fullMs / 10));
    assert.ok((await pending) instanceof Error, "the client aborted");
    let canceledAfter = Infinity;
    for (let i = 0; i < 400; i++) {
      if ((await metric()) === 1) {
        canceledAfter = performance.now() - started;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(
      Number.isFinite(canceledAfter),
      "the server answered 503 canceled",
    );
    assert.ok(
      canceledAfter < fullMs * 0.8 + 50,
      `canceled after ${canceledAfter.toFixed(0)} ms; the whole query takes ${
        fullMs.toFixed(0)
      } ms`,
    );
    const ok = await fetch(`${tm.base}/api/v1/query?query=1`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await tm.close();
  }
});
