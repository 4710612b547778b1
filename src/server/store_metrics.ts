/**
 * Self-monitoring figures owned by the store and the process: active
 * series per tenant, head time range, replay, memory and CPU.
 * @module
 */
import type { Db } from "../storage/db.ts";
import type { WriteOutcome } from "../ingest/remote_write_apply.ts";
import type { Registry } from "./self_metrics.ts";

/** Counters of remote-written samples, fed by the remote-write handler. */
export function ingestCounters(
  registry: Registry,
): (tenant: string, version: 1 | 2, o: WriteOutcome) => void {
  const written = registry.counter(
    "tidemark_remote_write_samples_total",
    "Samples written through remote write, per tenant and protocol version.",
  );
  const rejected = registry.counter(
    "tidemark_remote_write_samples_rejected_total",
    "Samples refused in remote write requests, per tenant and reason.",
  );
  return (tenant, version, o) => {
    written.inc({ tenant, protocol: `${version}.0` }, o.samplesWritten);
    for (const [reason, n] of Object.entries(o.reasonCounts)) {
      rejected.inc({ tenant, reason }, n);
    }
  };
}

/** Registers gauges read from the store and the process at scrape time. */
export function registerStoreMetrics(registry: Registry, db: Db): void {
  const series = registry.gauge(
    "tidemark_active_series",
    "Series in the head, per tenant.",
  );
  const maxTime = registry.gauge(
    "tidemark_head_max_time_seconds",
    "Newest sample timestamp in the head, per tenant.",
  );
  const replaySeconds = registry.gauge(
    "tidemark_wal_replay_duration_seconds",
    "Time the last WAL replay took.",
  );
  const replaySamples = registry.gauge(
    "tidemark_wal_replay_samples",
    "Samples replayed from the WAL at start.",
  );
  const rss = registry.gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
  );
  const heap = registry.gauge(
    "tidemark_js_heap_used_bytes",
    "JavaScript heap in use.",
  );
  const heapTotal = registry.gauge(
    "tidemark_js_heap_committed_bytes",
    "JavaScript heap committed (in use plus free space V8 keeps).",
  );
  const engineBytes = registry.gauge(
    "tidemark_engine_memory_bytes",
    "Size of the engine's (WebAssembly) linear memory; it never shrinks, pages never touched are not resident.",
  );
  const cpu = registry.counter(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
  );
  const start = registry.gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
  );
  const maintenance = registry.counter(
    "tidemark_maintenance_total",
    "Maintenance passes and the blocks they wrote, compacted and dropped.",
  );
  const walBytes = registry.gauge(
    "tidemark_wal_bytes",
    "Bytes in the write-ahead log's segments and checkpoints.",
  );
  const blockBytes = registry.gauge(
    "tidemark_blocks_bytes",
    "Bytes of persisted blocks, all tenants.",
  );
  const startedAt = Date.now() / 1000;
  registry.collect(() => {
    series.reset();
    maxTime.reset();
    for (const tenant of db.tenants()) {
      const s = db.stats(tenant, 1);
      series.set({ tenant }, s.numSeries);
      maxTime.set({ tenant }, s.maxTime / 1000);
    }
    const m = db.maintenanceTotals;
    maintenance.set({ what: "passes" }, m.passes);
    maintenance.set({ what: "blocks_written" }, m.blocksWritten);
    maintenance.set({ what: "blocks_compacted" }, m.blocksCompacted);
    maintenance.set({ what: "blocks_dropped" }, m.blocksDropped);
    walBytes.set({}, dirBytes(`${db.options.dataDir}/wal`));
    blockBytes.set({}, dirBytes(`${db.options.dataDir}/tenants`));
    replaySeconds.set({}, db.replay.seconds);
    replaySamples.set({}, db.replay.samples);
    const mem = Deno.memoryUsage();
    rss.set({}, mem.rss);
    heap.set({}, mem.heapUsed);
    heapTotal.set({}, mem.heapTotal);
    engineBytes.set({}, db.engine.raw.memory.buffer.byteLength);
    cpu.set({}, processCpuSeconds());
    start.set({}, startedAt);
  });
}

/** utime + stime of this process from /proc (0 where unavailable). */
function processCpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) in clock ticks; Linux uses 100 Hz.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Total size of the files under `dir` (0 when it does not exist). */
function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) total += dirBytes(path);
      else if (e.isFile) total += Deno.statSync(path).size;
    }
  } catch { /* not there (yet) */ }
  return total;
}
