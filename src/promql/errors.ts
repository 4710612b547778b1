/**
 * Parse errors with positions, worded like Prometheus' parser.
 * @module
 */
import type { PositionRange } from "./ast.ts";

/**
 * A syntax or type error in a query. `message` is Prometheus' form
 * (`1:5: parse error: unexpected ...`); `detail` is the bare reason.
 */
export class ParseError extends Error {
  /** The bare reason, e.g. `unclosed left parenthesis`. */
  readonly detail: string;
  /** The offending range (UTF-16 offsets into `query`). */
  readonly range: PositionRange;
  /** 1-based line of `range.start`. */
  readonly line: number;
  /** 1-based column (UTF-16 units) of `range.start` within its line. */
  readonly column: number;
  readonly query: string;

  constructor(detail: string, range: PositionRange, query: string) {
    const { line, column } = lineColumn(query, range.start);
    super(`${line}:${column}: parse error: ${detail}`);
    this.name = "ParseError";
    this.detail = detail;
    this.range = range;
    this.line = line;
    this.column = column;
    this.query = query;
  }

  /** The start offset of the error. */
  get offset(): number {
    return this.range.start;
  }
}

function lineColumn(query: string, pos: number): {
  line: number;
  column: number;
} {
  let line = 1;
  let lineStart = 0;
  const limit = Math.min(Math.max(pos, 0), query.length);
  for (let i = 0; i < limit; i++) {
    if (query.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/** Go's `%q` of a string: double-quoted with Go escapes (see goQuote). */
export function q(s: string): string {
  return goQuote(s);
}

/**
 * Go's strconv.Quote: `"`-quoted, `\a \b \f \n \r \t \v \\ \"` escaped,
 * other control and non-printable characters as `\xNN`, `\uNNNN` or
 * `\UNNNNNNNN`, printable Unicode kept as is.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (c) {
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x22:
        out += '\\"';
        continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += "\\x" + c.toString(16).padStart(2, "0");
    } else if (c < 0x7f || isPrintable(ch)) {
      out += ch;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += "\\ufffd"; // a lone surrogate is invalid UTF-8; Go prints U+FFFD
    } else if (c < 0x10000) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else {
      out += "\\U" + c.toString(16).padStart(8, "0");
    }
  }
  return out + '"';
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and
// the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}
