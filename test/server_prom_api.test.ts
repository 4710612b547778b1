// The Prometheus HTTP API side by side with Debian's Prometheus 2.42 as
// the oracle: the same samples are remote-written into Prometheus and
// appended into Tidemark, then the same requests go to both; status codes,
// error types and (for successes) the data must agree. Requests avoid the
// documented 2.x/3.x differences (window edges, start-of-series
// extrapolation) by keeping samples off step boundaries.
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { labelsFrom } from "../src/model/labels.ts";
import { startPrometheus } from "./_prometheus.ts";
import { startTestServer } from "./_server.ts";

const STEP = 15_000;
const POINTS = 241; // one hour
// Samples 7.3 s after whole 15 s steps, so no window edge lands on one.
const T0 = Math.floor((Date.now() - 3600_000) / 60_000) * 60_000 + 7_300;
const END = T0 + (POINTS - 1) * STEP;

interface SeriesDef {
  labels: Record<string, string>;
  value: (i: number) => number;
}

const SERIES: SeriesDef[] = [];
for (const job of ["api", "db"]) {
  for (const instance of ["a:1", "b:2", "c:3"]) {
    const k = instance.charCodeAt(0) - 96 + (job === "db" ? 10 : 0);
    SERIES.push({
      labels: { __name__: "http_requests_total", job, instance },
      // A counter with a reset two-thirds of the way.
      value: (i) => (i < 160 ? i * k * 3 : (i - 160) * k),
    });
    SERIES.push({
      labels: { __name__: "temperature_celsius", job, instance },
      value: (i) => 20 + k + Math.sin(i / 10) * 3.25,
    });
  }
}
for (const le of ["0.1", "0.5", "1", "+Inf"]) {
  SERIES.push({
    labels: { __name__: "latency_seconds_bucket", le, job: "api" },
    value: (i) =>
      i * (le === "0.1" ? 2 : le === "0.5" ? 5 : le === "1" ? 7 : 8),
  });
}

function writeBody(): Uint8Array<ArrayBuffer> {
  return snappyEncode(encodeWriteRequest({
    timeseries: SERIES.map((s) => ({
      labels: Object.entries(s.labels).map(([name, value]) => ({ name, value }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      timestamps: Float64Array.from(
        { length: POINTS },
        (_, i) => T0 + i * STEP,
      ),
      values: Float64Array.from({ length: POINTS }, (_, i) => s.value(i)),
    })),
  }));
}

interface Answer {
  status: number;
  body: { status: string; errorType?: string; data?: unknown };
}

async function ask(base: string, path: string, form?: string): Promise<Answer> {
  const res = form === undefined ? await fetch(base + path) : await fetch(
    base + path,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    },
  );
  return { status: res.status, body: await res.json() };
}

/** Data equality with values compared within 1e-9 relative. */
function sameData(a: unknown, b: unknown, where: string): void {
  if (typeof a === "string" && typeof b === "string") {
    const x = Number(a), y = Number(b);
    if (a !== b && !Number.isNaN(x) && !Number.isNaN(y)) {
      assert.ok(
        Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)),
        `${where}: ${a} vs ${b}`,
      );
      return;
    }
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${where}: length`);
    a.forEach((x, i) => sameData(x, b[i], `${where}[${i}]`));
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    assert.deepEqual(
      Object.keys(a).sort(),
      Object.keys(b).sort(),
      `${where}: keys`,
    );
    for (const k of Object.keys(a)) {
      sameData(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${where}.${k}`,
      );
    }
    return;
  }
  assert.deepEqual(a, b, where);
}

const enc = encodeURIComponent;
const at = (ms: number) => String(ms / 1000);

Deno.test("Prometheus HTTP API agrees with Prometheus 2.42", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "tm-promapi-" });
  const prom = await startPrometheus(root, "global:\n  scrape_interval: 1h\n", [
    "--web.enable-remote-write-receiver",
  ]);
  const tm = await startTestServer();
  try {
    const res = await fetch(`${prom.base}/api/v1/write`, {
      method: "POST",
      headers: {
        "content-type": "application/x-protobuf",
        "content-encoding": "snappy",
      },
      body: writeBody(),
    });
    assert.equal(res.status, 204, await res.text());
    const app = tm.server.db.appender("default");
    for (const s of SERIES) {
      const labels = labelsFrom(s.labels);
      for (let i = 0; i < POINTS; i++) {
        app.append(labels, T0 + i * STEP, s.value(i));
      }
    }
    const r = await app.commit();
    assert.equal(r.rejected.length, 0);

    const mid = T0 + 150 * STEP + 1_000;
    const cases: [string, string, string?][] = [
      [
        "instant selector",
        `/api/v1/query?query=temperature_celsius&time=${at(mid)}`,
      ],
      [
        "rate by job",
        `/api/v1/query?query=${
          enc("sum by (job) (rate(http_requests_total[5m]))")
        }&time=${at(mid)}`,
      ],
      [
        "increase over reset",
        `/api/v1/query?query=${
          enc("increase(http_requests_total[30m])")
        }&time=${at(T0 + 170 * STEP + 500)}`,
      ],
      [
        "histogram_quantile",
        `/api/v1/query?query=${
          enc("histogram_quantile(0.9, rate(latency_seconds_bucket[5m]))")
        }&time=${at(mid)}`,
      ],
      ["scalar", `/api/v1/query?query=${enc("1 + 2 * 3")}&time=${at(mid)}`],
      ["string", `/api/v1/query?query=${enc('"hello"')}&time=${at(mid)}`],
      [
        "rfc3339 time",
        `/api/v1/query?query=temperature_celsius&time=${
          new Date(mid).toISOString()
        }`,
      ],
      [
        "range query",
        `/api/v1/query_range?query=${
          enc("avg by (instance) (temperature_celsius)")
        }&start=${at(T0 + 60_000)}&end=${at(END)}&step=60`,
      ],
      [
        "range query duration step",
        `/api/v1/query_range?query=${
          enc("sum(rate(http_requests_total[2m]))")
        }&start=${at(T0 + 601_000)}&end=${at(END)}&step=5m`,
      ],
      [
        "range scalar",
        `/api/v1/query_range?query=time&start=${at(T0)}&end=${
          at(T0 + 600_000)
        }&step=120`.replace("time", enc("time()")),
      ],
      [
        "POST form query",
        "/api/v1/query",
        `query=${enc("max(temperature_celsius)")}&time=${at(mid)}`,
      ],
      [
        "POST form range",
        "/api/v1/query_range",
        `query=${enc("count(temperature_celsius)")}&start=${at(T0)}&end=${
          at(END)
        }&step=300`,
      ],
      [
        "series",
        `/api/v1/series?match[]=${enc('temperature_celsius{job="db"}')}&start=${
          at(T0)
        }&end=${at(END)}`,
      ],
      [
        "series two matchers",
        `/api/v1/series?match[]=${enc("latency_seconds_bucket")}&match[]=${
          enc('{job="api",__name__=~"temp.*"}')
        }`,
      ],
      ["labels", `/api/v1/labels`],
      ["labels with match", `/api/v1/labels?match[]=latency_seconds_bucket`],
      ["label values", `/api/v1/label/instance/values`],
      ["metric names", `/api/v1/label/__name__/values`],
      [
        "label values with match",
        `/api/v1/label/le/values?match[]=${enc('{job="api"}')}`,
      ],
      ["unknown label", `/api/v1/label/nope/values`],
      // Errors: status and errorType must agree.
      ["parse error", `/api/v1/query?query=${enc("sum(")}`],
      ["missing query", `/api/v1/query`],
      ["bad time", `/api/v1/query?query=1&time=yesterday`],
      ["bad timeout", `/api/v1/query?query=1&timeout=soon`],
      [
        "range vector in range query",
        `/api/v1/query_range?query=${enc("up[5m]")}&start=0&end=60&step=15`,
      ],
      ["zero step", `/api/v1/query_range?query=1&start=0&end=60&step=0`],
      ["negative step", `/api/v1/query_range?query=1&start=0&end=60&step=-15`],
      [
        "end before start",
        `/api/v1/query_range?query=1&start=60&end=0&step=15`,
      ],
      [
        "too many points",
        `/api/v1/query_range?query=1&start=0&end=11001&step=1`,
      ],
      ["missing step", `/api/v1/query_range?query=1&start=0&end=60`],
      [
        "bad regex in label_replace",
        `/api/v1/query?query=${
          enc('label_replace(temperature_celsius, "a", "b", "c", "(")')
        }&time=${at(mid)}`,
      ],
      [
        "duplicate label sets",
        `/api/v1/query?query=${
          enc('label_replace(temperature_celsius, "instance", "x", "", "")')
        }&time=${at(mid)}`,
      ],
      ["series without match", `/api/v1/series`],
      ["series bad selector", `/api/v1/series?match[]=${enc("foo{")}`],
      ["series empty matcher", `/api/v1/series?match[]=${enc('{a=""}')}`],
    ];
    for (const [name, path, form] of cases) {
      await t.step(name, async () => {
        const [want, got] = await Promise.all([
          ask(prom.base, path, form),
          ask(tm.base, path, form),
        ]);
        assert.equal(
          got.status,
          want.status,
          JSON.stringify({ want: want.body, got: got.body }),
        );
        assert.equal(got.body.status, want.body.status);
        assert.equal(got.body.errorType, want.body.errorType);
        if (want.body.status === "success") {
          sameData(got.body.data, want.body.data, name);
        }
      });
    }
  } finally {
    await tm.close();
    await prom.stop();
    await Deno.remove(root, { recursive: true });
  }
});
