/**
 * The PromQL lexer. Like Prometheus' it has three modes: statements, the
 * inside of `{...}` (keywords are plain identifiers there), and the inside
 * of `[...]` (duration arithmetic only). Keywords are case-insensitive;
 * `inf` and `nan` are numbers. A lexing error ends the token stream with an
 * `error` token carrying Prometheus' message.
 * @module
 */
import { goQuote } from "./errors.ts";

/** Token categories. */
export type TokenKind =
  | "number"
  | "duration"
  | "string"
  | "identifier"
  | "metricIdentifier"
  /** by, without, on, ignoring, group_left, group_right, bool, offset, anchored, smoothed, fill, fill_left, fill_right */
  | "keyword"
  /** sum, avg, ... */
  | "aggregator"
  /** start, end, step, range, max_of, min_of */
  | "preprocessor"
  /** Operators, including `and or unless atan2 @ =~ !~`. */
  | "op"
  /** ( ) { } [ ] , = : */
  | "punct"
  | "eof"
  | "error";

/** One token. */
export interface Token {
  kind: TokenKind;
  /** The source text (for errors: the message). */
  text: string;
  /** Lower-cased text for keywords, aggregators, preprocessors and word operators. */
  key: string;
  start: number;
  end: number;
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "anchored",
  "smoothed",
  "fill",
  "fill_left",
  "fill_right",
]);

/** Aggregation operators, as the lexer recognizes them. */
export const AGGREGATORS: ReadonlySet<string> = new Set([
  "sum",
  "avg",
  "count",
  "min",
  "max",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "count_values",
  "quantile",
  "limitk",
  "limit_ratio",
]);

const PREPROCESSORS = new Set([
  "start",
  "end",
  "step",
  "range",
  "max_of",
  "min_of",
]);
const WORD_OPS = new Set(["and", "or", "unless", "atan2"]);
const DURATION_KEYWORDS = new Set(["step", "range", "max_of", "min_of"]);

const EOF = -1;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlpha(c: number): boolean {
  return c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isAlphaNumeric(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}

/** Go's `%q` of a rune: `'x'`, `'\n'`, `'\x00'`. */
export function goQuoteRune(ch: string): string {
  if (ch === "'") return "'\\''";
  const inner = goQuote(ch).slice(1, -1);
  return `'${inner === '\\"' ? '"' : inner}'`;
}

/** Splits a query into tokens; the last is `eof` or `error`. */
export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

type Mode = "statements" | "braces" | "brackets";

class Lexer {
  readonly input: string;
  pos = 0;
  start = 0;
  mode: Mode = "statements";
  parenDepth = 0;
  gotColon = false;
  gotDuration = false;
  /** A number was lexed since the last `[`. */
  sawNumber = false;
  readonly tokens: Token[] = [];

  constructor(input: string) {
    this.input = input;
  }

  run(): Token[] {
    while (true) {
      const last = this.step();
      if (last) return this.tokens;
    }
  }

  // --- character helpers (UTF-16 code units; non-ASCII never matters
  // outside strings, where whole code points are copied) ---
  peek(): number {
    return this.pos < this.input.length ? this.input.charCodeAt(this.pos) : EOF;
  }
  next(): number {
    if (this.pos >= this.input.length) return EOF;
    return this.input.charCodeAt(this.pos++);
  }
  backup(c: number): void {
    if (c !== EOF) this.pos--;
  }
  accept(valid: string): boolean {
    const c = this.peek();
    if (c !== EOF && valid.includes(String.fromCharCode(c))) {
      this.pos++;
      return true;
    }
    return false;
  }
  is(valid: string): boolean {
    const c = this.peek();
    return c !== EOF && valid.includes(String.fromCharCode(c));
  }
  currentChar(): string {
    // The full code point at pos - 1 (for messages).
    const cp = this.input.codePointAt(this.pos - 1)!;
    return String.fromCodePoint(cp);
  }

  emit(kind: TokenKind, key = ""): void {
    const text = this.input.slice(this.start, this.pos);
    this.tokens.push({ kind, text, key, start: this.start, end: this.pos });
    this.start = this.pos;
  }
  /** Ends the stream with an error token; returns true (done). */
  error(message: string): true {
    this.tokens.push({
      kind: "error",
      text: message,
      key: "",
      start: this.start,
      end: this.input.length,
    });
    return true;
  }

  /** Lexes one token (or skips space); returns true when done. */
  step(): boolean {
    switch (this.mode) {
      case "statements":
        return this.lexStatement();
      case "braces":
        return this.lexInsideBraces();
      case "brackets":
        return this.lexDurationExpr();
    }
  }

  skipComment(): void {
    while (this.pos < this.input.length) {
      const c = this.input.charCodeAt(this.pos);
      if (c === 10 || c === 13) break;
      this.pos++;
    }
    this.start = this.pos;
  }

  lexStatement(): boolean {
    this.start = this.pos;
    const c = this.next();
    if (c === EOF) {
      if (this.parenDepth !== 0) return this.error("unclosed left parenthesis");
      this.emit("eof");
      return true;
    }
    const ch = String.fromCharCode(c);
    if (ch === "#") {
      this.skipComment();
      return false;
    }
    if (isSpace(c)) {
      this.start = this.pos;
      return false;
    }
    switch (ch) {
      case ",":
        this.emit("punct");
        return false;
      case "*":
      case "/":
      case "%":
      case "+":
      case "-":
      case "^":
        this.emit("op", ch);
        return false;
      case "=":
        if (this.peek() === 61 /* = */) {
          this.pos++;
          this.emit("op", "==");
        } else if (this.peek() === 126 /* ~ */) {
          return this.error("unexpected character after '=': '~'");
        } else {
          this.emit("punct");
        }
        return false;
      case "!": {
        const t = this.next();
        if (t !== 61) {
          return this.error(
            `unexpected character after '!': ${this.runeDesc(t)}`,
          );
        }
        this.emit("op", "!=");
        return false;
      }
      case "<":
      case ">": {
        if (this.accept("=")) this.emit("op", ch + "=");
        else if (this.accept("/")) this.emit("op", ch + "/");
        else this.emit("op", ch);
        return false;
      }
      case '"':
      case "'":
        return this.lexString(ch);
      case "`":
        return this.lexRawString();
      case "(":
        this.parenDepth++;
        this.emit("punct");
        return false;
      case ")":
        if (--this.parenDepth < 0) {
          this.start = this.pos; // Prometheus reports just past the ')'
          return this.error("unexpected right parenthesis ')'");
        }
        this.emit("punct");
        return false;
      case "{":
        this.emit("punct");
        this.mode = "braces";
        return false;
      case "[":
        this.gotColon = false;
        this.gotDuration = false;
        this.sawNumber = false;
        this.emit("punct");
        while (isSpace(this.peek())) this.pos++;
        this.start = this.pos;
        this.mode = "brackets";
        return false;
      case "]":
        return this.error("unexpected right bracket ']'");
      case "@":
        this.emit("op", "@");
        return false;
    }
    if (isDigit(c) || (c === 46 && isDigit(this.peek()))) {
      this.pos--;
      return this.lexNumberOrDuration();
    }
    if (isAlpha(c) || c === 58 /* : */) {
      this.pos--;
      this.lexKeywordOrIdentifier();
      return false;
    }
    return this.error(
      `unexpected character: ${goQuoteRune(this.currentChar())}`,
    );
  }

  runeDesc(c: number): string {
    if (c === EOF) return "U+FFFFFFFF"; // Go prints eof (-1) as %q this way
    return goQuoteRune(this.currentChar());
  }

  lexInsideBraces(): boolean {
    this.start = this.pos;
    const c = this.next();
    if (c === EOF) return this.error("unexpected end of input inside braces");
    const ch = String.fromCharCode(c);
    if (ch === "#") {
      this.skipComment();
      return false;
    }
    if (isSpace(c)) {
      this.start = this.pos;
      return false;
    }
    if (isAlpha(c)) {
      while (isAlphaNumeric(this.peek())) this.pos++;
      this.emit("identifier");
      return false;
    }
    switch (ch) {
      case ",":
        this.emit("punct");
        return false;
      case '"':
      case "'":
        return this.lexString(ch);
      case "`":
        return this.lexRawString();
      case "=":
        if (this.accept("~")) this.emit("op", "=~");
        else this.emit("punct");
        return false;
      case "!": {
        const t = this.next();
        if (t === 126) this.emit("op", "!~");
        else if (t === 61) this.emit("op", "!=");
        else {
          return this.error(
            `unexpected character after '!' inside braces: ${this.runeDesc(t)}`,
          );
        }
        return false;
      }
      case "{":
        return this.error("unexpected left brace '{'");
      case "}":
        this.emit("punct");
        this.mode = "statements";
        return false;
    }
    return this.error(
      `unexpected character inside braces: ${goQuoteRune(this.currentChar())}`,
    );
  }

  lexDurationExpr(): boolean {
    this.start = this.pos;
    const c = this.next();
    if (c === EOF) {
      return this.error("unexpected end of input in duration expression");
    }
    const ch = String.fromCharCode(c);
    if (isSpace(c)) {
      this.start = this.pos;
      return false;
    }
    switch (ch) {
      case "]":
        this.emit("punct");
        this.mode = "statements";
        this.gotColon = false;
        return false;
      case ":":
        if (!this.gotDuration) {
          return this.error(
            "unexpected colon before duration in duration expression",
          );
        }
        if (this.gotColon) {
          return this.error(
            this.sawNumber
              ? "unexpected colon ':'"
              : "unexpected repeated colon in duration expression",
          );
        }
        this.emit("punct");
        this.gotColon = true;
        return false;
      case "(":
        this.parenDepth++;
        this.emit("punct");
        return false;
      case ")":
        if (--this.parenDepth < 0) {
          this.start = this.pos; // Prometheus reports just past the ')'
          return this.error("unexpected right parenthesis ')'");
        }
        this.emit("punct");
        return false;
      case "+":
      case "-":
      case "*":
      case "/":
      case "%":
      case "^":
        this.emit("op", ch);
        return false;
      case ",":
        this.emit("punct");
        return false;
    }
    const lower = ch.toLowerCase();
    if (lower === "s" || lower === "r" || lower === "m") {
      while (isAlpha(this.peek())) this.pos++;
      const word = this.input.slice(this.start, this.pos).toLowerCase();
      if (DURATION_KEYWORDS.has(word)) {
        this.emit("preprocessor", word);
        // step() and range() stand for durations too (for the ':' check).
        this.gotDuration = true;
        return false;
      }
      return this.error(this.unexpectedInBrackets(ch));
    }
    if (isAlpha(c)) return this.error(this.unexpectedInBrackets(ch));
    if (isDigit(c) || (c === 46 && isDigit(this.peek()))) {
      this.pos--;
      this.gotDuration = true;
      this.sawNumber = true;
      return this.lexNumberOrDuration();
    }
    return this.error(
      `unexpected character in duration expression: ${
        goQuoteRune(this.currentChar())
      }`,
    );
  }

  /**
   * Prometheus' lexer leaves duration mode after the first number inside
   * brackets, so a stray letter is reported differently before and after.
   */
  unexpectedInBrackets(ch: string): string {
    return this.sawNumber
      ? `unexpected character: ${goQuoteRune(ch)}, expected ':'`
      : `unexpected character in duration expression: ${goQuoteRune(ch)}`;
  }

  lexKeywordOrIdentifier(): void {
    while (true) {
      const c = this.peek();
      if (isAlphaNumeric(c) || c === 58) this.pos++;
      else break;
    }
    const word = this.input.slice(this.start, this.pos);
    const lower = word.toLowerCase();
    if (lower === "inf" || lower === "nan") {
      this.emit("number");
    } else if (KEYWORDS.has(lower)) {
      // fill modifiers are keywords only before '(' so they stay usable as
      // metric names.
      if (lower.startsWith("fill") && !this.followedByLeftParen()) {
        this.emit("identifier");
      } else this.emit("keyword", lower);
    } else if (AGGREGATORS.has(lower)) {
      this.emit("aggregator", lower);
    } else if (PREPROCESSORS.has(lower)) {
      this.emit("preprocessor", lower);
    } else if (WORD_OPS.has(lower)) {
      this.emit("op", lower);
    } else if (word.includes(":")) {
      this.emit("metricIdentifier");
    } else {
      this.emit("identifier");
    }
  }

  followedByLeftParen(): boolean {
    let p = this.pos;
    while (p < this.input.length && isSpace(this.input.charCodeAt(p))) p++;
    return this.input.charCodeAt(p) === 40;
  }

  lexNumberOrDuration(): boolean {
    if (this.scanNumber()) {
      this.emit("number");
      return false;
    }
    if (this.acceptRemainingDuration()) {
      this.emit("duration");
      return false;
    }
    return this.error(
      `bad number or duration syntax: ${
        goQuote(this.input.slice(this.start, this.pos))
      }`,
    );
  }

  /** After the digits: units with optional further `<digits><unit>` parts. */
  acceptRemainingDuration(): boolean {
    if (!this.accept("smhdwy")) return false;
    this.accept("s"); // "ms"; bad units like "hs" fail in parseDuration
    while (this.accept("0123456789")) {
      while (this.accept("0123456789")) { /* digits */ }
      if (!this.accept("smhdw")) return false;
      this.accept("s");
    }
    const c = this.next();
    if (isAlphaNumeric(c)) return false;
    this.backup(c);
    return true;
  }

  /**
   * Scans decimal, hex (0x), or float numbers with `_` separators, as
   * Prometheus' lexer does; returns false when the text is not a number.
   */
  scanNumber(): boolean {
    const initial = this.pos;
    let digits = "0123456789";
    if (this.accept("0") && this.accept("xX")) {
      this.accept("_");
      digits = "0123456789abcdefABCDEF";
    }
    this.accept(".");
    this.accept(digits);
    let dot = false;
    let exponent = false;
    while (this.is(digits + "._eE")) {
      if (this.is(".") && dot) {
        this.accept(".");
        return false;
      }
      if (this.is("eE") && exponent) {
        this.accept("eE");
        return false;
      }
      if (this.accept(".")) {
        dot = true;
        if (this.accept("_.")) return false;
        if (digits.length > 10) return false; // no fractional hex
        continue;
      }
      if (this.accept("eE")) {
        exponent = true;
        this.accept("+-");
        if (this.accept("._eE") || this.peek() === EOF) return false;
        continue;
      }
      if (this.accept("_")) {
        if (this.accept("._eE") || this.peek() === EOF) return false;
        continue;
      }
      while (this.accept(digits)) { /* run */ }
    }
    if (this.pos === initial) return false;
    return !isAlphaNumeric(this.peek());
  }

  lexString(quote: string): boolean {
    const q = quote.charCodeAt(0);
    while (true) {
      const c = this.next();
      if (c === EOF || c === 10) {
        return this.error("unterminated quoted string");
      }
      if (c === q) break;
      if (c === 92 /* \ */) {
        const err = this.lexEscape(q);
        if (err) return this.error(err);
      }
    }
    this.emit("string");
    return false;
  }

  /** Validates one escape (the backslash is consumed); returns an error. */
  lexEscape(quote: number): string | null {
    let c = this.next();
    let n: number, base: number, max: number;
    if (c === EOF) return "escape sequence not terminated";
    const ch = String.fromCharCode(c);
    if ("abfnrtv\\".includes(ch) || c === quote) return null;
    if (c >= 48 && c <= 55) {
      n = 3, base = 8, max = 255;
    } else if (ch === "x") {
      c = this.next();
      n = 2, base = 16, max = 255;
    } else if (ch === "u") {
      c = this.next();
      n = 4, base = 16, max = 0x10ffff;
    } else if (ch === "U") {
      c = this.next();
      n = 8, base = 16, max = 0x10ffff;
    } else {
      return `unknown escape sequence ${goRuneU(this.currentChar())}`;
    }
    let x = 0;
    while (n > 0) {
      const d = c === EOF ? 16 : digitVal(c);
      if (d >= base) {
        if (c === EOF) return "escape sequence not terminated";
        return `illegal character ${
          goRuneU(this.currentChar())
        } in escape sequence`;
      }
      x = x * base + d;
      n--;
      if (n > 0) c = this.next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) {
      return "escape sequence is an invalid Unicode code point";
    }
    return null;
  }

  lexRawString(): boolean {
    while (true) {
      const c = this.next();
      if (c === EOF) return this.error("unterminated raw string");
      if (c === 96) break;
    }
    this.emit("string");
    return false;
  }
}

function digitVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 97 + 10;
  if (c >= 65 && c <= 70) return c - 65 + 10;
  return 16;
}

/** Go's `%#U`: `U+0071 'q'`. */
function goRuneU(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex} ${goQuoteRune(ch)}`;
}

/**
 * Unquotes a string token (Go rules for `"…"` and `'…'`, none for raw
 * `` `…` ``). `\x` and octal escapes are bytes, so the result is decoded
 * as UTF-8 (invalid sequences become U+FFFD). Assumes a lexed token.
 */
export function unquote(token: string): string {
  const quote = token[0];
  const body = token.slice(1, -1);
  if (quote === "`") return body;
  if (!body.includes("\\")) return body;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushText = (s: string) => {
    for (const b of enc.encode(s)) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c !== "\\") {
      const cp = body.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      pushText(s);
      i += s.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case "a":
        bytes.push(7);
        continue;
      case "b":
        bytes.push(8);
        continue;
      case "f":
        bytes.push(12);
        continue;
      case "n":
        bytes.push(10);
        continue;
      case "r":
        bytes.push(13);
        continue;
      case "t":
        bytes.push(9);
        continue;
      case "v":
        bytes.push(11);
        continue;
      case "\\":
      case '"':
      case "'":
        bytes.push(e.charCodeAt(0));
        continue;
      case "x":
        bytes.push(parseInt(body.slice(i, i + 2), 16));
        i += 2;
        continue;
      case "u":
        pushText(String.fromCodePoint(parseInt(body.slice(i, i + 4), 16)));
        i += 4;
        continue;
      case "U":
        pushText(String.fromCodePoint(parseInt(body.slice(i, i + 8), 16)));
        i += 8;
        continue;
      default: // octal
        bytes.push(parseInt(body.slice(i - 1, i + 2), 8));
        i += 2;
        continue;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
