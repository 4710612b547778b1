/**
 * The side-by-side run's result shape, its markdown page and its SVG chart
 * (hand-written SVG: bars relative to Prometheus on a log scale).
 * @module
 */
import type { DiskFigures } from "./peers.ts";
import type { QueryTiming, QueryWindow } from "./queries.ts";

/** One query's figures on one system, and how its result compares with Prometheus'. */
export interface QueryRow extends Omit<QueryTiming, "result"> {
  /** Empty when the result agrees with Prometheus' (or this is Prometheus). */
  mismatch: string;
}

/** Everything measured for one system (what the JSON keeps). */
export interface SystemFigures {
  name: string;
  version: string;
  /** Seconds from spawning to ready. */
  startSeconds: number;
  /** /proc/loadavg (1, 5, 15 min) before and after this system's phase. */
  load: { before: number[]; after: number[] };
  ingest: {
    /** Samples of the timed part. */
    samples: number;
    requests: number;
    seconds: number;
    /** CPU seconds of the server process during the timed part. */
    cpuSeconds: number;
    /** CPU seconds of the sending client (this process). */
    clientCpuSeconds: number;
    /** CPU seconds of everything else on the machine meanwhile. */
    otherCpuSeconds: number;
    /** What the server itself counted as appended (its /metrics). */
    samplesIngested: number;
  };
  memory: {
    rssIdleBytes: number;
    rssAfterIngestBytes: number;
    /** VmHWM after the timed ingest. */
    peakRssIngestBytes: number;
    /** VmHWM after the query set. */
    peakRssQueriesBytes: number;
    /** VmHWM at the end of the phase (incl. the rest of the data and persisting). */
    peakRssBytes: number;
  };
  queries: QueryRow[];
  /** Server CPU seconds over the whole query set. */
  queryCpuSeconds: number;
  disk: DiskFigures;
  persistCpuSeconds: number;
  readBack: { sent: number; returned: number; exact: number };
}

/** A system's figures plus its query results (for the cross-check). */
export interface SystemRun extends SystemFigures {
  results: QueryTiming[];
}

/** RSS growth of a fresh server from empty to many series. */
export interface MemoryRun {
  series: number;
  samples: number;
  rssBefore: number;
  rssAfter: number;
  peakRss: number;
}

/** The whole run. */
export interface BenchReport {
  date: string;
  machine: Record<string, string | number>;
  config: {
    series: number;
    hours: number;
    measuredHours: number;
    samples: number;
    measuredSamples: number;
    requests: number;
    wireBytes: number;
    rawBytes: number;
    shards: number;
    samplesPerRequest: number;
    runs: number;
    warmups: number;
    window: QueryWindow;
    probe: Record<string, string>;
    memSeries: number;
    memScrapes: number;
    /** V8 flags Tidemark ran with (those of `deno task start`; absent in older runs: none). */
    tidemarkV8Flags?: string[];
  };
  systems: SystemFigures[];
  memory: Record<string, MemoryRun>;
  /** The second dataset (100k series regex, 100 × 100 histograms): query medians per system. */
  extra?: {
    series: number;
    samples: number;
    timings: Record<
      string,
      { query: string; kind: string; medianMs: number; mismatch?: string }[]
    >;
  };
  runSeconds: number;
}

const LABEL: Record<string, string> = {
  tidemark: "Tidemark",
  prometheus: "Prometheus",
  "victoria-metrics": "VictoriaMetrics",
};
const COLOR: Record<string, string> = {
  tidemark: "#1f6feb",
  prometheus: "#e6522c",
  "victoria-metrics": "#7b42bc",
};

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

function kilo(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)} k`;
  return x.toFixed(0);
}

function mib(x: number): string {
  return Number.isFinite(x) ? `${(x / 2 ** 20).toFixed(0)} MiB` : "–";
}

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function geomean(xs: number[]): number {
  if (xs.length === 0) return NaN;
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

/** A figure of the summary: its value per system and which way is better. */
interface Figure {
  label: string;
  value: (s: SystemFigures) => number;
  format: (x: number) => string;
  higherIsBetter: boolean;
  /** Shown in the chart. */
  chart: boolean;
}

function figures(): Figure[] {
  return [
    {
      label: "ingest, samples/s",
      value: (s) => s.ingest.samples / s.ingest.seconds,
      format: kilo,
      higherIsBetter: true,
      chart: true,
    },
    {
      label: "ingest, samples per server CPU-second",
      value: (s) => s.ingest.samples / s.ingest.cpuSeconds,
      format: kilo,
      higherIsBetter: true,
      chart: true,
    },
    {
      label: "server CPU seconds for the timed ingest",
      value: (s) => s.ingest.cpuSeconds,
      format: (x) => fixed(x, 1),
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "peak RSS during ingest (VmHWM)",
      value: (s) => s.memory.peakRssIngestBytes,
      format: mib,
      higherIsBetter: false,
      chart: true,
    },
    {
      label: "peak RSS after ingest + queries",
      value: (s) => s.memory.peakRssQueriesBytes,
      format: mib,
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "peak RSS over the whole phase (incl. persisting)",
      value: (s) => s.memory.peakRssBytes,
      format: mib,
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "disk, bytes/sample after persisting (see notes)",
      value: (s) => s.disk.persistedBytes / s.disk.persistedSamples,
      format: (x) => fixed(x, 3),
      higherIsBetter: false,
      chart: true,
    },
    {
      label: "disk, bytes/sample of the whole data dir (incl. WAL)",
      value: (s) => s.disk.totalBytes / s.disk.totalSamples,
      format: (x) => fixed(x, 2),
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "queries, p50 geomean, all",
      value: (s) => geomean(s.queries.map((q) => q.medianMs)),
      format: (x) => `${ms(x)} ms`,
      higherIsBetter: false,
      chart: true,
    },
    {
      label: "queries, p50 geomean, instant",
      value: (s) =>
        geomean(
          s.queries.filter((q) => q.kind === "instant").map((q) => q.medianMs),
        ),
      format: (x) => `${ms(x)} ms`,
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "queries, p50 geomean, range",
      value: (s) =>
        geomean(
          s.queries.filter((q) => q.kind === "range").map((q) => q.medianMs),
        ),
      format: (x) => `${ms(x)} ms`,
      higherIsBetter: false,
      chart: false,
    },
    {
      label: "server CPU seconds for the whole query set",
      value: (s) => s.queryCpuSeconds,
      format: (x) => fixed(x, 2),
      higherIsBetter: false,
      chart: false,
    },
  ];
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "–";
}

function byName(r: BenchReport, name: string): SystemFigures | undefined {
  return r.systems.find((s) => s.name === name);
}

/** The markdown page. */
export function renderMarkdown(r: BenchReport, svgName: string): string {
  const m = r.machine;
  const c = r.config;
  const sys = r.systems;
  const t = byName(r, "tidemark");
  const p = byName(r, "prometheus");
  const v = byName(r, "victoria-metrics");
  const head = `| figure | ${sys.map((s) => LABEL[s.name]).join(" | ")} | ` +
    `Tidemark / Prometheus | Tidemark / VictoriaMetrics | better |`;
  const rule = `|---|${sys.map(() => "--:").join("|")}|--:|--:|---|`;
  // Other processes used over 20% as much CPU as the server while it ingested.
  const contended = (s: SystemFigures) =>
    s.ingest.otherCpuSeconds > 0.2 * s.ingest.cpuSeconds;
  const rows = figures().map((f) =>
    `| ${f.label} | ${
      sys.map((s) =>
        f.format(f.value(s)) +
        (f.label === "ingest, samples/s" && contended(s)
          ? " (contended ⚠)"
          : "")
      ).join(" | ")
    } | ${t && p ? ratio(f.value(t), f.value(p)) : "–"} | ${
      t && v ? ratio(f.value(t), f.value(v)) : "–"
    } | ${f.higherIsBetter ? "higher" : "lower"} |`
  );
  rows.push(
    `| probe series read back bit-exact | ${
      sys.map((s) =>
        `${s.readBack.exact} / ${s.readBack.sent}${
          s.readBack.returned !== s.readBack.sent
            ? ` (${s.readBack.returned} returned)`
            : ""
        }`
      ).join(" | ")
    } | | | |`,
    `| samples the server counted / sent (timed part) | ${
      sys.map((s) => `${s.ingest.samplesIngested} / ${s.ingest.samples}`)
        .join(" | ")
    } | | | |`,
    `| CPU-s of the client / of other processes during timed ingest | ${
      sys.map((s) =>
        `${fixed(s.ingest.clientCpuSeconds, 1)} / ${
          fixed(s.ingest.otherCpuSeconds, 1)
        }`
      ).join(" | ")
    } | | | |`,
    `| load average (1/5/15 min) before → after its phase | ${
      sys.map((s) => `${s.load.before.join(" ")} → ${s.load.after.join(" ")}`)
        .join(" | ")
    } | | | |`,
    `| start to ready, s | ${
      sys.map((s) => fixed(s.startSeconds, 1)).join(" | ")
    } | | | |`,
  );

  const qHead = `| query | kind | ${
    sys.map((s) => `${LABEL[s.name]} ms`).join(" | ")
  } | T / P | T / VM | series | results vs Prometheus |`;
  const qRule = `|---|---|${sys.map(() => "--:").join("|")}|--:|--:|--:|---|`;
  const n = sys[0]?.queries.length ?? 0;
  const qRows: string[] = [];
  for (let i = 0; i < n; i++) {
    const q = sys[0].queries[i];
    const cell = (s: SystemFigures | undefined) =>
      s?.queries[i].medianMs ?? NaN;
    const series = [...new Set(sys.map((s) => s.queries[i].series))];
    const checks = sys.filter((s) => s.name !== "prometheus").map((s) =>
      `${LABEL[s.name]}: ${
        s.queries[i].mismatch ? clip(s.queries[i].mismatch, 150) : "agrees"
      }`
    );
    const slower = t && p && cell(t) > cell(p) ? " ⚠" : "";
    qRows.push(
      `| \`${q.query.replaceAll("|", "\\|")}\` | ${q.kind} | ${
        sys.map((s) => ms(s.queries[i].medianMs)).join(" | ")
      } | ${t && p ? ratio(cell(t), cell(p)) + slower : "–"} | ${
        t && v ? ratio(cell(t), cell(v)) : "–"
      } | ${
        series.length === 1
          ? series[0]
          : sys.map((s) => s.queries[i].series).join(" / ")
      } | ${p ? checks.join("; ") : "–"} |`,
    );
  }

  const goals: string[] = [];
  if (t && p) {
    const ti = t.ingest.samples / t.ingest.seconds;
    const pi = p.ingest.samples / p.ingest.seconds;
    const slowerQ = t.queries.filter((q, i) =>
      q.medianMs > p.queries[i].medianMs
    );
    goals.push(
      `- Ingest at least Prometheus' rate: **${
        ti >= pi ? "met" : "not met"
      }** (${ratio(ti, pi)} its samples/s; ${
        ratio(
          t.ingest.samples / t.ingest.cpuSeconds,
          p.ingest.samples / p.ingest.cpuSeconds,
        )
      } its samples per CPU-second).`,
      `- No query slower than Prometheus': **${
        slowerQ.length === 0 ? "met" : "not met"
      }**${
        slowerQ.length
          ? ` (${slowerQ.length} of ${t.queries.length} slower: ${
            slowerQ.map((q) => `${q.kind} \`${q.query}\``).join(", ")
          })`
          : ""
      }.`,
    );
  }
  if (t && v) {
    goals.push(
      `- Ambition, VictoriaMetrics' figures: ingest ${
        ratio(
          t.ingest.samples / t.ingest.seconds,
          v.ingest.samples / v.ingest.seconds,
        )
      } its samples/s, ${
        ratio(
          t.ingest.samples / t.ingest.cpuSeconds,
          v.ingest.samples / v.ingest.cpuSeconds,
        )
      } its samples per CPU-second; query p50 geomean ${
        ratio(
          geomean(t.queries.map((q) => q.medianMs)),
          geomean(v.queries.map((q) => q.medianMs)),
        )
      } its time.`,
    );
  }

  const memRows = Object.entries(r.memory).map(([name, mr]) =>
    `| ${LABEL[name]} | ${mr.series} | ${mib(mr.rssBefore)} → ${
      mib(mr.rssAfter)
    } | ${fixed((mr.rssAfter - mr.rssBefore) / mr.series, 0)} | ${
      mib(mr.peakRss)
    } |`
  );

  const diskNotes = sys.map((s) =>
    `${
      LABEL[s.name]
    }: ${s.disk.persistedWhat} (${s.disk.persistedSamples} samples; ` +
    `waited ${fixed(s.disk.waitSeconds, 0)} s)`
  );

  const lines = [
    "# Benchmarks: Tidemark, Prometheus and VictoriaMetrics side by side",
    "",
    "<!-- Generated by `deno run -A bench/compare/server.ts`; do not edit by hand. -->",
    "",
    `Measured ${
      r.date.slice(0, 16).replace("T", " ")
    } UTC on ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}; ` +
    `the run took ${(r.runSeconds / 60).toFixed(1)} min. Versions: ${
      sys.map((s) => s.version).join("; ")
    }.`,
    "",
    "The machine is shared with other work: the load average before and after " +
    "each system's phase is in the table, and absolute figures move 2–3× with " +
    "load. Compare the ratios, which come from one run, and prefer samples per " +
    "CPU-second to samples per second.",
    "",
    `![Tidemark and VictoriaMetrics relative to Prometheus](${svgName})`,
    "",
    "## Targets (issue 6)",
    "",
    ...goals,
    "",
    "## Summary",
    "",
    head,
    rule,
    ...rows,
    "",
    "## Query latency (median of " +
    `${c.runs} runs after ${c.warmups} warm-ups, over HTTP)`,
    "",
    qHead,
    qRule,
    ...qRows,
    "",
    "⚠: slower than Prometheus. (contended ⚠): other processes used over 20% as " +
    "much CPU as the server during its timed ingest.",
    "",
    ...(memRows.length
      ? [
        `## Memory per series (${c.memSeries} series × ${c.memScrapes} scrapes into a fresh server)`,
        "",
        "| system | series | RSS before → after | bytes per series | peak RSS |",
        "|---|--:|---|--:|--:|",
        ...memRows,
        "",
      ]
      : []),
    "## How it was measured",
    "",
    `- **Workload**: ${c.series} node_exporter-like series (100 per instance: counters ` +
    "with rare resets, random-walk gauges, 12% full-precision floats, a classic histogram), " +
    `15 s scrapes with ±50 ms jitter, ${c.hours} h = ${c.samples} samples, generated ` +
    "once by bench/data/generator.ts and pre-encoded as remote write 1.0 bodies the way " +
    `Prometheus sends them (one sample per TimeSeries, ${c.samplesPerRequest} samples per ` +
    `request, Snappy; ${
      fixed(c.wireBytes / c.samples, 1)
    } wire bytes/sample). ` +
    `Series are sharded over ${c.shards} keep-alive connections, each sending its bodies ` +
    "in order (as Prometheus' queue manager does). Every server gets the very same bytes.",
    `- **Systems**: each a real process started on a fresh data directory, one after the ` +
    `other (${sys.map((s) => LABEL[s.name]).join(", then ")}). Tidemark: ` +
    `\`deno run -A ${
      (c.tidemarkV8Flags ?? []).map((f) => `${f} `).join("")
    }src/server/main.ts\` in open mode (no auth file), \`--retention 100y\` ` +
    "(the V8 flags are `deno task start`'s). " +
    "Prometheus: `--web.enable-remote-write-receiver`, no scrape targets, default block " +
    "ranges. VictoriaMetrics: `-retentionPeriod=100y -search.disableCache` (its rollup " +
    "result cache would otherwise answer repeated range queries from memory).",
    `- **Ingest**: the first ${c.measuredHours} h (${c.measuredSamples} samples, ` +
    `${
      Math.ceil(c.measuredSamples / c.samplesPerRequest)
    } requests) is timed from the ` +
    "first request to the last answer; every request must be answered 2xx. Server CPU " +
    "seconds are user + system time of its process from /proc/<pid>/stat over the same " +
    "interval; the client's CPU and everyone else's on the machine (from /proc/stat) are " +
    "listed so contention shows. Peak RSS is the kernel's high-water mark (VmHWM).",
    "- **Queries**: run right after the timed ingest on that data, one at a time: instant " +
    `at the last timed sample (${
      new Date(c.window.at).toISOString()
    }), range from ` +
    `${new Date(c.window.start).toISOString()} to ${
      new Date(c.window.end).toISOString()
    } with a 60 s step. Time is the whole HTTP round trip on loopback (request, ` +
    "evaluation, JSON encoding, reading the body). Results of Tidemark and VictoriaMetrics " +
    "are compared with Prometheus': series count and labels, and every point of up to 10 " +
    "series per result (the first five and a spread) within 1e-6 relative.",
    `- **Disk**: after the queries the rest of the data (up to ${c.hours} h) is sent so ` +
    "that the head spans more than 1.5 × 2 h, and each server is left to persist on its " +
    "own: Prometheus and Tidemark cut their first 2 h block in their periodic pass (each " +
    "checks every 60 s; nothing is triggered from outside, no restart), VictoriaMetrics " +
    "is asked to `/internal/force_flush` and `/internal/force_merge` until its part count " +
    "stops falling. bytes/sample = " + diskNotes.join("; ") + ". " +
    "The whole-directory figure includes WAL and head files.",
    `- **Read-back**: the full-precision series \`${
      JSON.stringify(c.probe)
    }\` is read back over HTTP ` +
    "after persisting (Prometheus and Tidemark: an instant query over a range selector; " +
    "VictoriaMetrics: /api/v1/export) and compared bit for bit with what was sent.",
    "- Raw figures: `bench/results/server-compare-<date>.json`.",
    "",
    ...extraSection(r),
    "## Known differences in query results",
    "",
    "- Tidemark follows Prometheus 3, the peer is 2.42. Range selectors: Prometheus 3 " +
    "windows are left-open `(t-r, t]`, 2.x's closed `[t-r, t]`; a scrape exactly on " +
    "`t-r` is in 2.42's window only. `rate`/`increase` near a series' start: since " +
    "prometheus/prometheus#13725 (2.51) the zero point limits extrapolation only after " +
    "the half-interval rule.",
    "- VictoriaMetrics' MetricsQL differs by design: `rate`/`increase` use the sample " +
    "before the window and do not extrapolate, `*_over_time` keep the metric name, range " +
    "queries align and may fill points differently, and it stores floats rounded to 12 " +
    "significant digits.",
    "",
  ];
  return lines.join("\n");
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  );
}

/**
 * The chart: one row per figure (ingest, memory, disk, each query), one bar
 * per system other than Prometheus, length = how many times better than
 * Prometheus on a log2 scale (right of the 1× line is better, whichever way
 * the raw figure goes).
 */
export function renderChart(r: BenchReport): string {
  const p = byName(r, "prometheus");
  const others = r.systems.filter((s) => s.name !== "prometheus");
  if (!p || others.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="10" y="25" font-family="sans-serif" font-size="13">The chart needs Prometheus and another system in the run.</text></svg>\n`;
  }
  type Row = { label: string; better: (s: SystemFigures) => number };
  const rows: Row[] = figures().filter((f) => f.chart).map((f) => ({
    label: f.label,
    better: (s) =>
      f.higherIsBetter ? f.value(s) / f.value(p) : f.value(p) / f.value(s),
  }));
  p.queries.forEach((q, i) => {
    const short = clip(q.query, 52);
    rows.push({
      label: `${q.kind}: ${short}`,
      better: (s) => p.queries[i].medianMs / s.queries[i].medianMs,
    });
  });

  const LIMIT = 4; // log2 range shown: 1/16× … 16×
  const labelW = 400, plotW = 460, right = 20;
  const barH = 11, rowH = others.length * barH + 10;
  const top = 64, width = labelW + plotW + right;
  const height = top + rows.length * rowH + 40;
  const x0 = labelW + plotW / 2;
  const xOf = (f: number) =>
    x0 + Math.max(-LIMIT, Math.min(LIMIT, Math.log2(f))) / LIMIT * (plotW / 2);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Relative to Prometheus in the same run (log scale; right of 1× is better)</text>`,
    `<text x="10" y="38" fill="#555">${
      esc(r.date.slice(0, 10))
    }, ${r.machine.cores} cores; ${r.config.series} series × ${r.config.hours} h; ingest and queries on the first ${r.config.measuredHours} h</text>`,
  ];
  // Legend.
  let lx = labelW;
  for (const s of others) {
    out.push(
      `<rect x="${lx}" y="46" width="12" height="10" fill="${COLOR[s.name]}"/>`,
      `<text x="${lx + 16}" y="55">${esc(LABEL[s.name])}</text>`,
    );
    lx += 140;
  }
  // Grid lines at powers of two.
  const gridBottom = top + rows.length * rowH;
  for (let k = -LIMIT; k <= LIMIT; k++) {
    const x = xOf(2 ** k);
    out.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${gridBottom}" stroke="${
        k === 0 ? "#333" : "#ddd"
      }" stroke-width="${k === 0 ? 1.5 : 1}"/>`,
      `<text x="${x}" y="${gridBottom + 16}" text-anchor="middle" fill="#555">${
        k >= 0 ? `${2 ** k}×` : `1/${2 ** -k}`
      }</text>`,
    );
  }
  out.push(
    `<text x="${x0}" y="${
      gridBottom + 32
    }" text-anchor="middle" fill="#555">times better than Prometheus</text>`,
  );
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (i % 2 === 1) {
      out.push(
        `<rect x="0" y="${y}" width="${width}" height="${rowH}" fill="#f6f8fa" opacity="0.6"/>`,
      );
    }
    out.push(
      `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${
        esc(row.label)
      }</text>`,
    );
    others.forEach((s, j) => {
      const f = row.better(s);
      const by = y + 5 + j * barH;
      const xe = xOf(f);
      const xa = Math.min(x0, xe), w = Math.abs(xe - x0);
      out.push(
        `<rect x="${xa.toFixed(1)}" y="${by}" width="${
          Math.max(w, 1).toFixed(1)
        }" height="${barH - 2}" fill="${COLOR[s.name]}"/>`,
      );
      const text = Number.isFinite(f) ? `${f.toFixed(2)}×` : "–";
      const tx = f >= 1 ? xe + 4 : xe - 4;
      out.push(
        `<text x="${tx.toFixed(1)}" y="${
          by + barH - 3
        }" font-size="10" text-anchor="${
          f >= 1 ? "start" : "end"
        }" fill="#333">${text}</text>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The second dataset's table (issue 5's regex and histogram shapes). */
function extraSection(r: BenchReport): string[] {
  const x = r.extra;
  if (!x) return [];
  const names = Object.keys(x.timings);
  const t = x.timings["tidemark"];
  const p = x.timings["prometheus"];
  const v = x.timings["victoria-metrics"];
  const lines = [
    "## Regex over 100k series, histogram_quantile over 100 × 100 buckets",
    "",
    `A second dataset, sent to each system fresh and then queried over HTTP (medians as above): ` +
    `${
      x.series.toLocaleString("en")
    } series (100,000 counters with a distinct \`pod\` each, and ` +
    `100 classic histograms of 100 buckets), 30 min of 15 s scrapes, ` +
    `${
      x.samples.toLocaleString("en")
    } samples (\`bench/compare/promql_extra.ts\`). ` +
    "Instant queries at the last scrape, range queries over the 30 min with a 60 s step.",
    "",
    `| query | kind | ${
      names.map((n) => LABEL[n]).join(" | ")
    } | Tidemark / Prometheus | Tidemark / VictoriaMetrics |`,
    `|---|---|${names.map(() => "--:").join("|")}|--:|--:|`,
  ];
  (t ?? p ?? []).forEach((row, i) => {
    const cells = names.map((n) => ms(x.timings[n][i].medianMs));
    const tp = t && p ? ratio(t[i].medianMs, p[i].medianMs) : "";
    const tv = t && v ? ratio(t[i].medianMs, v[i].medianMs) : "";
    const note = t?.[i].mismatch ? " ¹" : "";
    lines.push(
      `| \`${row.query}\`${note} | ${row.kind} | ${
        cells.join(" | ")
      } | ${tp} | ${tv} |`,
    );
  });
  if (t?.some((q) => q.mismatch)) {
    lines.push(
      "",
      "¹ Tidemark's result differs from Prometheus' at some points: " +
        t.filter((q) => q.mismatch).map((q) =>
          `${q.kind} \`${q.query}\`: ${q.mismatch}`
        ).join("; "),
    );
  }
  lines.push("");
  return lines;
}
