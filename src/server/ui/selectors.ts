/**
 * Which raw data an expression reads: its vector selectors (parsed in the
 * browser by the server's own PromQL parser) and, for each, the time
 * window the evaluation touches. The page fetches exactly these windows
 * as XOR chunks.
 * @module
 */
import { evalDuration, type Expr, walk } from "../../promql/ast.ts";
import { ParseError } from "../../promql/errors.ts";
import { parse } from "../../promql/parser.ts";
import { type LabelMatcher, MatcherType } from "../../codec/prompb.ts";

/** Prometheus' default lookback for instant vector selectors (ms). */
export const LOOKBACK_MS = 300_000;

/** One selector's raw read. */
export interface RawRead {
  /** The selector as written, e.g. `up{job="a"}`. */
  text: string;
  /** Its matchers in remote-read form. */
  matchers: LabelMatcher[];
  /** Inclusive window of raw samples, in ms. */
  start: number;
  end: number;
}

/** What the page learns from parsing an expression. */
export interface Analysis {
  /** True when the whole expression is one instant vector selector. */
  plainSelector: boolean;
  reads: RawRead[];
  /** Parts of the expression the windows do not account for. */
  notes: string[];
}

const TYPES: Record<string, number> = {
  "=": MatcherType.EQ,
  "!=": MatcherType.NEQ,
  "=~": MatcherType.RE,
  "!~": MatcherType.NRE,
};

/**
 * Parses `expr` and lists the raw reads of a range evaluation over
 * [start, end] (for an instant query pass start = end). A plain selector
 * reads exactly [start, end]; selectors inside an expression read back
 * by the lookback (or their range) and are shifted by their offset.
 * Throws ParseError.
 */
export function analyse(expr: string, start: number, end: number): Analysis {
  const ast = parse(expr);
  const plainSelector = ast.type === "VectorSelector" &&
    ast.offset === null && ast.at === null;
  const reads: RawRead[] = [];
  const notes = new Set<string>();
  walk(ast, (node: Expr, path) => {
    if (node.type === "SubqueryExpr") {
      notes.add("subquery windows are not widened");
    }
    if (node.type !== "VectorSelector") return;
    const parent = path[path.length - 1];
    const rangeMs = parent?.type === "MatrixSelector"
      ? Math.round(evalDuration(parent.range) * 1000)
      : 0;
    const offsetMs = node.offset
      ? Math.round(evalDuration(node.offset) * 1000)
      : 0;
    let lo = start;
    let hi = end;
    if (typeof node.at === "number") {
      lo = hi = node.at;
    } else if (node.at === "start") hi = start;
    else if (node.at === "end") lo = end;
    if (!plainSelector) lo -= rangeMs > 0 ? rangeMs - 1 : LOOKBACK_MS;
    reads.push({
      text: expr.slice(node.start, node.end),
      matchers: node.matchers.map((m) => ({
        type: TYPES[m.type],
        name: m.name,
        value: m.value,
      })),
      start: lo - offsetMs,
      end: hi - offsetMs,
    });
  });
  return { plainSelector, reads: dedupe(reads), notes: [...notes] };
}

function dedupe(reads: RawRead[]): RawRead[] {
  const seen = new Set<string>();
  return reads.filter((r) => {
    const key = JSON.stringify([r.matchers, r.start, r.end]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The PromQL range selector that returns the same raw samples as a read
 * as JSON: `{…}[Nms] @ end`, N = end - start + 1 because a range is
 * left-open.
 */
export function jsonEquivalent(read: RawRead): string {
  const ops = ["=", "!=", "=~", "!~"];
  const body = read.matchers
    .map((m) => `${m.name}${ops[m.type]}${JSON.stringify(m.value)}`)
    .join(",");
  return `{${body}}[${read.end - read.start + 1}ms] @ ${
    (read.end / 1000).toFixed(3)
  }`;
}

/** Where a parse error points (1-based line/column) or null. */
export function errorPosition(
  e: unknown,
): { line: number; column: number } | null {
  if (e instanceof ParseError) return { line: e.line, column: e.column };
  const m = /(?:^|\s|")(\d+):(\d+): parse error/.exec(String(
    (e as Error)?.message ?? e,
  ));
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}
