/**
 * The server's own metrics, rendered in the Prometheus text format 0.0.4
 * for `GET /metrics`: counters, gauges and histograms with label sets,
 * plus collectors called at scrape time for figures owned elsewhere.
 * @module
 */

type LabelValues = Record<string, string>;

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: LabelValues, extra = ""): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${escapeValue(v)}"`
  );
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

interface Family {
  render(out: string[]): void;
}

/** A counter or gauge with labels. */
export class Metric implements Family {
  readonly #values = new Map<string, { labels: LabelValues; v: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  #entry(labels: LabelValues) {
    const key = JSON.stringify(labels);
    let e = this.#values.get(key);
    if (!e) this.#values.set(key, e = { labels, v: 0 });
    return e;
  }

  /** Adds `by` (default 1). */
  inc(labels: LabelValues = {}, by = 1): void {
    this.#entry(labels).v += by;
  }

  /** Sets the value (gauges; counters mirrored from elsewhere). */
  set(labels: LabelValues, v: number): void {
    this.#entry(labels).v = v;
  }

  /** Drops every series (for gauges rebuilt at each scrape). */
  reset(): void {
    this.#values.clear();
  }

  render(out: string[]): void {
    out.push(
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} ${this.type}`,
    );
    for (const { labels, v } of this.#values.values()) {
      out.push(`${this.name}${labelText(labels)} ${num(v)}`);
    }
  }
}

/** A histogram with fixed upper bounds (seconds or bytes). */
export class Histogram implements Family {
  readonly #series = new Map<
    string,
    { labels: LabelValues; counts: Float64Array; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  /** Records one observation. */
  observe(labels: LabelValues, v: number): void {
    const key = JSON.stringify(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = {
        labels,
        counts: new Float64Array(this.bounds.length),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]) s.counts[i]++;
    }
    s.sum += v;
    s.count++;
  }

  render(out: string[]): void {
    out.push(
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    );
    for (const s of this.#series.values()) {
      for (let i = 0; i < this.bounds.length; i++) {
        out.push(
          `${this.name}_bucket${
            labelText(s.labels, `le="${num(this.bounds[i])}"`)
          } ${s.counts[i]}`,
        );
      }
      out.push(
        `${this.name}_bucket${labelText(s.labels, 'le="+Inf"')} ${s.count}`,
        `${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`,
        `${this.name}_count${labelText(s.labels)} ${s.count}`,
      );
    }
  }
}

/** A set of metric families plus scrape-time collectors. */
export class Registry {
  readonly #families: Family[] = [];
  readonly #collectors: (() => void)[] = [];

  /** Registers a counter. */
  counter(name: string, help: string): Metric {
    const m = new Metric(name, help, "counter");
    this.#families.push(m);
    return m;
  }

  /** Registers a gauge. */
  gauge(name: string, help: string): Metric {
    const m = new Metric(name, help, "gauge");
    this.#families.push(m);
    return m;
  }

  /** Registers a histogram. */
  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    const h = new Histogram(name, help, bounds);
    this.#families.push(h);
    return h;
  }

  /** Runs `fn` before each rendering (to refresh gauges). */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The text exposition of every family. */
  render(): string {
    for (const c of this.#collectors) c();
    const out: string[] = [];
    for (const f of this.#families) f.render(out);
    return out.join("\n") + "\n";
  }
}

/** Latency buckets (seconds) for request durations. */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];
