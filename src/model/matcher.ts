/**
 * Label matchers (=, !=, =~, !~) with Prometheus 3 semantics: a missing
 * label has the value "", regexes are fully anchored RE2 (see ./regex.ts)
 * in which `.` also matches a newline.
 * @module
 */
import {
  type CompiledRegex,
  compileRegex,
  type GapPattern,
  matchGapPattern,
  RegexError,
} from "./regex.ts";

/** The four matcher kinds. */
export type MatchType = "=" | "!=" | "=~" | "!~";

/** A label matcher. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Whether `value` (a label's value, "" when absent) satisfies the matcher. */
  matches(value: string): boolean;
}

/** Why a matcher cannot be built (bad type or invalid regex). */
export class MatcherError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MatcherError";
  }
}

/** `name="value"` / `name!="value"`. */
export class EqualMatcher implements Matcher {
  readonly type: "=" | "!=";
  readonly name: string;
  readonly value: string;
  constructor(type: "=" | "!=", name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
  }
  matches(value: string): boolean {
    return (value === this.value) === (this.type === "=");
  }
  /** The one value an `=` matcher accepts; null for `!=`. */
  setMatches(): string[] | null {
    return this.type === "=" ? [this.value] : null;
  }
  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}

/**
 * `name=~"re"` / `name!~"re"`, with fast paths in the spirit of Prometheus'
 * FastRegexMatcher: a finite literal set is a hash lookup, `.*` is always
 * true, `.+` is "non-empty", `pre.*mid.*suf` is string searching, and other
 * patterns check their literal prefix/suffix before running the regex.
 */
export class RegexMatcher implements Matcher {
  readonly type: "=~" | "!~";
  readonly name: string;
  readonly value: string;
  readonly #compiled: CompiledRegex;
  readonly #test: (s: string) => boolean;

  constructor(type: "=~" | "!~", name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    try {
      this.#compiled = compileRegex(value);
    } catch (e) {
      if (e instanceof RegexError) {
        throw new MatcherError(
          `invalid regular expression ${JSON.stringify(value)} for label ${
            JSON.stringify(name)
          }: ${e.message}`,
          { cause: e },
        );
      }
      throw e;
    }
    this.#test = fastTest(this.#compiled);
  }

  matches(value: string): boolean {
    return this.#test(value) === (this.type === "=~");
  }

  /**
   * The exact values a `=~` matcher accepts, when that is a small finite
   * set (`a|b|c`, `foo(bar|baz)`, `x[0-3]`; at most 256), for postings
   * lookups; null otherwise and for `!~`. May contain "".
   */
  setMatches(): string[] | null {
    const set = this.#compiled.literalSet;
    return this.type === "=~" && set ? [...set] : null;
  }

  /** The translated V8 RegExp (anchored, `u` flag). */
  get regexp(): RegExp {
    return this.#compiled.regexp;
  }

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}

function fastTest(c: CompiledRegex): (s: string) => boolean {
  if (c.literalSet) {
    const set = c.literalSet;
    if (set.length === 1) {
      const only = set[0];
      return (s) => s === only;
    }
    const lookup = new Set(set);
    return (s) => lookup.has(s);
  }
  if (c.gapPattern) return gapTest(c.gapPattern);
  const re = c.regexp;
  const { prefix, suffix } = c;
  if (prefix === "" && suffix === "") return (s) => re.test(s);
  return (s) =>
    s.startsWith(prefix) && s.endsWith(suffix) &&
    s.length >= Math.max(prefix.length, suffix.length) && re.test(s);
}

function gapTest(p: GapPattern): (s: string) => boolean {
  const { pieces, gaps } = p;
  if (pieces.length === 2 && pieces[0] === "" && pieces[1] === "") {
    if (gaps[0] === 0) return () => true; // .*
    if (gaps[0] === 1) return (s) => s.length > 0; // .+
  }
  if (pieces.length === 2 && gaps[0] === 0) {
    const [pre, suf] = pieces;
    if (suf === "") return (s) => s.startsWith(pre); // pre.*
    if (pre === "") return (s) => s.endsWith(suf); // .*suf
  }
  if (
    pieces.length === 3 && gaps[0] === 0 && gaps[1] === 0 && pieces[0] === "" &&
    pieces[2] === ""
  ) {
    const mid = pieces[1];
    return (s) => s.includes(mid); // .*mid.*
  }
  return (s) => matchGapPattern(p, s);
}

const TYPES: ReadonlySet<string> = new Set(["=", "!=", "=~", "!~"]);

/**
 * Builds a matcher. Throws MatcherError for an unknown type or an invalid
 * regex (RE2 syntax; anything RE2 rejects is rejected).
 *
 * @example
 * ```ts
 * const m = newMatcher("=~", "job", "api|web");
 * m.matches("api"); // true
 * m.matches("apiserver"); // false: regexes are fully anchored
 * ```
 */
export function newMatcher(
  type: MatchType,
  name: string,
  value: string,
): EqualMatcher | RegexMatcher {
  if (!TYPES.has(type)) {
    throw new MatcherError(`unknown matcher type ${JSON.stringify(type)}`);
  }
  if (type === "=" || type === "!=") return new EqualMatcher(type, name, value);
  return new RegexMatcher(type, name, value);
}

/**
 * The finite set of values `m` accepts, if known (for `=` and literal
 * alternation regexes), else null. Works on any Matcher.
 */
export function setMatchesOf(m: Matcher): string[] | null {
  if (m instanceof EqualMatcher || m instanceof RegexMatcher) {
    return m.setMatches();
  }
  return m.type === "=" ? [m.value] : null;
}
