/**
 * The comparison's result shape and its markdown table.
 * @module
 */
import type { DiskFigures } from "./peers.ts";

/** Everything measured for one system. */
export interface SystemResult {
  version: string;
  ingest: {
    /** Samples of the timed part. */
    samples: number;
    /** Samples of the whole storage run. */
    sentSamples: number;
    /** What the system itself counted as appended. */
    samplesIngested: number;
    seconds: number;
    /** CPU seconds of the server process (Tidemark: the whole in-process run). */
    cpuSeconds: number;
    /** CPU seconds of the sending client (0 in process). */
    clientCpuSeconds: number;
    /** CPU seconds used by everything else on the machine meanwhile. */
    otherCpuSeconds: number;
    requests: number;
    /** Tidemark: seconds of the timed part spent in Snappy + protobuf decode. */
    decodeSeconds?: number;
    how: string;
  };
  disk: DiskFigures;
  persistCpuSeconds: number;
  rssAfterStorageBytes: number;
  rssGrowthStorageBytes: number;
  readBack: { samples: number; sent: number };
  memory: {
    series: number;
    samples: number;
    /** Resident set growth of the process, bytes. */
    rssBytes: number;
    rssBefore: number;
    rssAfter: number;
    /** Heap growth as the runtime reports it (see heapWhat). */
    heapBytes: number;
    heapWhat: string;
    jsHeapBytes?: number;
    /** Growth of V8's reserved heap (heapTotal) after gc(). */
    jsHeapTotalBytes?: number;
    engineBytes?: number;
    chunkBytes?: number;
    ingestSeconds: number;
    ingestCpuSeconds: number;
  };
}

/** The whole run. */
export interface ComparisonReport {
  date: string;
  machine: Record<string, string | number>;
  /** /proc/loadavg (1, 5, 15 min) at the start and end of the run. */
  loadAverage: { start: number[]; end: number[] };
  config: {
    storage: {
      series: number;
      hours: number;
      samples: number;
      requests: number;
      measuredSamples: number;
      measuredHours: number;
      rawBytes: number;
      wireBytes: number;
      minTime: number;
      maxTime: number;
    };
    memory: { series: number; scrapes: number; samples: number };
    shards: number;
    samplesPerRequest: number;
    probe: Record<string, string>;
  };
  systems: Record<string, SystemResult>;
  runSeconds: number;
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

function kilo(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)} k`;
  return x.toFixed(0);
}

/** Whether other processes used over 20% as much CPU as the system under test while it ingested. */
function contended(x: SystemResult): boolean {
  return x.ingest.otherCpuSeconds > 0.2 * x.ingest.cpuSeconds;
}

/** The markdown report: a figure × system table, then how each was measured. */
export function renderMarkdown(r: ComparisonReport): string {
  const names = Object.keys(r.systems);
  const sys = names.map((n) => r.systems[n]);
  const m = r.machine;
  const s = r.config.storage;
  const row = (label: string, cell: (x: SystemResult) => string) =>
    `| ${label} | ${sys.map(cell).join(" | ")} |`;
  const lines = [
    `Measured ${
      r.date.slice(0, 16).replace("T", " ")
    } UTC on ${m.cpu}, ${m.cores} cores, ` +
    `${m.memGiB} GiB, ${m.os}, Deno ${m.deno}; run took ${
      (r.runSeconds / 60).toFixed(1)
    } min; load average ${r.loadAverage.start.join(" ")} at start, ${
      r.loadAverage.end.join(" ")
    } at end.`,
    "",
    `Storage data: ${s.series} node_exporter-like series × ${s.hours} h of 15 s scrapes ` +
    `(±50 ms jitter) = ${s.samples} samples, sent as ${s.requests} remote write 1.0 requests ` +
    `of ${r.config.samplesPerRequest} samples (one per TimeSeries) over ${r.config.shards} keep-alive ` +
    `senders; ${
      (s.wireBytes / s.samples).toFixed(1)
    } wire bytes/sample after Snappy. Memory data: ` +
    `${r.config.memory.series} series × ${r.config.memory.scrapes} scrapes into a fresh process.`,
    "",
    `| figure | ${names.join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
    row("version", (x) => x.version),
    row(
      "bytes/sample, persisted (2 h block chunks+index; VM data+indexdb)",
      (x) => fixed(x.disk.persistedBytes / x.disk.persistedSamples, 3),
    ),
    row(
      "bytes/sample, whole data dir incl. WAL",
      (x) => fixed(x.disk.totalBytes / x.disk.totalSamples, 3),
    ),
    row(
      `RSS growth per series (${r.config.memory.series} series)`,
      (x) => fixed(x.memory.rssBytes / x.memory.series, 0),
    ),
    row(
      "heap growth per series (Go heap in use; Tidemark JS heap + engine)",
      (x) => fixed(x.memory.heapBytes / x.memory.series, 0),
    ),
    row(
      `RSS growth per series after the storage run (${s.series} series × ${s.hours} h)`,
      (x) => fixed(x.rssGrowthStorageBytes / s.series, 0),
    ),
    row(
      `ingest samples/s (${s.series} series, first ${
        fixed(s.measuredHours * 60, 0)
      } min of data)`,
      (x) =>
        kilo(x.ingest.samples / x.ingest.seconds) +
        (contended(x) ? " (contended ⚠)" : ""),
    ),
    row(
      "samples per CPU-second (server process)",
      (x) => kilo(x.ingest.samples / x.ingest.cpuSeconds),
    ),
    row(
      "CPU-s of other processes during timed ingest (shared machine)",
      (x) => fixed(x.ingest.otherCpuSeconds, 1),
    ),
    row(
      "ingest path",
      (x) =>
        x.ingest.how +
        (x.ingest.decodeSeconds === undefined
          ? ""
          : ` (decode ${
            fixed(100 * x.ingest.decodeSeconds / x.ingest.seconds, 0)
          }% of the time)`),
    ),
    row(
      "samples stored / sent",
      (x) =>
        `${x.disk.persistedSamples} in persisted part; ${x.ingest.samplesIngested} / ${x.ingest.sentSamples} appended`,
    ),
    row(
      "probe series read back / sent",
      (x) =>
        `${x.readBack.samples} / ${x.readBack.sent} ${
          x.readBack.samples === x.readBack.sent ? "✓" : "✗"
        }`,
    ),
    "",
  ];
  return lines.join("\n");
}
