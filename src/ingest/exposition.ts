/**
 * A strict parser of the Prometheus text exposition format 0.0.4, with the
 * semantics of Go's expfmt.TextParser (what the Pushgateway runs): every
 * line ends in `\n` (a final line without one is an error unless blank),
 * `# HELP` / `# TYPE` bind to a family, `_bucket`/`_sum`/`_count` samples
 * join their histogram or summary, label values and HELP text take
 * escapes, values use Go's float syntax, timestamps are int64 ms.
 *
 * Stricter than Go where Go silently drops data: a histogram sample without
 * `le`, a summary sample without `quantile`, duplicate `le`/`quantile`
 * labels, and quoted (UTF-8) metric or label names are errors. A `\r` is
 * not whitespace (as in Go), so CRLF bodies fail with a clear message.
 * @module
 */
import { parseGoFloat, parseGoInt64 } from "./go_float.ts";

/** The five metric types of format 0.0.4. */
export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "summary"
  | "untyped";

/** One bucket of a classic histogram. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** One quantile of a summary. */
export interface Quantile {
  readonly quantile: number;
  readonly value: number;
}

/**
 * One metric (a label set) of a family. Counters, gauges and untyped
 * metrics use `value`; histograms `buckets`/`sum`/`count`; summaries
 * `quantiles`/`sum`/`count`. A missing sum or count is undefined.
 */
export interface ExpositionMetric {
  /** The metric's labels in line order, without `le`/`quantile`. */
  readonly labels: [string, string][];
  value?: number;
  buckets?: Bucket[];
  quantiles?: Quantile[];
  sum?: number;
  count?: number;
  /** The last explicit timestamp (ms) seen on any of its lines. */
  timestampMs?: number;
}

/** A metric family: name, type, help, metrics in order of appearance. */
export interface MetricFamily {
  readonly name: string;
  type: MetricType;
  help?: string;
  readonly metrics: ExpositionMetric[];
}

/** A syntax error, with its 1-based line number. */
export class ExpositionError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`text format parsing error in line ${line}: ${reason}`);
    this.name = "ExpositionError";
  }
}

const NL = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const CR = 0x0d;

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const LOOSE = new TextDecoder();

/** A family under construction; `typed` is false until TYPE or a sample fixes it. */
interface Building extends MetricFamily {
  typed: boolean;
  /** Histogram/summary metrics by their label signature. */
  bySignature: Map<string, ExpositionMetric>;
}

/** What a sample name contributes to its family. */
type Role = "plain" | "count" | "sum";

/**
 * Parses a whole exposition body. Families without samples are dropped,
 * as Go does. Throws ExpositionError (and nothing else) on bad input.
 */
export function parseExposition(body: Uint8Array): Map<string, MetricFamily> {
  return new Parser(body).run();
}

/** Parses text (encoded as UTF-8 first). */
export function parseExpositionText(text: string): Map<string, MetricFamily> {
  return parseExposition(new TextEncoder().encode(text));
}

class Parser {
  readonly #families = new Map<string, Building>();
  #line = 0;
  /** Cursor and end (exclusive, the `\n` or the body's end) of the line. */
  #pos = 0;
  #end = 0;

  constructor(readonly buf: Uint8Array) {}

  run(): Map<string, MetricFamily> {
    const buf = this.buf;
    let start = 0;
    while (start < buf.length) {
      this.#line++;
      let end = buf.indexOf(NL, start);
      const terminated = end >= 0;
      if (!terminated) end = buf.length;
      this.#pos = start;
      this.#end = end;
      this.#parseLine(terminated);
      start = end + 1;
    }
    const out = new Map<string, MetricFamily>();
    for (const [name, f] of this.#families) {
      if (f.metrics.length === 0) continue;
      const family: MetricFamily = {
        name,
        type: f.type,
        metrics: f.metrics,
      };
      if (f.help !== undefined) family.help = f.help;
      out.set(name, family);
    }
    return out;
  }

  #fail(reason: string): never {
    throw new ExpositionError(this.#line, reason);
  }

  #parseLine(terminated: boolean): void {
    this.#skipBlanks();
    if (this.#atEnd()) return; // blank line (also fine unterminated)
    if (this.buf[this.#pos] === HASH) {
      this.#pos++;
      this.#comment();
    } else {
      this.#sample();
    }
    if (!terminated) this.#fail("unexpected end of input stream");
  }

  #comment(): void {
    this.#skipBlanks();
    if (this.#atEnd()) return;
    const keyword = this.#tokenUntilBlank();
    if (this.#atEnd() || (keyword !== "HELP" && keyword !== "TYPE")) return;
    this.#skipBlanks();
    const name = this.#metricName();
    if (this.#atEnd()) return;
    if (!isBlank(this.buf[this.#pos])) {
      this.#fail(
        this.buf[this.#pos] === CR
          ? "carriage return (CRLF line ending) is not allowed"
          : "invalid metric name in comment",
      );
    }
    const { family } = this.#familyFor(name);
    this.#skipBlanks();
    if (this.#atEnd()) return;
    if (keyword === "HELP") {
      if (family.help !== undefined) {
        this.#fail(`second HELP line for metric name ${q(family.name)}`);
      }
      family.help = this.#helpText();
      return;
    }
    if (family.typed) {
      this.#fail(
        `second TYPE line for metric name ${
          q(family.name)
        }, or TYPE reported after samples`,
      );
    }
    const text = this.#decode(this.#pos, this.#end, "TYPE");
    this.#pos = this.#end;
    family.type = metricType(text) ?? this.#fail(unknownType(text));
    family.typed = true;
  }

  #sample(): void {
    const name = this.#metricName();
    if (name === "") this.#fail(this.#badStart("invalid metric name"));
    const { family, role } = this.#familyFor(name);
    family.typed = true;
    this.#skipBlanks();
    const labels: [string, string][] = [];
    let special: number | undefined; // le or quantile
    if (this.buf[this.#pos] === 0x7b /* { */ && this.#pos < this.#end) {
      this.#pos++;
      special = this.#labels(family, labels);
      this.#skipBlanks();
    }
    const valueText = this.#tokenUntilBlank();
    const value = parseGoFloat(valueText);
    if (value === null) {
      this.#fail(
        valueText.endsWith("\r")
          ? "carriage return (CRLF line ending) is not allowed"
          : `expected float as value, got ${q(valueText)}`,
      );
    }
    let timestampMs: number | undefined;
    if (!this.#atEnd()) {
      this.#skipBlanks();
      const tsText = this.#tokenUntilBlank();
      const ts = parseGoInt64(tsText);
      if (ts === null) {
        this.#fail(
          tsText.endsWith("\r")
            ? "carriage return (CRLF line ending) is not allowed"
            : `expected integer as timestamp, got ${q(tsText)}`,
        );
      }
      if (!this.#atEnd()) {
        const rest = this.#decodeLoose(this.#pos, this.#end);
        this.#fail(`spurious string after timestamp: ${q(rest)}`);
      }
      timestampMs = ts;
    }
    const metric = this.#metricFor(family, labels);
    if (timestampMs !== undefined) metric.timestampMs = timestampMs;
    this.#place(family, role, metric, special, value);
  }

  /** Reads labels after `{` up to and including `}`; returns le/quantile when present. */
  #labels(family: Building, labels: [string, string][]): number | undefined {
    const specialName = family.type === "histogram"
      ? "le"
      : family.type === "summary"
      ? "quantile"
      : "";
    let special: number | undefined;
    const seen = new Set<string>();
    for (;;) {
      this.#skipBlanks();
      if (this.#atEnd()) this.#fail("unexpected end of label set");
      if (this.buf[this.#pos] === 0x7d /* } */) {
        this.#pos++;
        return special;
      }
      const name = this.#labelName();
      if (name === "") {
        this.#fail(
          this.#badStart(`invalid label name for metric ${q(family.name)}`),
        );
      }
      this.#skipBlanks();
      if (this.buf[this.#pos] !== 0x3d /* = */ || this.#atEnd()) {
        this.#fail(`expected '=' after label name, found ${this.#here()}`);
      }
      this.#pos++;
      if (name === "__name__") this.#fail(`label name "__name__" is reserved`);
      if (seen.has(name)) {
        this.#fail(`duplicate label names for metric ${q(family.name)}`);
      }
      seen.add(name);
      this.#skipBlanks();
      if (this.buf[this.#pos] !== 0x22 /* " */ || this.#atEnd()) {
        this.#fail(
          `expected '"' at start of label value, found ${this.#here()}`,
        );
      }
      this.#pos++;
      const value = this.#labelValue();
      if (name === specialName) {
        special = parseGoFloat(value) ??
          this.#fail(
            `expected float as value for '${name}' label, got ${q(value)}`,
          );
      } else {
        labels.push([name, value]);
      }
      this.#skipBlanks();
      if (this.#atEnd()) this.#fail("unexpected end of label set");
      const c = this.buf[this.#pos];
      if (c === 0x2c /* , */) {
        this.#pos++;
      } else if (c !== 0x7d) {
        this.#fail(`unexpected end of label value ${q(value)}`);
      }
    }
  }

  /** Reads a quoted label value after its opening quote, through the closing one. */
  #labelValue(): string {
    const buf = this.buf;
    const start = this.#pos;
    let p = start;
    let escaped = false;
    for (;;) {
      if (p >= this.#end) {
        this.#fail(
          this.#end < buf.length
            ? "label value contains unescaped new-line"
            : "unexpected end of input stream",
        );
      }
      const c = buf[p++];
      if (c === 0x22) break;
      if (c === 0x5c /* \ */) {
        escaped = true;
        const e = p < this.#end ? buf[p++] : NL;
        if (e !== 0x22 && e !== 0x5c && e !== 0x6e /* n */) {
          this.#fail(`invalid escape sequence '\\${printable(e)}'`);
        }
      }
    }
    this.#pos = p;
    let raw = buf.subarray(start, p - 1);
    if (escaped) raw = unescape(raw);
    return decodeBytes(raw, true) ??
      this.#fail("invalid label value: not valid UTF-8");
  }

  /** The rest of a HELP line, with escapes \\ \n \" (as Go accepts). */
  #helpText(): string {
    const bytes: number[] = [];
    const buf = this.buf;
    for (let p = this.#pos; p < this.#end; p++) {
      const c = buf[p];
      if (c !== 0x5c) {
        bytes.push(c);
        continue;
      }
      const e = p + 1 < this.#end ? buf[++p] : NL;
      if (e === 0x5c || e === 0x22) bytes.push(e);
      else if (e === 0x6e) bytes.push(NL);
      else this.#fail(`invalid escape sequence '\\${printable(e)}'`);
    }
    this.#pos = this.#end;
    return decodeBytes(new Uint8Array(bytes), true) ??
      this.#fail("HELP text is not valid UTF-8");
  }

  /** The family a sample or comment name belongs to, created when new. */
  #familyFor(name: string): { family: Building; role: Role } {
    const direct = this.#families.get(name);
    if (direct) return { family: direct, role: "plain" };
    const role: Role = name.length > 6 && name.endsWith("_count")
      ? "count"
      : name.length > 4 && name.endsWith("_sum")
      ? "sum"
      : "plain";
    const base = role === "count"
      ? name.slice(0, -6)
      : role === "sum"
      ? name.slice(0, -4)
      : name;
    const summary = this.#families.get(base);
    if (role !== "plain" && summary?.type === "summary") {
      return { family: summary, role };
    }
    const histBase = role === "plain" && name.length > 7 &&
        name.endsWith("_bucket")
      ? name.slice(0, -7)
      : base;
    const hist = this.#families.get(histBase);
    if (histBase !== name && hist?.type === "histogram") {
      return { family: hist, role };
    }
    const family: Building = {
      name,
      type: "untyped",
      metrics: [],
      typed: false,
      bySignature: new Map(),
    };
    this.#families.set(name, family);
    return { family, role: "plain" };
  }

  /** The metric a sample line adds to (histograms/summaries merge by labels). */
  #metricFor(family: Building, labels: [string, string][]): ExpositionMetric {
    if (family.type !== "histogram" && family.type !== "summary") {
      const m: ExpositionMetric = { labels };
      family.metrics.push(m);
      return m;
    }
    const signature = JSON.stringify(
      [...labels].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
    );
    let m = family.bySignature.get(signature);
    if (!m) {
      m = { labels };
      if (family.type === "histogram") m.buckets = [];
      else m.quantiles = [];
      family.bySignature.set(signature, m);
      family.metrics.push(m);
    }
    return m;
  }

  #place(
    family: Building,
    role: Role,
    metric: ExpositionMetric,
    special: number | undefined,
    value: number,
  ): void {
    const name = q(family.name);
    if (family.type === "histogram") {
      if (role === "sum") metric.sum = value;
      else if (role === "count") {
        if (value < 0) this.#fail(`negative count for histogram ${name}`);
        metric.count = value;
      } else if (special === undefined) {
        this.#fail(`histogram ${name} bucket sample without an 'le' label`);
      } else {
        if (value < 0) {
          this.#fail(`negative bucket population for histogram ${name}`);
        }
        metric.buckets!.push({ le: special, count: value });
      }
    } else if (family.type === "summary") {
      if (role === "sum") metric.sum = value;
      else if (role === "count") {
        if (value < 0) this.#fail(`negative count for summary ${name}`);
        // Go keeps a summary's count as uint64: fractions are truncated.
        metric.count = Number.isFinite(value) ? Math.trunc(value) : value;
      } else if (special === undefined) {
        this.#fail(`summary ${name} sample without a 'quantile' label`);
      } else {
        metric.quantiles!.push({ quantile: special, value });
      }
    } else {
      metric.value = value;
    }
  }

  // --- lexing helpers over [#pos, #end) ---

  #atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  #skipBlanks(): void {
    while (this.#pos < this.#end && isBlank(this.buf[this.#pos])) this.#pos++;
  }

  #tokenUntilBlank(): string {
    const start = this.#pos;
    while (this.#pos < this.#end && !isBlank(this.buf[this.#pos])) this.#pos++;
    return this.#decodeLoose(start, this.#pos);
  }

  /** [a-zA-Z_:][a-zA-Z0-9_:]* (empty when the first byte cannot start one). */
  #metricName(): string {
    const start = this.#pos;
    const buf = this.buf;
    if (this.#pos < this.#end && isNameStart(buf[this.#pos], true)) {
      this.#pos++;
      while (this.#pos < this.#end && isNameByte(buf[this.#pos], true)) {
        this.#pos++;
      }
    }
    return this.#decodeLoose(start, this.#pos);
  }

  /** [a-zA-Z_][a-zA-Z0-9_]* (empty when the first byte cannot start one). */
  #labelName(): string {
    const start = this.#pos;
    const buf = this.buf;
    if (this.#pos < this.#end && isNameStart(buf[this.#pos], false)) {
      this.#pos++;
      while (this.#pos < this.#end && isNameByte(buf[this.#pos], false)) {
        this.#pos++;
      }
    }
    return this.#decodeLoose(start, this.#pos);
  }

  #badStart(reason: string): string {
    const c = this.buf[this.#pos];
    if (c === CR) return "carriage return (CRLF line ending) is not allowed";
    if (c === 0x22 || c === 0x7b) {
      return `${reason} (quoted names are not supported)`;
    }
    return reason;
  }

  #here(): string {
    return this.#atEnd()
      ? "end of line"
      : `'${printable(this.buf[this.#pos])}'`;
  }

  #decode(start: number, end: number, what: string): string {
    return decodeBytes(this.buf.subarray(start, end), true) ??
      this.#fail(`${what} is not valid UTF-8`);
  }

  /** Decodes names, number tokens and messages; bad bytes become U+FFFD. */
  #decodeLoose(start: number, end: number): string {
    return decodeBytes(this.buf.subarray(start, end), false) ?? "";
  }
}

/** Resolves the escapes (backslash-backslash, -n, -quote) of a validated byte run. */
function unescape(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i];
    if (c === 0x5c) {
      c = raw[++i];
      if (c === 0x6e) c = NL;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * UTF-8 bytes to a string; ASCII by hand (TextDecoder costs about a
 * microsecond per call). Null when `fatal` and the bytes are not UTF-8.
 */
function decodeBytes(bytes: Uint8Array, fatal: boolean): string | null {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    try {
      return (fatal ? UTF8 : LOOSE).decode(bytes);
    } catch {
      return null;
    }
  }
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + 4096) as unknown as number[],
    );
  }
  return s;
}

function metricType(text: string): MetricType | null {
  switch (text.toLowerCase()) {
    case "counter":
      return "counter";
    case "gauge":
      return "gauge";
    case "histogram":
      return "histogram";
    case "summary":
      return "summary";
    case "untyped":
      return "untyped";
  }
  return null;
}

function unknownType(text: string): string {
  const t = text.toLowerCase();
  if (t === "gauge_histogram" || t === "gaugehistogram") {
    return `unsupported metric type ${
      q(text)
    } (gauge histograms are not accepted)`;
  }
  if (text.endsWith("\r")) {
    return "carriage return (CRLF line ending) is not allowed";
  }
  return `unknown metric type ${q(text)}`;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isNameStart(c: number, colon: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f ||
    (colon && c === 0x3a);
}

function isNameByte(c: number, colon: boolean): boolean {
  return isNameStart(c, colon) || (c >= 0x30 && c <= 0x39);
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f
    ? String.fromCharCode(c)
    : `\\x${c.toString(16).padStart(2, "0")}`;
}

function q(s: string): string {
  return JSON.stringify(s);
}
