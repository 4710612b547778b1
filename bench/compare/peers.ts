/**
 * The three servers of the side-by-side run, each a real process started
 * on a free loopback port over a fresh data directory: Tidemark's own
 * server (src/server/main.ts in a child Deno), Debian's Prometheus (remote
 * write receiver, no scrape configs, default block ranges) and single-node
 * VictoriaMetrics. All three speak remote write 1.0 and the Prometheus
 * query API; each driver knows how to make its server persist what it
 * holds, how big that is, and how to read one series back.
 * @module
 */
import { CHUNKS_FILE, INDEX_FILE } from "../../src/storage/block/format.ts";
import { listBlocks, tenantBlocksDir } from "../../src/storage/block/mod.ts";
import {
  dirBreakdown,
  dirSize,
  freePort,
  logTail,
  type Spawned,
  spawnLogged,
  stopProcess,
  waitFor,
} from "./proc.ts";

/** On-disk figures after a peer persisted the data. */
export interface DiskFigures {
  /** Whole data directory, bytes (file lengths). */
  totalBytes: number;
  totalAllocated: number;
  /** Samples the whole directory holds (sent and accepted). */
  totalSamples: number;
  /** Top-level entries of the data directory and their sizes. */
  breakdown: Record<string, number>;
  /** Persisted part only (Prometheus: first block's chunks + index; VictoriaMetrics: data/ + indexdb/). */
  persistedBytes: number;
  persistedSamples: number;
  /** What `persistedBytes` counts, in words. */
  persistedWhat: string;
  /** Seconds from the request to persist until it was on disk. */
  waitSeconds: number;
  extra: Record<string, number | string>;
}

/** Raw samples of one series as a server returned them. */
export interface ReadBack {
  ts: number[];
  vs: number[];
}

/** A running peer. */
export interface Peer {
  readonly name: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly writeUrl: string;
  /** Base URL of its Prometheus-compatible query API (`${base}/api/v1/query`). */
  readonly base: string;
  readonly logPath: string;
  version(): Promise<string>;
  /** Samples the server says it stored (from its own /metrics). */
  samplesIngested(): Promise<number>;
  /** Go heap in use, bytes (go_memstats_heap_inuse_bytes). */
  heapInuse(): Promise<number>;
  /** Makes the server persist, waits for it, and measures the directory. */
  persist(sentSamples: number): Promise<DiskFigures>;
  /** Samples of one series between minTime and maxTime (ms, inclusive), read back over HTTP. */
  readBack(
    labels: Record<string, string>,
    minTime: number,
    maxTime: number,
  ): Promise<ReadBack>;
  stop(): Promise<void>;
}

/** Sums every sample of metric `name` in a text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const c = line[name.length];
    if (c !== " " && c !== "{") continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    found = true;
  }
  return found ? sum : NaN;
}

function selector(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}=${JSON.stringify(v)}`
  );
  return `{${parts.join(",")}}`;
}

/** Prometheus' JSON float strings ("+Inf", "NaN", …) as numbers. */
export function promFloat(s: string): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  return Number(s);
}

/**
 * Reads a series back through the Prometheus query API: an instant query
 * over a range selector spanning the data returns the raw samples.
 */
async function readBackPromApi(
  name: string,
  base: string,
  labels: Record<string, string>,
  minTime: number,
  maxTime: number,
): Promise<ReadBack> {
  const rangeSec = Math.ceil((maxTime - minTime) / 1000) + 1;
  const q = `${selector(labels)}[${rangeSec}s]`;
  const url = `${base}/api/v1/query?query=${encodeURIComponent(q)}` +
    `&time=${maxTime / 1000}`;
  const j = JSON.parse(await getText(url));
  const result = j.data.result as { values: [number, string][] }[];
  if (result.length !== 1) {
    throw new Error(`${name} returned ${result.length} series for ${q}`);
  }
  return {
    ts: result[0].values.map((p) => Math.round(p[0] * 1000)),
    vs: result[0].values.map((p) => promFloat(p[1])),
  };
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${text}`);
  return text;
}

abstract class BasePeer implements Peer {
  abstract readonly name: string;
  constructor(
    protected readonly spawned: Spawned,
    readonly dataDir: string,
    readonly base: string,
    readonly writeUrl: string,
  ) {}
  get pid(): number {
    return this.spawned.pid;
  }
  get logPath(): string {
    return this.spawned.logPath;
  }
  metrics(): Promise<string> {
    return getText(`${this.base}/metrics`);
  }
  async heapInuse(): Promise<number> {
    return metricSum(await this.metrics(), "go_memstats_heap_inuse_bytes");
  }
  abstract version(): Promise<string>;
  abstract samplesIngested(): Promise<number>;
  abstract persist(sentSamples: number): Promise<DiskFigures>;
  abstract readBack(
    labels: Record<string, string>,
    minTime: number,
    maxTime: number,
  ): Promise<ReadBack>;
  stop(): Promise<void> {
    return stopProcess(this.spawned.proc);
  }
  /** Waits for `path` to answer 200, failing fast if the process died. */
  /** Waits for `path` to answer 200; stops the process if it never does. */
  protected async readyOrStopped(path: string): Promise<this> {
    try {
      await this.ready(path);
    } catch (e) {
      await this.stop();
      throw e;
    }
    return this;
  }

  protected async ready(path: string): Promise<void> {
    let exited = false;
    this.spawned.proc.status.then(() => exited = true);
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        if (exited) {
          throw new Error(
            `${this.name} exited:\n${await logTail(this.logPath)}`,
          );
        }
        const res = await fetch(`${this.base}${path}`);
        await res.body?.cancel();
        return res.ok ? true : null;
      },
      60_000,
      200,
    ).catch(async (e) => {
      if (exited) {
        throw new Error(
          `${this.name} exited:\n${await logTail(this.logPath)}`,
        );
      }
      throw e;
    });
  }
}

// ---------------------------------------------------------------- Prometheus

interface PromMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: { numSamples: number; numSeries: number; numChunks: number };
  compaction: { level: number };
}

/** Prometheus 2.x with the remote write receiver and nothing to scrape. */
export class PrometheusPeer extends BasePeer {
  readonly name = "prometheus";

  static async start(root: string, binary = "/usr/bin/prometheus") {
    const dataDir = `${root}/prometheus-data`;
    await Deno.mkdir(dataDir);
    const config = `${root}/prometheus.yml`;
    await Deno.writeTextFile(config, "global:\n  scrape_interval: 15s\n");
    const port = freePort();
    const spawned = await spawnLogged(binary, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
    ], `${root}/prometheus.log`);
    const base = `http://127.0.0.1:${port}`;
    const peer = new PrometheusPeer(
      spawned,
      dataDir,
      base,
      `${base}/api/v1/write`,
    );
    return await peer.readyOrStopped("/-/ready");
  }

  async version(): Promise<string> {
    const j = JSON.parse(
      await getText(`${this.base}/api/v1/status/buildinfo`),
    );
    return `Prometheus ${j.data.version}`;
  }

  async samplesIngested(): Promise<number> {
    return metricSum(
      await this.metrics(),
      "prometheus_tsdb_head_samples_appended_total",
    );
  }

  async #blocks(): Promise<{ dir: string; meta: PromMeta }[]> {
    const out: { dir: string; meta: PromMeta }[] = [];
    for await (const e of Deno.readDir(this.dataDir)) {
      if (!e.isDirectory || !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.name)) continue;
      const dir = `${this.dataDir}/${e.name}`;
      try {
        const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
        out.push({ dir, meta });
      } catch { /* still being written */ }
    }
    return out.sort((a, b) => a.meta.minTime - b.meta.minTime);
  }

  /**
   * Prometheus persists on its own: the head is cut into a 2 h block once
   * it spans 1.5 × 2 h, checked every minute. Waits for that block and for
   * the head truncation (and WAL checkpoint) that follows it.
   */
  async persist(sentSamples: number): Promise<DiskFigures> {
    const t0 = performance.now();
    const blocks = await waitFor(
      "Prometheus to cut its first block",
      async () => {
        const b = await this.#blocks();
        if (b.length === 0) return null;
        const m = await this.metrics();
        const truncated = metricSum(
          m,
          "prometheus_tsdb_head_truncations_total",
        );
        return truncated >= 1 ? b : null;
      },
      5 * 60_000,
      1000,
    );
    // Let the checkpoint and segment deletion of the same cycle finish.
    let last = -1;
    await waitFor(
      "Prometheus' data dir to settle",
      async () => {
        const now = (await dirSize(this.dataDir)).bytes;
        const settled = now === last;
        last = now;
        return settled ? true : null;
      },
      60_000,
      2000,
    );
    const waitSeconds = (performance.now() - t0) / 1000;
    const first = blocks[0];
    const chunks = await dirSize(`${first.dir}/chunks`);
    const index = (await Deno.stat(`${first.dir}/index`)).size;
    const whole = await dirSize(this.dataDir);
    return {
      totalBytes: whole.bytes,
      totalAllocated: whole.allocated,
      totalSamples: sentSamples,
      breakdown: await dirBreakdown(this.dataDir),
      persistedBytes: chunks.bytes + index,
      persistedSamples: first.meta.stats.numSamples,
      persistedWhat: "first 2 h block: chunks/ + index",
      waitSeconds,
      extra: {
        blocks: blocks.length,
        blockMinTime: first.meta.minTime,
        blockMaxTime: first.meta.maxTime,
        blockSeries: first.meta.stats.numSeries,
        blockChunks: first.meta.stats.numChunks,
        blockChunksBytes: chunks.bytes,
        blockIndexBytes: index,
        blockDirBytes: (await dirSize(first.dir)).bytes,
      },
    };
  }

  /** Reads the series back with an instant query over a range selector (raw samples). */
  readBack(
    labels: Record<string, string>,
    minTime: number,
    maxTime: number,
  ): Promise<ReadBack> {
    return readBackPromApi(this.name, this.base, labels, minTime, maxTime);
  }
}

// ---------------------------------------------------------- VictoriaMetrics

/** Single-node VictoriaMetrics. */
export class VictoriaPeer extends BasePeer {
  readonly name = "victoria-metrics";

  static async start(root: string, binary = "/usr/bin/victoria-metrics") {
    const dataDir = `${root}/vm-data`;
    const port = freePort();
    const spawned = await spawnLogged(binary, [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      // The data's timestamps are in 2026-01; keep everything.
      "-retentionPeriod=100y",
      // Its rollup result cache would answer repeated range queries from
      // memory; Prometheus and Tidemark have none, so time the evaluation.
      "-search.disableCache",
    ], `${root}/victoria-metrics.log`);
    const base = `http://127.0.0.1:${port}`;
    const peer = new VictoriaPeer(
      spawned,
      dataDir,
      base,
      `${base}/api/v1/write`,
    );
    return await peer.readyOrStopped("/health");
  }

  async version(): Promise<string> {
    const m = (await this.metrics()).match(
      /vm_app_version\{[^}]*version="([^"]+)"/,
    );
    if (m) return `VictoriaMetrics ${m[1]}`;
    // Debian's build reports an empty version; ask the package manager.
    try {
      const out = await new Deno.Command("dpkg-query", {
        args: ["-W", "-f=${Version}", "victoria-metrics"],
      }).output();
      const v = new TextDecoder().decode(out.stdout).trim();
      if (out.success && v) return `VictoriaMetrics ${v} (Debian)`;
    } catch { /* not Debian */ }
    return "VictoriaMetrics (version unknown)";
  }

  async samplesIngested(): Promise<number> {
    return metricSum(await this.metrics(), "vm_rows_added_to_storage_total");
  }

  /** Rows in storage parts (small + big), from /metrics. */
  #storedRows(m: string): number {
    let rows = 0;
    for (const line of m.split("\n")) {
      const hit = line.match(/^vm_rows\{type="storage\/[a-z]+"\} (\d+)/);
      if (hit) rows += Number(hit[1]);
    }
    return rows;
  }

  /**
   * Flushes in-memory rows to parts, forces a merge of all partitions into
   * as few parts as VictoriaMetrics makes, and waits until the merges are
   * done and the directory size stops changing.
   */
  async persist(sentSamples: number): Promise<DiskFigures> {
    const t0 = performance.now();
    await getText(`${this.base}/internal/force_flush`);
    // A forced merge skips parts that a background merge holds, so repeat
    // it until the part count stops falling (at most 4 rounds).
    let m = "";
    let parts = Infinity;
    let rounds = 0;
    for (; rounds < 4; rounds++) {
      await getText(`${this.base}/internal/force_merge`);
      m = await this.#settled();
      const now = metricSum(m, "vm_parts");
      if (!(now < parts)) break;
      parts = now;
    }
    const waitSeconds = (performance.now() - t0) / 1000;
    const whole = await dirSize(this.dataDir);
    const data = await dirSize(`${this.dataDir}/data`);
    const indexdb = await dirSize(`${this.dataDir}/indexdb`);
    const rows = this.#storedRows(m);
    return {
      totalBytes: whole.bytes,
      totalAllocated: whole.allocated,
      totalSamples: sentSamples,
      breakdown: await dirBreakdown(this.dataDir),
      persistedBytes: data.bytes + indexdb.bytes,
      persistedSamples: rows,
      persistedWhat: "data/ + indexdb/ after force_flush + force_merge",
      waitSeconds,
      extra: {
        dataBytes: data.bytes,
        indexdbBytes: indexdb.bytes,
        parts: metricSum(m, "vm_parts"),
        forceMergeRounds: rounds + 1,
        rowsStored: rows,
      },
    };
  }

  /** Waits until no merge runs and the directory size holds still; returns /metrics. */
  #settled(): Promise<string> {
    let last = -1;
    return waitFor(
      "VictoriaMetrics to finish merging",
      async () => {
        const m = await this.metrics();
        const busy = metricSum(m, "vm_active_force_merges") +
          metricSum(m, "vm_active_merges") + metricSum(m, "vm_pending_rows");
        const size = (await dirSize(this.dataDir)).bytes;
        const settled = busy === 0 && size === last;
        last = size;
        return settled ? m : null;
      },
      5 * 60_000,
      2000,
    );
  }

  /** Reads the series back with /api/v1/export (raw samples, JSON lines). */
  async readBack(
    labels: Record<string, string>,
    minTime: number,
    maxTime: number,
  ): Promise<ReadBack> {
    const url = `${this.base}/api/v1/export?match[]=${
      encodeURIComponent(selector(labels))
    }&start=${Math.floor(minTime / 1000)}&end=${Math.ceil(maxTime / 1000)}`;
    const lines = (await getText(url)).trim().split("\n").filter((l) => l);
    if (lines.length !== 1) {
      throw new Error(`VictoriaMetrics exported ${lines.length} series`);
    }
    const row = JSON.parse(lines[0]);
    return { ts: row.timestamps, vs: row.values };
  }
}

// ------------------------------------------------------------------ Tidemark

/** The tenant of Tidemark's open mode (no --auth-file). */
const TIDEMARK_TENANT = "default";

/** Tidemark's server (src/server/main.ts) in a child Deno, open mode. */
/**
 * The V8 flags `deno task start` gives the server (deno.json), so the
 * benchmark measures the server as it ships.
 */
export function startV8Flags(): string[] {
  const denoJson = new URL("../../deno.json", import.meta.url);
  const task: string = JSON.parse(Deno.readTextFileSync(denoJson)).tasks.start;
  return task.match(/--v8-flags=\S+/g) ?? [];
}

export class TidemarkPeer extends BasePeer {
  readonly name = "tidemark";

  static async start(root: string, deno = Deno.execPath()) {
    const dataDir = `${root}/tidemark-data`;
    const main = new URL("../../src/server/main.ts", import.meta.url).pathname;
    const port = freePort();
    const spawned = await spawnLogged(deno, [
      "run",
      "-A",
      ...startV8Flags(),
      main,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      // As Prometheus' and VictoriaMetrics' settings here: keep everything.
      "--retention",
      "100y",
    ], `${root}/tidemark.log`);
    const base = `http://127.0.0.1:${port}`;
    const peer = new TidemarkPeer(
      spawned,
      dataDir,
      base,
      `${base}/api/v1/write`,
    );
    return await peer.readyOrStopped("/-/ready");
  }

  async version(): Promise<string> {
    const j = JSON.parse(
      await getText(`${this.base}/api/v1/status/buildinfo`),
    );
    let rev = "";
    try {
      const out = await new Deno.Command("git", {
        args: ["rev-parse", "--short", "HEAD"],
        cwd: new URL(".", import.meta.url).pathname,
      }).output();
      if (out.success) rev = new TextDecoder().decode(out.stdout).trim();
    } catch { /* not a checkout */ }
    return `Tidemark ${j.data.tidemarkVersion ?? "?"}${
      rev ? ` (${rev})` : ""
    }, Deno ${Deno.version.deno}`;
  }

  async samplesIngested(): Promise<number> {
    return metricSum(
      await this.metrics(),
      "tidemark_remote_write_samples_total",
    );
  }

  override async heapInuse(): Promise<number> {
    return metricSum(await this.metrics(), "tidemark_js_heap_used_bytes");
  }

  /**
   * Tidemark persists on its own too: its maintenance pass (every 60 s)
   * cuts a 2 h block once the head spans 1.5 × 2 h, as Prometheus does.
   * Waits for that block to be listed and the directory to settle; nothing
   * is triggered from outside.
   */
  async persist(sentSamples: number): Promise<DiskFigures> {
    const t0 = performance.now();
    const blocksDir = tenantBlocksDir(this.dataDir, TIDEMARK_TENANT);
    const listing = await waitFor(
      "Tidemark to cut its first block",
      async () => {
        const l = await listBlocks(blocksDir, TIDEMARK_TENANT);
        return l.blocks.length > 0 ? l : null;
      },
      5 * 60_000,
      1000,
    );
    let last = -1;
    await waitFor(
      "Tidemark's data dir to settle",
      async () => {
        const now = (await dirSize(this.dataDir)).bytes;
        const settled = now === last;
        last = now;
        return settled ? true : null;
      },
      60_000,
      2000,
    );
    const waitSeconds = (performance.now() - t0) / 1000;
    const first = listing.blocks[0];
    const index = (await Deno.stat(`${first.dir}/${INDEX_FILE}`)).size;
    const chunks = (await Deno.stat(`${first.dir}/${CHUNKS_FILE}`)).size;
    const whole = await dirSize(this.dataDir);
    return {
      totalBytes: whole.bytes,
      totalAllocated: whole.allocated,
      totalSamples: sentSamples,
      breakdown: await dirBreakdown(this.dataDir),
      persistedBytes: chunks + index,
      persistedSamples: first.numSamples,
      persistedWhat: "first 2 h block: chunks + index",
      waitSeconds,
      extra: {
        blocks: listing.blocks.length,
        blockMinTime: first.minTime,
        blockMaxTime: first.maxTime,
        blockSeries: first.numSeries,
        blockChunks: first.numChunks,
        blockChunksBytes: chunks,
        blockIndexBytes: index,
        blockDirBytes: (await dirSize(first.dir)).bytes,
      },
    };
  }

  readBack(
    labels: Record<string, string>,
    minTime: number,
    maxTime: number,
  ): Promise<ReadBack> {
    return readBackPromApi(this.name, this.base, labels, minTime, maxTime);
  }
}
