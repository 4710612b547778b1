// /metrics: the text format passes promtool's linter, and the figures
// follow what the test did (requests by route and code, remote-written
// samples, active series per tenant).
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { startTestServer } from "./_server.ts";

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line, `no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

Deno.test("/metrics: promtool-clean exposition with request, ingest and series figures", async () => {
  const tm = await startTestServer();
  try {
    const t = Date.now() - 30_000;
    const body = snappyEncode(encodeWriteRequest({
      timeseries: Array.from({ length: 7 }, (_, i) => ({
        labels: [{ name: "__name__", value: "sm" }, {
          name: "i",
          value: String(i),
        }],
        timestamps: Float64Array.of(t, t + 10_000),
        values: Float64Array.of(i, i + 1),
      })),
    }));
    for (let k = 0; k < 2; k++) {
      const r = await fetch(`${tm.base}/api/v1/write`, {
        method: "POST",
        headers: {
          "content-type": "application/x-protobuf",
          "content-encoding": "snappy",
        },
        body,
      });
      assert.equal(r.status, 204);
    }
    for (const q of ["sm", "sum(", "sm"]) {
      const r = await fetch(
        `${tm.base}/api/v1/query?query=${encodeURIComponent(q)}`,
      );
      await r.body?.cancel();
    }
    const res = await fetch(`${tm.base}/metrics`);
    assert.match(
      res.headers.get("content-type") ?? "",
      /text\/plain; version=0\.0\.4/,
    );
    const text = await res.text();
    const lint = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = lint.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const out = await lint.output();
    const msg = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, msg);
    assert.equal(
      value(
        text,
        'tidemark_http_requests_total{route="/api/v1/query",code="200"}',
      ),
      2,
    );
    assert.equal(
      value(
        text,
        'tidemark_http_requests_total{route="/api/v1/query",code="400"}',
      ),
      1,
    );
    assert.equal(
      value(
        text,
        'tidemark_http_requests_total{route="/api/v1/write",code="204"}',
      ),
      2,
    );
    // The second body is an identical resend: 28 samples written in all
    // (Prometheus counts identical resends as written).
    assert.equal(
      value(
        text,
        'tidemark_remote_write_samples_total{tenant="default",protocol="1.0"}',
      ),
      28,
    );
    assert.equal(value(text, 'tidemark_active_series{tenant="default"}'), 7);
    assert.ok(value(text, "process_resident_memory_bytes") > 10e6);
    assert.ok(value(text, "tidemark_wal_bytes") > 0);
  } finally {
    await tm.close();
  }
});
