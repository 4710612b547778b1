// Load: 50 concurrent query clients and a remote-write stream against the
// real server process for LOAD_SECONDS (default 30). No request may fail,
// and the server's resident memory must stay bounded (sampled each second).
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { spawnServer } from "./_process.ts";

const SECONDS = Number(Deno.env.get("LOAD_SECONDS") ?? 30);
const CLIENTS = 50;
const SERIES = 2000;
const STEP = 15_000;
/** Resident memory the server may reach under this load. */
const RSS_LIMIT = 768 << 20;

function body(t: number): Uint8Array<ArrayBuffer> {
  return snappyEncode(encodeWriteRequest({
    timeseries: Array.from({ length: SERIES }, (_, s) => ({
      labels: [
        {
          name: "__name__",
          value: s % 2 ? "load_gauge" : "load_requests_total",
        },
        { name: "instance", value: `i${s % 50}` },
        { name: "shard", value: String(s) },
      ],
      timestamps: Float64Array.of(t),
      values: Float64Array.of(s % 2 ? Math.sin(t / 1e6 + s) : t / 1000 + s),
    })),
  }));
}

async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

Deno.test(`load: ${CLIENTS} query clients + remote write for ${SECONDS} s`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tm-load-" });
  const srv = await spawnServer(dir);
  try {
    // One hour of history first.
    let t = Math.floor(Date.now() / STEP) * STEP - 3600_000;
    const headers = {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
    };
    for (; t < Date.now() - STEP; t += STEP) {
      const r = await fetch(`${srv.base}/api/v1/write`, {
        method: "POST",
        headers,
        body: body(t),
      });
      assert.equal(r.status, 204, await r.text());
    }
    const queries = [
      "sum by (instance) (rate(load_requests_total[5m]))",
      "avg_over_time(load_gauge[10m])",
      "topk(5, load_gauge)",
      'count({__name__=~"load_.+"})',
      "histogram_quantile(0.9, sum by (le) (rate(load_requests_total[5m])))",
    ];
    const end = Date.now() + SECONDS * 1000;
    const failures: string[] = [];
    let queriesDone = 0;
    let writesDone = 0;
    let peak = 0;
    const writer = (async () => {
      while (Date.now() < end) {
        t += STEP;
        const r = await fetch(`${srv.base}/api/v1/write`, {
          method: "POST",
          headers,
          body: body(t),
        });
        const text = await r.text();
        if (r.status !== 204) failures.push(`write ${r.status} ${text}`);
        writesDone++;
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const client = async (k: number) => {
      for (let i = 0; Date.now() < end; i++) {
        const q = encodeURIComponent(queries[(k + i) % queries.length]);
        const now = Date.now() / 1000;
        const url = i % 2
          ? `${srv.base}/api/v1/query?query=${q}`
          : `${srv.base}/api/v1/query_range?query=${q}&start=${
            now - 3600
          }&end=${now}&step=60`;
        const r = await fetch(url);
        const text = await r.text();
        if (r.status !== 200) {
          failures.push(`query ${r.status} ${text.slice(0, 200)}`);
        }
        queriesDone++;
      }
    };
    const sampler = (async () => {
      while (Date.now() < end) {
        peak = Math.max(peak, await rss(srv.pid));
        await new Promise((res) => setTimeout(res, 1000));
      }
    })();
    await Promise.all([
      writer,
      sampler,
      ...Array.from({ length: CLIENTS }, (_, k) => client(k)),
    ]);
    console.log(
      `${queriesDone} queries, ${writesDone} writes of ${SERIES} samples in ${SECONDS} s; peak RSS ${
        (peak / 2 ** 20).toFixed(0)
      } MiB`,
    );
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(queriesDone > CLIENTS, "queries ran");
    assert.ok(peak < RSS_LIMIT, `peak RSS ${peak}`);
    const h = await fetch(`${srv.base}/-/healthy`);
    assert.equal(h.status, 200);
    await h.body?.cancel();
  } finally {
    const status = await srv.kill("SIGTERM");
    assert.equal(status.code, 0);
    await Deno.remove(dir, { recursive: true });
  }
});
