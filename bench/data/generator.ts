/**
 * Deterministic node_exporter-like workload shared by every benchmark: per
 * instance, 100 series scraped together every 15 s with per-scrape jitter.
 * The mix follows the side-by-side harness (../shared/ANCHORS.md): integer
 * counters with rare resets, random-walk gauges, 12% full-precision floats,
 * a classic histogram, and constant info series.
 * @module
 */
import { Prng } from "../../src/util/prng.ts";

/** One generated series: labels, and samples as parallel arrays. */
export interface GeneratedSeries {
  labels: Record<string, string>;
  /** Integral milliseconds, ascending. */
  timestamps: Float64Array;
  values: Float64Array;
}

export interface WorkloadOptions {
  seed?: number;
  instances?: number;
  /** Scrape interval, ms (default 15 000). */
  intervalMs?: number;
  /** Uniform jitter of each scrape's timestamp, ± ms (default 50; 0 = regular). */
  jitterMs?: number;
  /** Length of the series, ms (default 2 h). */
  durationMs?: number;
  /** First scrape (default 2026-01-01T00:00:00Z). */
  startMs?: number;
}

type Kind =
  | "const"
  | "float-counter"
  | "counter"
  | "gauge-int"
  | "gauge-dec"
  | "hist";

interface SeriesSpec {
  name: string;
  labels: Record<string, string>;
  kind: Kind;
  /** Mean increment per scrape (counters) or step size (gauges). */
  scale: number;
}

/** The 100 series of one instance. */
function instanceSpecs(): SeriesSpec[] {
  const specs: SeriesSpec[] = [];
  specs.push({ name: "up", labels: {}, kind: "const", scale: 1 });
  for (
    const [i, name] of [
      "node_uname_info",
      "node_boot_time_seconds",
      "node_cpu_count",
    ].entries()
  ) {
    for (let k = 0; k < 4; k++) {
      specs.push({
        name,
        labels: { variant: String(k) },
        kind: "const",
        scale: 10 ** (i + k),
      });
    }
  }
  // 12 full-precision float counters: CPU seconds by cpu and mode.
  for (const cpu of ["0", "1"]) {
    for (const mode of ["idle", "user", "system", "iowait", "irq", "steal"]) {
      specs.push({
        name: "node_cpu_seconds_total",
        labels: { cpu, mode },
        kind: "float-counter",
        scale: 7.3,
      });
    }
  }
  // Classic histogram: 12 buckets, _sum, _count.
  const les = [
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1",
    "2.5",
    "5",
    "10",
    "+Inf",
  ];
  for (const le of les) {
    specs.push({
      name: "http_request_duration_seconds_bucket",
      labels: { le },
      kind: "hist",
      scale: 1,
    });
  }
  specs.push({
    name: "http_request_duration_seconds_sum",
    labels: {},
    kind: "float-counter",
    scale: 3.1,
  });
  specs.push({
    name: "http_request_duration_seconds_count",
    labels: {},
    kind: "counter",
    scale: 40,
  });
  // 30 integer counters with rare resets.
  for (const dev of ["eth0", "eth1", "lo"]) {
    for (
      const what of [
        "receive_bytes",
        "transmit_bytes",
        "receive_packets",
        "transmit_packets",
        "receive_errs",
      ]
    ) {
      specs.push({
        name: `node_network_${what}_total`,
        labels: { device: dev },
        kind: "counter",
        scale: what.endsWith("bytes")
          ? 2e5
          : what.endsWith("errs")
          ? 0.01
          : 150,
      });
    }
  }
  for (const dev of ["sda", "sdb", "nvme0n1"]) {
    for (
      const what of [
        "reads_completed",
        "writes_completed",
        "read_bytes",
        "written_bytes",
        "io_time_seconds",
      ]
    ) {
      specs.push({
        name: `node_disk_${what}_total`,
        labels: { device: dev },
        kind: "counter",
        scale: what.endsWith("bytes") ? 5e5 : 30,
      });
    }
  }
  // 30 gauges: byte counts on 4 KiB pages, and decimals.
  for (
    const what of [
      "MemFree",
      "MemAvailable",
      "Cached",
      "Buffers",
      "Active",
      "Inactive",
      "Dirty",
      "Slab",
      "SwapFree",
      "Shmem",
    ]
  ) {
    specs.push({
      name: `node_memory_${what}_bytes`,
      labels: {},
      kind: "gauge-int",
      scale: 4096 * 50,
    });
  }
  for (const mp of ["/", "/boot", "/var", "/home", "/data"]) {
    specs.push({
      name: "node_filesystem_avail_bytes",
      labels: { mountpoint: mp },
      kind: "gauge-int",
      scale: 4096 * 3,
    });
    specs.push({
      name: "node_filesystem_files_free",
      labels: { mountpoint: mp },
      kind: "gauge-int",
      scale: 2,
    });
  }
  for (const n of ["1", "5", "15"]) {
    specs.push({
      name: `node_load${n}`,
      labels: {},
      kind: "gauge-dec",
      scale: 0.05,
    });
  }
  for (let z = 0; z < 8; z++) {
    specs.push({
      name: "node_hwmon_temp_celsius",
      labels: { sensor: `temp${z}` },
      kind: "gauge-dec",
      scale: 0.3,
    });
  }
  if (specs.length !== 100) {
    throw new Error(`instance has ${specs.length} series, want 100`);
  }
  return specs;
}

/** Samples of one series, drawn from its own seeded stream. */
function fillValues(
  spec: SeriesSpec,
  rng: Prng,
  out: Float64Array,
  histShare: number[],
): void {
  let v = 0;
  switch (spec.kind) {
    case "const":
      out.fill(spec.scale);
      return;
    case "float-counter":
      v = rng.float() * 1e5;
      for (let i = 0; i < out.length; i++) {
        v += spec.scale * rng.float() * 2;
        out[i] = v;
      }
      return;
    case "counter":
      v = Math.floor(rng.float() * 1e9 * (spec.scale > 1 ? 1 : 1e-6));
      for (let i = 0; i < out.length; i++) {
        if (rng.float() < 1e-4) v = 0; // process restart
        else {v += Math.floor(
            spec.scale * rng.float() * 2 + (rng.float() < spec.scale ? 1 : 0),
          );}
        out[i] = v;
      }
      return;
    case "hist": {
      // Cumulative buckets: each scrape adds requests, spread by `histShare`.
      v = 0;
      for (let i = 0; i < out.length; i++) {
        v += Math.round(histShare[i] * (0.5 + rng.float()));
        out[i] = v;
      }
      return;
    }
    case "gauge-int":
      v = Math.floor(rng.float() * 1e6) * 4096;
      for (let i = 0; i < out.length; i++) {
        if (rng.float() < 0.6) {
          v += Math.round(rng.normal() * spec.scale / 4096) * 4096;
        }
        out[i] = Math.max(0, v);
      }
      return;
    case "gauge-dec":
      v = rng.float() * 50;
      for (let i = 0; i < out.length; i++) {
        v = Math.abs(v + rng.normal() * spec.scale);
        out[i] = Math.round(v * 100) / 100;
      }
      return;
  }
}

/**
 * The workload: `instances` × 100 series. Deterministic for a given seed.
 *
 * @example
 * ```ts
 * import { generateWorkload } from "./generator.ts";
 * const series = generateWorkload({ instances: 2, durationMs: 60_000 });
 * console.log(series.length, series[0].timestamps.length); // 200 4
 * ```
 */
export function generateWorkload(
  opts: WorkloadOptions = {},
): GeneratedSeries[] {
  const seed = opts.seed ?? 1;
  const instances = opts.instances ?? 100;
  const interval = opts.intervalMs ?? 15_000;
  const jitter = opts.jitterMs ?? 50;
  const duration = opts.durationMs ?? 2 * 3600_000;
  const start = opts.startMs ?? Date.UTC(2026, 0, 1);
  const n = Math.floor(duration / interval);
  const specs = instanceSpecs();
  const out: GeneratedSeries[] = [];
  for (let inst = 0; inst < instances; inst++) {
    const rng = new Prng(seed * 1_000_003 + inst);
    // One timestamp per scrape, shared by all series of the instance.
    const ts = new Float64Array(n);
    const offset = rng.int(0, interval - 1);
    for (let i = 0; i < n; i++) {
      ts[i] = start + offset + i * interval +
        (jitter ? rng.int(-jitter, jitter) : 0);
    }
    // Requests per scrape, shared by the histogram's buckets.
    const requests = Array.from({ length: n }, () => 200 + rng.float() * 100);
    specs.forEach((spec, k) => {
      const srng = new Prng(seed * 7919 + inst * 131 + k);
      const values = new Float64Array(n);
      let share = requests;
      if (spec.kind === "hist") {
        const le = spec.labels.le === "+Inf"
          ? Infinity
          : Number(spec.labels.le);
        const frac = le === Infinity ? 1 : 1 - Math.exp(-le / 0.3);
        share = requests.map((r) => r * frac);
      }
      fillValues(spec, srng, values, share);
      out.push({
        labels: {
          __name__: spec.name,
          instance: `host-${inst}:9100`,
          job: "node",
          ...spec.labels,
        },
        timestamps: ts,
        values,
      });
    });
  }
  return out;
}

/** Total samples in a workload. */
export function sampleCount(series: readonly GeneratedSeries[]): number {
  return series.reduce((a, s) => a + s.values.length, 0);
}
