/**
 * Profiling driver: loads the shared workload into a fresh Db and runs one
 * PromQL query repeatedly (range by default), printing each run's time.
 *
 *   deno run -A [--cpu-prof] bench/promql_profile.ts [--series 10000] \
 *     [--runs 20] [--instant] 'sum by (instance) (rate(x[5m]))'
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { labelsFrom } from "../src/model/labels.ts";
import { PromQLEngine } from "../src/promql/mod.ts";
import { Db } from "../src/storage/db.ts";
import { generateWorkload } from "./data/generator.ts";

const args = parseArgs({
  allowPositionals: true,
  options: {
    series: { type: "string", default: "10000" },
    runs: { type: "string", default: "20" },
    instant: { type: "boolean", default: false },
  },
});
const query = args.positionals[0] ??
  "sum by (instance) (rate(node_cpu_seconds_total[5m]))";
const root = await Deno.makeTempDir({ prefix: "tidemark-prof-" });
const db = await Db.open({ dataDir: `${root}/data` });
try {
  const series = generateWorkload({
    instances: Number(args.values.series) / 100,
    durationMs: 2 * 3600_000,
    intervalMs: 15_000,
  });
  let minT = Infinity, maxT = -Infinity;
  for (let i = 0; i < series.length; i += 250) {
    const app = db.appender("default");
    for (const s of series.slice(i, i + 250)) {
      app.appendSeries(labelsFrom(s.labels), s.timestamps, s.values);
      minT = Math.min(minT, s.timestamps[0]);
      maxT = Math.max(maxT, s.timestamps[s.timestamps.length - 1]);
    }
    await app.commit();
  }
  const engine = new PromQLEngine(db);
  const start = Math.ceil(minT / 1000) * 1000;
  const end = Math.floor(maxT / 1000) * 1000;
  const times: number[] = [];
  const cpu: number[] = [];
  let nSeries = 0;
  for (let i = 0; i < Number(args.values.runs); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = args.values.instant
      ? await engine.instantQuery("default", query, maxT)
      : await engine.rangeQuery("default", query, start, end, 60_000);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    nSeries = r.value.type === "matrix"
      ? r.value.series.length
      : r.value.type === "vector"
      ? r.value.samples.length
      : 1;
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(
    `${query}: median ${times[times.length >> 1].toFixed(1)} ms, min ${
      times[0].toFixed(1)
    } ms, cpu median ${cpu[cpu.length >> 1].toFixed(1)} ms, ${nSeries} series`,
  );
} finally {
  await db.close();
  await Deno.remove(root, { recursive: true });
}
