// Debian's promtool as a real client of the query API: instant and range
// queries, series and label listings, in its JSON output format, checked
// against the samples the test wrote.
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { startTestServer } from "./_server.ts";

async function promtool(...args: string[]): Promise<string> {
  const out = await new Deno.Command("promtool", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(
    out.code,
    0,
    `promtool ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
  );
  return text;
}

Deno.test("promtool query instant|range|series|labels against the server", async () => {
  const tm = await startTestServer();
  try {
    // Recent data: promtool lists series of the last year only.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
    const app = tm.server.db.appender("default");
    const values = [0.5, 1.25, -3, 1e-7, 123456789.125];
    for (const [i, v] of values.entries()) {
      app.append(
        labelsFrom({ __name__: "tm_probe", slot: String(i) }),
        t0 + i * 1000,
        v,
      );
      for (let k = 0; k < 10; k++) {
        app.append(
          labelsFrom({ __name__: "tm_counter", slot: String(i) }),
          t0 + k * 10_000,
          k * (i + 1),
        );
      }
    }
    assert.equal((await app.commit()).rejected.length, 0);
    const at = String((t0 + 10_000) / 1000);

    const instant = JSON.parse(
      await promtool(
        "query",
        "instant",
        "-o",
        "json",
        `--time=${at}`,
        tm.base,
        "tm_probe",
      ),
    ) as { metric: Record<string, string>; value: [number, string] }[];
    assert.equal(instant.length, values.length);
    for (const s of instant) {
      assert.equal(Number(s.value[1]), values[Number(s.metric.slot)]);
      assert.equal(s.value[0], (t0 + 10_000) / 1000);
    }

    const range = JSON.parse(
      await promtool(
        "query",
        "range",
        "-o",
        "json",
        `--start=${t0 / 1000 + 30}`,
        `--end=${t0 / 1000 + 90}`,
        "--step=30s",
        tm.base,
        'rate(tm_counter{slot="2"}[1m])',
      ),
    ) as { metric: Record<string, string>; values: [number, string][] }[];
    assert.equal(range.length, 1);
    assert.deepEqual(range[0].metric, { slot: "2" });
    // A counter rising 3 per 10 s from 0 at t0. At t0+30 s the window holds
    // 0..9 and starts at the counter's zero: no extrapolation, 9 / 60 s.
    // Later windows hold 6 samples (15 over 50 s) extrapolated by the 10 s
    // gap to the window start: 18 / 60 s.
    assert.deepEqual(range[0].values.map((p) => Number(p[1])), [
      9 / 60,
      18 / 60,
      18 / 60,
    ]);

    const series = JSON.parse(
      await promtool(
        "query",
        "series",
        "-o",
        "json",
        "--match=tm_counter",
        tm.base,
      ),
    ) as Record<string, string>[];
    assert.deepEqual(
      series.map((s) => s.slot).sort(),
      values.map((_, i) => String(i)),
    );
    const labels = await promtool("query", "labels", tm.base, "slot");
    assert.deepEqual(labels.trim().split("\n"), ["0", "1", "2", "3", "4"]);
  } finally {
    await tm.close();
  }
});
