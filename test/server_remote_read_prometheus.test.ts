// Remote read against the real thing (Debian's Prometheus 2.42):
// (b) Prometheus configured with `remote_read` from our handler answers
//     PromQL over the samples we wrote, equal to what we wrote;
// (c) our STREAMED_XOR_CHUNKS answer compared with Prometheus' own answer
//     for the same samples (remote-written into it): same samples bit for
//     bit, same frames, and the same chunk bytes where boundaries coincide.
import { startPrometheus as startPrometheusIn } from "./_prometheus.ts";
import assert from "node:assert/strict";
import { encodeWriteRequest } from "../src/codec/prompb.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { labelsKey } from "../src/model/labels.ts";
import {
  createRemoteReadHandler,
  handleRemoteRead,
} from "../src/server/handlers/remote_read.ts";
import { Db } from "../src/storage/db.ts";
import {
  bitsOf,
  chunkBits,
  expectedBits,
  fixture,
  type FixtureSeries,
  framesOf,
  lm,
  post,
  query,
  readBody,
  samplesOf,
  serve,
  T0,
  writeFixture,
} from "./_remote_read_helpers.ts";

const SEED = 4242;
const STEP = 15_000;
const PROMETHEUS = "/usr/bin/prometheus";
const HAVE_PROMETHEUS = (() => {
  try {
    return Deno.statSync(PROMETHEUS).isFile;
  } catch {
    return false;
  }
})();

interface Peer {
  base: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts Prometheus on a free port with an empty TSDB in a temp dir. */
async function startPrometheus(config: string, flags: string[]): Promise<Peer> {
  const dir = await Deno.makeTempDir({ prefix: "rread-prom-" });
  const p = await startPrometheusIn(dir, config, [
    "--log.level=warn",
    ...flags,
  ]);
  return {
    base: p.base,
    dir,
    stop: async () => {
      await p.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function withOurServer(
  fn: (url: string, series: FixtureSeries[], db: Db) => Promise<void>,
  handler = handleRemoteRead,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rread-" });
  const db = await Db.open({ dataDir: dir, fsync: "never" });
  const srv = serve(db, handler);
  try {
    const series = fixture(SEED);
    await writeFixture(db, series);
    await fn(srv.url, series, db);
    assert.deepEqual(srv.thrown, []);
  } finally {
    await srv.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Prometheus' float text back to a number. */
function promFloat(s: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** What PromQL sees at `t`: the latest sample within 5 m, none if stale. */
function instantAt(s: FixtureSeries, t: number): number | null {
  let i = -1;
  for (let k = 0; k < s.ts.length && s.ts[k] <= t; k++) i = k;
  if (i < 0 || s.ts[i] < t - 300_000) return null;
  const w = new Uint32Array(s.vs.buffer, i * 8, 2);
  if (w[1] === 0x7ff00000 && w[0] === 2) return null; // stale marker
  return s.vs[i];
}

function sameFloat(got: number, want: number): boolean {
  return Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want);
}

async function promQuery(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<
  {
    metric: Record<string, string>;
    values?: [number, string][];
    value?: [number, string];
  }[]
> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  const body = await res.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  return body.data.result;
}

Deno.test({
  name:
    "Prometheus 2.42 with remote_read from us answers PromQL with our samples",
  ignore: !HAVE_PROMETHEUS,
  fn: async () => {
    await withOurServer(async (url, series) => {
      const prom = await startPrometheus(
        [
          "global: {scrape_interval: 1h}",
          "remote_read:",
          `  - url: ${url}`,
          "    read_recent: true",
          "",
        ].join("\n"),
        [],
      );
      try {
        const end = T0 + 399 * STEP;
        // A range query over every series of rr_a, step = the sample interval.
        const range = await promQuery(prom.base, "/api/v1/query_range", {
          query: "rr_a",
          start: String(T0 / 1000),
          end: String(end / 1000),
          step: "15",
        });
        assert.deepEqual(range.map((r) => r.metric.job), ["a", "b"]);
        let points = 0;
        for (const r of range) {
          const s = series.find((x) =>
            x.labels.some((l) => l.value === r.metric.job)
          )!;
          const want: [number, number][] = [];
          for (let t = T0; t <= end; t += STEP) {
            const v = instantAt(s, t);
            if (v !== null) want.push([t, v]);
          }
          assert.equal(
            r.values!.length,
            want.length,
            `job ${r.metric.job} points`,
          );
          r.values!.forEach(([t, v], i) => {
            assert.equal(Math.round(t * 1000), want[i][0]);
            assert.ok(
              sameFloat(promFloat(v), want[i][1]),
              `job ${r.metric.job} at ${t}: ${v} vs ${want[i][1]}`,
            );
          });
          points += want.length;
        }
        assert.ok(points > 500, `points compared: ${points}`);
        // -0 survives the whole way (Prometheus formats it "-0").
        const a = range[0].values!;
        assert.equal(
          a.find(([t]) => Math.round(t * 1000) === T0 + 5 * STEP)![1],
          "-0",
        );
        // The stale marker at sample 33 ends the series there.
        assert.ok(!a.some(([t]) => Math.round(t * 1000) === T0 + 33 * STEP));
        // Regex matcher, instant query.
        const at = T0 + 100 * STEP;
        const inst = await promQuery(prom.base, "/api/v1/query", {
          query: '{__name__=~"rr_.*", job=~"a|b"}',
          time: String(at / 1000),
        });
        assert.deepEqual(inst.map((r) => r.metric.job), ["a", "b"]);
        for (const r of inst) {
          const s = series.find((x) =>
            x.labels.some((l) => l.value === r.metric.job)
          )!;
          assert.ok(sameFloat(promFloat(r.value![1]), instantAt(s, at)!));
        }
        const other = await promQuery(prom.base, "/api/v1/query_range", {
          query: 'rr_other{x=~"1|2"}',
          start: String(T0 / 1000),
          end: String((T0 + 49 * 60_000) / 1000),
          step: "60",
        });
        assert.equal(other.length, 1);
        const o = series[2];
        other[0].values!.forEach(([t, v]) => {
          const want = instantAt(o, Math.round(t * 1000));
          assert.ok(
            want !== null && sameFloat(promFloat(v), want),
            `rr_other at ${t}`,
          );
        });
        assert.equal(
          other[0].values!.length,
          50 - 1,
          "49 points: sample 33 is stale",
        );
      } finally {
        await prom.stop();
      }
    });
  },
});

/** Streamed answer of `base` as {key → chunks}, plus the raw frame list. */
async function streamedFrom(url: string, body: Uint8Array) {
  const { messages, sizes } = await framesOf(await post(url, body));
  return { messages, sizes };
}

// With Prometheus' default frame budget (1 MiB) and a tiny one (300 bytes,
// --storage.remote.read-max-bytes-in-frame) that splits series over frames.
for (const frameBytes of [undefined, 300]) {
  Deno.test({
    name:
      `STREAMED_XOR_CHUNKS: our frames against Prometheus 2.42's for the same samples (frame budget ${
        frameBytes ?? "default"
      })`,
    ignore: !HAVE_PROMETHEUS,
    fn: async () => {
      await withOurServer(async (url, series, db) => {
        const prom = await startPrometheus("global: {scrape_interval: 1h}\n", [
          "--web.enable-remote-write-receiver",
          ...(frameBytes
            ? [`--storage.remote.read-max-bytes-in-frame=${frameBytes}`]
            : []),
        ]);
        try {
          const wr = snappyEncode(encodeWriteRequest({
            timeseries: series.map((s) => ({
              labels: s.labels.map((l) => ({ ...l })),
              timestamps: s.ts,
              values: s.vs,
            })),
          }));
          const w = await fetch(`${prom.base}/api/v1/write`, {
            method: "POST",
            body: wr,
            headers: {
              "content-type": "application/x-protobuf",
              "content-encoding": "snappy",
              "x-prometheus-remote-write-version": "0.1.0",
            },
          });
          assert.equal(w.status, 204, await w.text());
          const queries = [
            query(T0 - 1e6, T0 + 1e8, [lm(2, "__name__", "rr_.*")]), // everything
            query(T0 + 100 * STEP, T0 + 350 * STEP, [
              lm(0, "__name__", "rr_a"),
            ]), // edges on samples
            query(T0 + 100 * STEP + 1, T0 + 350 * STEP - 1, [
              lm(0, "__name__", "rr_a"),
            ]), // edges between
            query(T0 + 125 * STEP, T0 + 200 * STEP, [lm(0, "job", "a")]), // inside one chunk
          ];
          const body = readBody(queries, [1]);
          const ours = await streamedFrom(url, body);
          const theirs = await streamedFrom(`${prom.base}/api/v1/read`, body);
          // Same frames: one series per frame, same series, same chunk bounds.
          const shape = (m: typeof ours.messages) =>
            m.map((x) => ({
              q: x.queryIndex,
              series: x.chunkedSeries.map((c) => ({
                labels: labelsKey(c.labels),
                bounds: c.chunks.map((k) => `${k.minTimeMs}-${k.maxTimeMs}`),
              })),
            }));
          assert.deepEqual(shape(ours.messages), shape(theirs.messages));
          // Same samples bit for bit, equal to what was written.
          let chunks = 0;
          let sameBytes = 0;
          ours.messages.forEach((m, i) => {
            const p = theirs.messages[i];
            m.chunkedSeries[0].chunks.forEach((c, k) => {
              const pc = p.chunkedSeries[0].chunks[k];
              assert.deepEqual(
                chunkBits(db.engine, c.data),
                chunkBits(db.engine, pc.data),
                `frame ${i} chunk ${k}`,
              );
              chunks++;
              if (
                c.data.length === pc.data.length &&
                c.data.every((b, j) => b === pc.data[j])
              ) sameBytes++;
            });
          });
          for (const [q, qu] of queries.entries()) {
            for (const s of series) {
              const got = ours.messages
                .filter((m) =>
                  m.queryIndex === q &&
                  labelsKey(m.chunkedSeries[0].labels) === labelsKey(s.labels)
                )
                .flatMap((m) =>
                  m.chunkedSeries[0].chunks.flatMap((c) =>
                    chunkBits(db.engine, c.data)
                  )
                );
              const selected = q !== 3 || s === series[0];
              const want = selected && (q === 0 || s !== series[2])
                ? expectedBits(s, qu.startTimestampMs, qu.endTimestampMs)
                : [];
              assert.deepEqual(got, want, `query ${q} ${labelsKey(s.labels)}`);
            }
          }
          console.log(
            `chunks compared: ${chunks}; byte-identical: ${sameBytes}; frames ${ours.sizes.length} (bytes ours ${
              sum(ours.sizes)
            }, Prometheus ${sum(theirs.sizes)})`,
          );
          assert.equal(
            sameBytes,
            chunks,
            "every chunk byte-identical to Prometheus'",
          );
          assert.deepEqual(ours.sizes, theirs.sizes, "frame sizes");
          // Hence the whole streamed bodies are byte-identical.
          const raw = async (u: string) =>
            new Uint8Array(await (await post(u, body)).arrayBuffer());
          assert.deepEqual(
            await raw(url),
            await raw(`${prom.base}/api/v1/read`),
          );
          // SAMPLES: Prometheus' answer equals ours except that it turns -0
          // into +0 (a zero double is omitted on the wire).
          const samples = readBody(queries);
          const mine = await samplesOf(await post(url, samples));
          const its = await samplesOf(
            await post(`${prom.base}/api/v1/read`, samples),
          );
          const flat = (r: typeof mine) =>
            r.results.flatMap((q, i) =>
              q.timeseries.map((t) =>
                `${i}/${labelsKey(t.labels)} ${
                  bitsOf(t.timestamps, t.values).join(",")
                }`
              )
            );
          const negZero = /:8000000000000000/g;
          assert.deepEqual(
            flat(its),
            flat(mine).map((x) => x.replace(negZero, ":0000000000000000")),
          );
          assert.ok(flat(mine).some((x) => negZero.test(x)), "ours keeps -0");
        } finally {
          await prom.stop();
        }
      }, createRemoteReadHandler({ maxFrameBytes: frameBytes }));
    },
  });
}

function sum(a: number[]): number {
  return a.reduce((x, y) => x + y, 0);
}
