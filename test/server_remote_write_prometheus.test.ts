/**
 * Against a real Prometheus (Debian's 2.42): it scrapes itself and a static
 * exposition served by this test every second and remote-writes to our
 * handler. Once data has arrived, instant queries at the same timestamps
 * must agree between Prometheus' /api/v1/query and our PromQL engine:
 * known static values exactly, `up` = 1, and Prometheus' own series.
 */
import { startPrometheus } from "./_prometheus.ts";
import assert from "node:assert/strict";
import { createRemoteWriteHandler } from "../src/server/handlers/remote_write.ts";
import { MetadataStore } from "../src/ingest/remote_write_metadata.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { promError } from "../src/server/http/envelope.ts";
import { formatLabels } from "../src/model/labels.ts";
import { openTestDb } from "./ingest_remote_write_helpers.ts";

const PROMETHEUS = "/usr/bin/prometheus";

const STATIC = `# HELP tm_static_gauge A gauge with known values.
# TYPE tm_static_gauge gauge
tm_static_gauge{k="a"} 42.125
tm_static_gauge{k="b"} -1e-300
tm_static_gauge{k="c"} 1.7976931348623157e+308
# HELP tm_static_total A counter.
# TYPE tm_static_total counter
tm_static_total 12345678901
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Instant vector from Prometheus: formatted labels → value. */
async function promQuery(
  port: number,
  q: string,
  timeMs: number,
): Promise<Map<string, number>> {
  const url = `http://127.0.0.1:${port}/api/v1/query?query=${
    encodeURIComponent(q)
  }&time=${timeMs / 1000}`;
  const body = await (await fetch(url)).json();
  assert.equal(body.status, "success", JSON.stringify(body));
  const out = new Map<string, number>();
  for (const r of body.data.result) {
    const pairs = Object.entries(r.metric as Record<string, string>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => ({ name, value }));
    out.set(formatLabels(pairs), Number(r.value[1]));
  }
  return out;
}

Deno.test({
  name:
    "Prometheus 2.42 remote_write → our handler: same answers at the same timestamps",
  ignore: !(await Deno.stat(PROMETHEUS).then(() => true, () => false)),
  async fn() {
    const t = await openTestDb();
    const meta = new MetadataStore();
    const handler = createRemoteWriteHandler({ metadata: meta });
    let writes = 0;
    const failures: string[] = [];
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      async (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/static/metrics") {
          return new Response(STATIC, {
            headers: { "content-type": "text/plain; version=0.0.4" },
          });
        }
        if (path !== "/api/v1/write") {
          return new Response(null, { status: 404 });
        }
        try {
          const res = await handler(req, t.ctx("default"));
          writes++;
          return res;
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          failures.push(e.message);
          return promError(e);
        }
      },
    );
    const ourPort = server.addr.port;
    const dir = await Deno.makeTempDir({ prefix: "rw-prom-" });
    const prom = await startPrometheus(
      dir,
      (promPort) =>
        `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ["127.0.0.1:${promPort}"] }]
  - job_name: static
    metrics_path: /static/metrics
    static_configs: [{ targets: ["127.0.0.1:${ourPort}"] }]
remote_write:
  - url: http://127.0.0.1:${ourPort}/api/v1/write
    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }
    metadata_config: { send_interval: 1s }
`,
      ["--log.level=warn"],
    );
    const promPort = prom.port;
    try {
      // Wait for both jobs' data, at least 3 scrapes of the static target.
      const deadline = Date.now() + 25_000;
      let at = 0;
      for (;;) {
        if (Date.now() >= deadline) {
          assert.fail(
            `no data in time (${writes} writes, failures: ${
              failures.join("; ")
            })\n${await prom.log()}`,
          );
        }
        await sleep(500);
        const r = await t.ctx().engine.instantQuery(
          "default",
          'count_over_time(up{job="static"}[1m]) >= 3 and on() (count(up{job="prometheus"}) == 1)',
          Date.now(),
        );
        if (r.value.type === "vector" && r.value.samples.length === 1) {
          // The latest static scrape we hold: its timestamp is where we compare.
          const last = await t.ctx().engine.instantQuery(
            "default",
            'timestamp(up{job="static"})',
            Date.now(),
          );
          if (last.value.type === "vector" && last.value.samples.length) {
            at = last.value.samples[0].v * 1000;
            break;
          }
        }
      }
      assert.deepEqual(
        failures,
        [],
        "Prometheus' requests must all be accepted",
      );
      const ours = async (q: string) => {
        const r = await t.ctx().engine.instantQuery("default", q, at);
        assert.equal(r.value.type, "vector");
        const out = new Map<string, number>();
        if (r.value.type === "vector") {
          for (const s of r.value.samples) out.set(formatLabels(s.metric), s.v);
        }
        return out;
      };
      // Known values, exactly.
      const stat = await ours('{job="static"}');
      for (
        const [k, v] of [
          [
            'tm_static_gauge{instance="127.0.0.1:' + ourPort +
            '", job="static", k="a"}',
            42.125,
          ],
          [
            'tm_static_gauge{instance="127.0.0.1:' + ourPort +
            '", job="static", k="b"}',
            -1e-300,
          ],
          [
            'tm_static_gauge{instance="127.0.0.1:' + ourPort +
            '", job="static", k="c"}',
            1.7976931348623157e+308,
          ],
          [
            'tm_static_total{instance="127.0.0.1:' + ourPort +
            '", job="static"}',
            12345678901,
          ],
          ['up{instance="127.0.0.1:' + ourPort + '", job="static"}', 1],
        ] as const
      ) assert.equal(stat.get(k), v, `${k} in ${JSON.stringify([...stat])}`);
      // The same answers as Prometheus at the same time, series by series.
      for (
        const q of [
          '{job="static"}',
          "up",
          'prometheus_build_info{job="prometheus"}',
          'scrape_samples_scraped{job="prometheus"}',
          'scrape_duration_seconds{job="static"}',
        ]
      ) {
        const theirs = await promQuery(promPort, q, at);
        assert.ok(theirs.size > 0, `Prometheus has no ${q} at ${at}`);
        assert.deepEqual(await ours(q), theirs, `${q} at ${at}`);
      }
      // Metadata sent by Prometheus reached the store.
      const deadlineMeta = Date.now() + 5_000;
      while (!meta.get("default", "tm_static_gauge").tm_static_gauge) {
        assert.ok(Date.now() < deadlineMeta, "no metadata arrived");
        await sleep(250);
      }
      assert.deepEqual(meta.get("default", "tm_static_gauge"), {
        tm_static_gauge: [{
          type: "gauge",
          help: "A gauge with known values.",
          unit: "",
        }],
      });
    } finally {
      await prom.stop();
      await server.shutdown();
      await t.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
