/**
 * Where the server's memory goes, on the workload of docs/benchmarks.md:
 *
 *   deno run -A bench/memory/run.ts [--series 10000] [--hours 2]
 *     [--runs 10] [--mem-series 100000] [--mem-scrapes 20]
 *     [--v8-flags=...] [--label before]
 *
 * Starts bench/memory/probe_server.ts (the server plus a SIGUSR1 memory
 * probe) with `--v8-flags=--expose-gc` added to whatever `--v8-flags` says,
 * sends the 10k-series workload over 4 keep-alive connections, runs the
 * dashboard query set (2 warm-ups + `--runs`), then on a fresh server sends
 * `--mem-series` series × `--mem-scrapes` scrapes. At each point it prints
 * VmRSS, the phase's VmHWM, the JS heap (used/total, before and after a
 * full GC), external memory, and the engine's linear memory.
 * @module
 */
import { parseArgs } from "node:util";
import {
  cpuSeconds,
  freePort,
  sleep,
  spawnLogged,
  stopProcess,
  waitFor,
} from "../compare/proc.ts";
import { runQuerySet } from "../compare/queries.ts";
import { sendAll } from "../compare/send.ts";
import { encodeWorkload, INTERVAL_MS } from "../compare/workload.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    series: { type: "string", default: "10000" },
    hours: { type: "string", default: "2" },
    runs: { type: "string", default: "10" },
    "mem-series": { type: "string", default: "100000" },
    "mem-scrapes": { type: "string", default: "20" },
    "v8-flags": { type: "string", default: "" },
    label: { type: "string", default: "" },
    json: { type: "string" },
    /** Directory for heap snapshots (after ingest; of the many-series server). */
    snapshots: { type: "string" },
  },
});

interface Sample {
  rss: number;
  hwm: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  engine: number;
  chunks: number;
  v8Malloced: number;
  spaces: Record<string, number>;
}
interface Probe {
  point: string;
  resident: Record<string, number>;
  before: Sample;
  afterGc: Sample;
}

const root = await Deno.makeTempDir({ prefix: "tidemark-mem-" });
const probes: Probe[] = [];

class ProbedServer {
  #lines = 0;
  private constructor(
    readonly proc: Deno.ChildProcess,
    readonly base: string,
    readonly probeFile: string,
  ) {}

  static async start(name: string): Promise<ProbedServer> {
    const port = freePort();
    const probeFile = `${root}/${name}.probe.jsonl`;
    const v8 = ["--expose-gc", args["v8-flags"]].filter(Boolean).join(",");
    Deno.env.set("TIDEMARK_MEM_PROBE", probeFile);
    const main = new URL("./probe_server.ts", import.meta.url).pathname;
    const s = await spawnLogged(Deno.execPath(), [
      "run",
      "-A",
      `--v8-flags=${v8}`,
      main,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--data-dir",
      `${root}/${name}-data`,
      "--retention",
      "100y",
    ], `${root}/${name}.log`);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      "server ready",
      async () => {
        try {
          const r = await fetch(`${base}/-/ready`);
          await r.body?.cancel();
          return r.ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      30_000,
      100,
    );
    return new ProbedServer(s.proc, base, probeFile);
  }

  async probe(point: string): Promise<Probe> {
    Deno.kill(this.proc.pid, "SIGUSR1");
    const want = this.#lines + 1;
    const line = await waitFor(
      "probe line",
      async () => {
        try {
          const lines = (await Deno.readTextFile(this.probeFile)).trim().split(
            "\n",
          );
          return lines.length >= want ? lines[want - 1] : undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
      50,
    );
    this.#lines = want;
    const p = { point, ...JSON.parse(line) } as Probe;
    probes.push(p);
    print(p);
    return p;
  }

  /** Writes a heap snapshot of the server to `path`. */
  async snapshot(path: string): Promise<void> {
    Deno.kill(this.proc.pid, "SIGUSR2");
    await waitFor(
      "heap snapshot",
      async () => {
        await Deno.stat(`${this.probeFile}.snapshot-done`);
        return true;
      },
      120_000,
      200,
    );
    await Deno.rename(`${this.probeFile}.heapsnapshot`, path);
    await Deno.remove(`${this.probeFile}.snapshot-done`);
  }

  stop(): Promise<void> {
    return stopProcess(this.proc);
  }
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(1).padStart(6);
function print(p: Probe): void {
  const b = p.before, a = p.afterGc;
  console.log(
    `${p.point.padEnd(26)} RSS ${MiB(b.rss)} peak ${MiB(b.hwm)} | heap used ${
      MiB(b.heapUsed)
    } total ${MiB(b.heapTotal)} ext ${MiB(b.external)} | after gc: used ${
      MiB(a.heapUsed)
    } total ${MiB(a.heapTotal)} ext ${MiB(a.external)} RSS ${
      MiB(a.rss)
    } | engine ${MiB(b.engine)} (chunks ${MiB(b.chunks)})`,
  );
  console.log(
    `${"".padEnd(26)} resident after gc: ${
      Object.entries(p.resident).map(([k, v]) => `${k} ${MiB(v)}`).join(" ")
    } | v8 malloc ${MiB(p.afterGc.v8Malloced)}`,
  );
  console.log(
    `${"".padEnd(26)} V8 spaces after gc: ${
      Object.entries(p.afterGc.spaces).map(([k, v]) =>
        `${k.replace("_space", "")} ${MiB(v)}`
      ).join(" ")
    }`,
  );
}

try {
  console.log(`# ${args.label} v8-flags=${args["v8-flags"] || "(none)"}`);
  const w = encodeWorkload({
    series: Number(args.series),
    durationMs: Number(args.hours) * 3600_000,
    shards: 4,
  });
  let maxTime = -Infinity;
  for (const s of w.series) maxTime = Math.max(maxTime, s.timestamps.at(-1)!);
  const window = {
    at: maxTime,
    start: Math.ceil(w.minTime / 1000) * 1000,
    end: Math.floor(maxTime / 1000) * 1000,
  };
  const a = await ProbedServer.start("shared");
  try {
    await sleep(2000);
    await a.probe("idle");
    const cpu0 = await cpuSeconds(a.proc.pid);
    const sent = await sendAll(`${a.base}/api/v1/write`, w.parts[0].bodies);
    if (sent.failed) throw new Error(sent.firstError);
    const cpu1 = await cpuSeconds(a.proc.pid);
    console.log(
      `  ingest ${w.samples} samples in ${sent.seconds.toFixed(1)} s, ${
        (cpu1 - cpu0).toFixed(1)
      } server CPU-s`,
    );
    await a.probe("after ingest");
    if (args.snapshots) {
      await a.snapshot(`${args.snapshots}/ingest.heapsnapshot`);
    }
    await sleep(3000);
    const q0 = await cpuSeconds(a.proc.pid);
    await runQuerySet(a.base, window, 2, Number(args.runs));
    console.log(
      `  queries: ${(await cpuSeconds(a.proc.pid) - q0).toFixed(1)} CPU-s`,
    );
    await a.probe("after queries");
    await runQuerySet(a.base, window, 0, 3);
    await a.probe("after queries again");
  } finally {
    await a.stop();
  }

  const memSeries = Number(args["mem-series"]);
  if (memSeries > 0) {
    const mw = encodeWorkload({
      series: memSeries,
      durationMs: Number(args["mem-scrapes"]) * INTERVAL_MS,
      shards: 4,
    });
    const b = await ProbedServer.start("mem");
    try {
      await sleep(3000);
      const p0 = await b.probe("mem: idle");
      const sent = await sendAll(`${b.base}/api/v1/write`, mw.parts[0].bodies);
      if (sent.failed) throw new Error(sent.firstError);
      await sleep(5000);
      const p1 = await b.probe(`mem: ${memSeries} series`);
      if (args.snapshots) {
        await b.snapshot(`${args.snapshots}/series.heapsnapshot`);
      }
      const per = (
        k: "rss" | "heapUsed" | "engine",
        x: "before" | "afterGc" = "before",
      ) => ((p1[x][k] - p0[x][k]) / memSeries).toFixed(0);
      console.log(
        `  per series: RSS ${per("rss")} B (after gc ${
          per("rss", "afterGc")
        }), live JS heap ${per("heapUsed", "afterGc")} B, engine ${
          per("engine")
        } B`,
      );
    } finally {
      await b.stop();
    }
  }
  if (args.json) {
    await Deno.writeTextFile(args.json, JSON.stringify(probes, null, 1));
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
