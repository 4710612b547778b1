/**
 * A parser of Prometheus' PromQL test-script format (promql/promqltest):
 * `load`, `clear`, `eval instant|range` with `expect` lines, the legacy
 * `eval_fail`/`eval_ordered`/`eval_warn`/`eval_info` variants, and the
 * series notation (`a+bxN`, `axN`, `_`, `_xN`, `stale`).
 * @module
 */
import { type Labels, labelsFrom } from "../../src/model/labels.ts";
import { parseDurationText } from "../../src/promql/parser.ts";

/** A value in series notation: a number, a gap, or a stale marker. */
export type Point = number | "_" | "stale";

/** One series line. */
export interface SeriesLine {
  labels: Labels;
  points: Point[];
  /** The line has native-histogram values (`{{…}}`). */
  histogram: boolean;
  line: number;
}

/** An expectation line (`expect fail msg: …` etc.). */
export interface Expect {
  kind:
    | "fail"
    | "warn"
    | "info"
    | "no_warn"
    | "no_info"
    | "ordered"
    | "range"
    | "string";
  match?: { type: "msg" | "regex"; text: string };
  /** For `expect range vector from A to B step S` (ms). */
  range?: { from: number; to: number; step: number };
  text?: string;
}

/** A command of a test script. */
export type Command =
  | {
    type: "load";
    intervalMs: number;
    series: SeriesLine[];
    line: number;
    nhcb: boolean;
  }
  | { type: "clear"; line: number }
  | {
    type: "eval";
    line: number;
    query: string;
    instant: boolean;
    /** Instant time, or range start (ms). */
    start: number;
    end: number;
    step: number;
    expects: Expect[];
    /** Expected result lines; a scalar result is one line with empty labels and `scalar` set. */
    results: SeriesLine[];
    scalar: number | null;
    /** The expected output involves native histograms. */
    histogram: boolean;
  };

/** Parses a time or duration (`50m`, `0`, `1h30m`, `-1m`, `100` seconds) to ms. */
export function parseTime(text: string): number {
  const neg = text.startsWith("-");
  const body = neg ? text.slice(1) : text;
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(body)) seconds = Number(body);
  else {
    const d = parseDurationText(body);
    if (typeof d === "string") throw new Error(d);
    seconds = d;
  }
  return Math.round((neg ? -seconds : seconds) * 1000);
}

function parseNumber(s: string): number {
  switch (s) {
    case "Inf":
    case "+Inf":
    case "inf":
    case "+inf":
      return Infinity;
    case "-Inf":
    case "-inf":
      return -Infinity;
    case "NaN":
    case "nan":
      return NaN;
  }
  if (/^[-+]?0x[0-9a-f]+$/i.test(s)) {
    return s.startsWith("-") ? -Number(s.slice(1)) : Number(s.replace("+", ""));
  }
  const v = Number(s);
  if (Number.isNaN(v) || s.trim() === "") {
    throw new Error(`bad number ${JSON.stringify(s)}`);
  }
  return v;
}

/** Expands the values of a series line. */
export function parsePoints(text: string): Point[] {
  const out: Point[] = [];
  for (const tok of text.trim().split(/\s+/)) {
    if (tok === "") continue;
    if (tok === "_") {
      out.push("_");
      continue;
    }
    if (tok === "stale") {
      out.push("stale");
      continue;
    }
    let m = /^_x(\d+)$/.exec(tok);
    if (m) {
      for (let i = 0; i < Number(m[1]); i++) out.push("_");
      continue;
    }
    m = /^(.+?)([+-])(.+)x(\d+)$/.exec(tok);
    if (m && !/[eE]$/.test(m[1])) {
      const a = parseNumber(m[1]);
      const b = parseNumber(m[3]) * (m[2] === "-" ? -1 : 1);
      for (let i = 0; i <= Number(m[4]); i++) out.push(a + i * b);
      continue;
    }
    m = /^(.+)x(\d+)$/.exec(tok);
    if (m) {
      const a = parseNumber(m[1]);
      for (let i = 0; i <= Number(m[2]); i++) out.push(a);
      continue;
    }
    out.push(parseNumber(tok));
  }
  return out;
}

/** Splits `metric{a="b"} values…` into labels and the rest. */
export function parseSeriesDesc(
  text: string,
): { labels: Labels; rest: string } {
  let i = 0;
  const s = text.trim();
  const pairs: [string, string][] = [];
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (nameMatch) {
    pairs.push(["__name__", nameMatch[0]]);
    i = nameMatch[0].length;
  }
  if (s[i] === "{") {
    i++;
    const readString = (): string => {
      const q = s[i];
      let j = i + 1;
      while (j < s.length && s[j] !== q) j += s[j] === "\\" ? 2 : 1;
      const raw = s.slice(i, j + 1);
      i = j + 1;
      return q === "`" ? raw.slice(1, -1) : JSON.parse(
        q === "'" ? `"${raw.slice(1, -1).replace(/"/g, '\\"')}"` : raw,
      );
    };
    for (;;) {
      while (/[\s,]/.test(s[i])) i++;
      if (s[i] === "}") {
        i++;
        break;
      }
      let name: string;
      if (s[i] === '"' || s[i] === "'") name = readString();
      else {
        const m = /^[a-zA-Z_][a-zA-Z0-9_.]*/.exec(s.slice(i))!;
        if (!m) throw new Error(`bad series descriptor ${s}`);
        name = m[0];
        i += name.length;
      }
      while (s[i] === " ") i++;
      if (s[i] === "," || s[i] === "}") {
        // A quoted metric name alone: {"name"}.
        pairs.push(["__name__", name]);
        continue;
      }
      if (s[i] !== "=") throw new Error(`bad series descriptor ${s}`);
      i++;
      while (s[i] === " ") i++;
      pairs.push([name, readString()]);
    }
  }
  return { labels: labelsFrom(pairs), rest: s.slice(i) };
}

function seriesLine(text: string, line: number): SeriesLine {
  const { labels, rest } = parseSeriesDesc(text);
  const histogram = rest.includes("{{");
  return {
    labels,
    points: histogram ? [] : parsePoints(rest),
    histogram,
    line,
  };
}

function parseExpect(body: string): Expect {
  const m =
    /^(fail|warn|info|no_warn|no_info|ordered)\s*(?:(msg|regex):\s*(.*))?$/
      .exec(body);
  if (m) {
    const e: Expect = { kind: m[1] as Expect["kind"] };
    if (m[2]) {
      let text = m[3].trim();
      if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
        text = text.slice(1, -1);
      }
      e.match = { type: m[2] as "msg" | "regex", text };
    }
    return e;
  }
  const r = /^range vector from (\S+) to (\S+) step (\S+)$/.exec(body);
  if (r) {
    return {
      kind: "range",
      range: {
        from: parseTime(r[1]),
        to: parseTime(r[2]),
        step: parseTime(r[3]),
      },
    };
  }
  const st = /^string\s+(.*)$/.exec(body);
  if (st) {
    const q = st[1].trim();
    return {
      kind: "string",
      text: q[0] === '"' ? JSON.parse(q) : q.slice(1, -1),
    };
  }
  throw new Error(`unknown expect line: ${body}`);
}

/** Parses a whole test script. */
export function parseScript(text: string): Command[] {
  const lines = text.split("\n");
  const out: Command[] = [];
  let i = 0;
  const body = (): { text: string; line: number }[] => {
    const got: { text: string; line: number }[] = [];
    while (i < lines.length) {
      const raw = lines[i];
      const t = raw.trim();
      if (t === "") break;
      if (t.startsWith("#")) {
        i++;
        continue;
      }
      if (/^(load|clear|eval)/.test(t) && !/^\s/.test(raw)) break;
      got.push({ text: t, line: i + 1 });
      i++;
    }
    return got;
  };
  while (i < lines.length) {
    const t = lines[i].trim();
    const lineNo = i + 1;
    i++;
    if (t === "" || t.startsWith("#")) continue;
    let m = /^load(_with_nhcb)?\s+(\S+)$/.exec(t);
    if (m) {
      out.push({
        type: "load",
        nhcb: m[1] !== undefined,
        intervalMs: parseTime(m[2]),
        series: body().map((l) => seriesLine(l.text, l.line)),
        line: lineNo,
      });
      continue;
    }
    if (t === "clear") {
      out.push({ type: "clear", line: lineNo });
      continue;
    }
    m =
      /^(eval(?:_fail|_ordered|_warn|_info)?)\s+(instant at (\S+)|range from (\S+) to (\S+) step (\S+))\s+(.*)$/
        .exec(t);
    if (!m) {
      throw new Error(`line ${lineNo}: cannot parse ${JSON.stringify(t)}`);
    }
    const expects: Expect[] = [];
    const legacy = m[1].slice(5);
    if (legacy) expects.push({ kind: legacy as Expect["kind"] });
    const instant = m[3] !== undefined;
    const start = parseTime(instant ? m[3] : m[4]);
    const results: SeriesLine[] = [];
    let scalar: number | null = null;
    let histogram = false;
    for (const l of body()) {
      if (l.text.startsWith("expect ")) {
        expects.push(parseExpect(l.text.slice(7).trim()));
        continue;
      }
      const fm = /^expected_fail_(message|regexp)\s+(.*)$/.exec(l.text);
      if (fm) {
        const f = expects.find((e) => e.kind === "fail");
        if (f) {
          f.match = {
            type: fm[1] === "message" ? "msg" : "regex",
            text: fm[2],
          };
        }
        continue;
      }
      if (l.text.includes("{{")) histogram = true;
      const bare = l.text.split(/\s+/);
      if (bare.length === 1 && !l.text.includes("{")) {
        try {
          scalar = parseNumber(bare[0]);
          continue;
        } catch {
          // a metric name without labels and values: a series line
        }
      }
      results.push(seriesLine(l.text, l.line));
    }
    out.push({
      type: "eval",
      line: lineNo,
      query: m[7],
      instant,
      start,
      end: instant ? start : parseTime(m[5]),
      step: instant ? 0 : parseTime(m[6]),
      expects,
      results,
      scalar,
      histogram,
    });
  }
  return out;
}
