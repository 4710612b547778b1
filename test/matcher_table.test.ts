/**
 * Table tests of Prometheus 3 matcher semantics: RE2 syntax as Prometheus
 * parses it (fully anchored, `.` matches newline), expected results
 * reasoned from Go's regexp/syntax docs and source (Go is not installed).
 */
import assert from "node:assert/strict";
import {
  EqualMatcher,
  MatcherError,
  newMatcher,
  RegexMatcher,
  setMatchesOf,
} from "../src/model/matcher.ts";
import { compileRegex, RegexError } from "../src/model/regex.ts";

type Case = [pattern: string, input: string, want: boolean];

function check(cases: Case[]) {
  for (const [re, s, want] of cases) {
    const m = newMatcher("=~", "l", re);
    assert.equal(
      m.matches(s),
      want,
      `${JSON.stringify(re)} on ${JSON.stringify(s)} (js: ${
        (m as RegexMatcher).regexp.source
      })`,
    );
    // The fast path must agree with the translated regex, and !~ must negate.
    assert.equal((m as RegexMatcher).regexp.test(s), want, `regexp of ${re}`);
    assert.equal(newMatcher("!~", "l", re).matches(s), !want, `!~ ${re}`);
  }
}

Deno.test("matcher: equality and the querying docs' examples", async (t) => {
  await t.step("= and !=", () => {
    const eq = newMatcher("=", "job", "api");
    assert.ok(eq instanceof EqualMatcher);
    assert.equal(eq.matches("api"), true);
    assert.equal(eq.matches("api2"), false);
    assert.equal(eq.matches(""), false);
    const ne = newMatcher("!=", "job", "api");
    assert.equal(ne.matches("api"), false);
    assert.equal(
      ne.matches(""),
      true,
      "a missing label is '' and differs from api",
    );
    assert.equal(
      newMatcher("=", "job", "").matches(""),
      true,
      '{job=""} selects series without job',
    );
    assert.equal(newMatcher("!=", "job", "").matches("x"), true);
    assert.equal(newMatcher("!=", "job", "").matches(""), false);
  });
  await t.step("regex examples", () => {
    check([
      [".*", "", true], // {job=~".*"} matches the empty string...
      [".*", "anything\nat all", true],
      [".+", "", false], // ...so {job=~".+"} is the non-empty form
      [".+", "x", true],
      ["staging|testing|development", "testing", true],
      ["staging|testing|development", "test", false],
      ["staging|testing|development", "production", false],
      ["foo|bar", "foo", true],
      ["foo|bar", "bar", true],
      ["foo|bar", "foobar", false],
      ["foo", "foobar", false], // fully anchored
      ["foo", "xfoo", false],
      ["foo.*", "foobar", true],
      ["job:.*", "job:rate5m", true],
      ["job:.*", "xjob:", false],
      ["(?i)foo", "FoO", true],
      ["(?i)foo|bar", "BAR", true],
      ["", "", true],
      ["", "a", false],
    ]);
  });
  await t.step("empty-string matching decides missing-label semantics", () => {
    assert.equal(newMatcher("=~", "l", "a|").matches(""), true);
    assert.equal(newMatcher("=~", "l", "a?").matches(""), true);
    assert.equal(newMatcher("=~", "l", "a+").matches(""), false);
    assert.equal(newMatcher("!~", "l", ".+").matches(""), true);
    assert.equal(newMatcher("!~", "l", ".*").matches(""), false);
  });
});

Deno.test("matcher: RE2 syntax semantics", async (t) => {
  await t.step("dot, anchors and newlines", () => {
    check([
      ["a.b", "a\nb", true], // Prometheus 3: . matches \n
      ["(?-s)a.b", "a\nb", false],
      ["(?-s:.)", "x", true],
      ["[^a]", "\n", true], // negated classes match \n (ClassNL)
      [".", "😀", true], // one code point, not two UTF-16 units
      ["..", "😀", false],
      ["^foo$", "foo", true],
      ["a$", "a\n", false], // $ is end of text, never before a final \n
      ["a\\z", "a", true],
      ["\\Afoo", "foo", true],
      ["(?m)a$\\n^b", "a\nb", true], // (?m): line anchors at \n only
      ["(?m)a$.b", "a\rb", false],
      ["(?m)a$\\r", "a\r", false], // \r is not a line end in RE2
      ["^*a", "a", true], // RE2 allows repeating empty-width ops
      ["a$+", "a", true],
      ["a^b", "ab", false],
    ]);
  });
  await t.step("case folding", () => {
    check([
      ["(?i)k", "\u212a", true], // Kelvin sign folds to k
      ["(?i)s", "\u017f", true], // long s folds to s
      ["(?i)ß", "ẞ", true],
      ["(?i)straße", "STRASSE", false], // simple folding only
      ["(?i:A)b", "ab", true],
      ["(?i:A)b", "aB", false],
      ["(?i)a(?-i)b", "Ab", true],
      ["(?i)a(?-i)b", "AB", false],
      ["a(?i)b|c", "C", true], // a flag group lasts to the enclosing ) across |
      ["(?:(?i)a)b", "AB", false],
      ["(?i)[a-c]+", "AbC", true],
      ["(?i)[^a-z]", "A", false], // negates the fold closure
      ["(?i)[[:^lower:]]", "A", false],
      ["(?i)[[:^lower:]]", "\u212a", false],
      ["[[:^lower:]]", "A", true],
      ["(?i)\\W", "\u017f", false],
      ["\\W", "\u017f", true],
      ["(?i)\\P{Lu}", "A", false],
      ["(?i)\\P{Lu}", "1", true],
      ["\\P{Lu}", "a", true],
      ["(?i)\\p{Lu}", "a", true],
      ["(?i)[\\P{Lu}x]", "X", true],
      ["(?i)[^\\P{Lu}]", "a", true],
      ["(?i)\\Qab\\E", "AB", true],
      ["(?U)a+", "aaa", true], // ungreedy changes preference, not membership
    ]);
  });
  await t.step("Perl and POSIX classes are ASCII", () => {
    check([
      ["\\d", "7", true],
      ["\\d", "٣", false],
      ["\\w+", "abc_09", true],
      ["\\w", "é", false],
      ["\\s", " ", true],
      ["\\s", "\v", false], // RE2 \s is [\t\n\f\r ]
      ["\\s", "\u00a0", false],
      ["\\S", "\v", true],
      ["[[:space:]]", "\v", true],
      ["[[:alpha:]]+", "abcXYZ", true],
      ["[[:alpha:]]", "1", false],
      ["[[:^alpha:]]", "1", true],
      ["[[:^alpha:]]", "a", false],
      ["[[:word:]]", "_", true],
      ["[[:punct:]]", "!", true],
      ["[[:xdigit:]]+", "09afAF", true],
      ["[[:xdigit:]]", "g", false],
      ["[:alpha:]", "a", true], // outside brackets it is just a class of : a l p h
      ["[:alpha:]", "b", false],
      ["[\\d\\s]", "\t", true],
      ["[^\\S]", " ", true],
      ["[^\\S]", "x", false],
      ["\\b", "", false],
      ["a\\b", "a", true],
      ["\\bé", "é", false], // é is not an ASCII word character
      ["a\\Bb", "ab", true],
      ["(?i)\\Bk", "\u212a", true], // \b stays ASCII under (?i) (V8's i-mode \b would not)
      ["(?i)\\bk", "\u212a", false],
    ]);
  });
  await t.step("Unicode classes", () => {
    check([
      ["\\pL+", "héllo", true],
      ["\\pL", "1", false],
      ["\\p{L}", "ж", true],
      ["\\PL", "1", true],
      ["\\p{Greek}+", "αβγ", true],
      ["\\p{Greek}", "a", false],
      ["\\P{Greek}", "a", true],
      ["\\p{^Greek}", "α", false],
      ["\\P{^Greek}", "α", true],
      ["\\p{Han}", "中", true],
      ["\\pN", "٣", true],
      ["\\p{Nd}", "5", true],
      ["\\pZ", " ", true],
      ["\\p{Any}", "\n", true],
      ["\\P{Any}", "a", false],
      ["[\\p{Greek}\\d]+", "α1β2", true],
      ["[^\\p{Greek}]", "α", false],
      ["\\p{Lu}", "A", true],
      ["\\p{Lu}", "a", false],
    ]);
  });
  await t.step("escapes and literals", () => {
    check([
      ["a\\-b", "a-b", true], // any escaped punctuation is literal
      ["\\_", "_", true],
      [
        "\\!\\@\\#\\%\\&\\~\\`\\'\\\"\\<\\>\\/\\,\\;\\:\\=",
        "!@#%&~`'\"<>/,;:=",
        true,
      ],
      ["\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", ".*+?()[]{}|^$\\", true],
      ["\\x41", "A", true],
      ["\\x{1F600}", "😀", true],
      ["\\101", "A", true], // octal
      ["\\12", "\n", true],
      ["\\0", "\0", true],
      ["\\0101", "\x081", true], // at most three octal digits
      ["\\a\\f\\t\\n\\r\\v", "\x07\f\t\n\r\v", true],
      ["\\Qa.b\\E", "a.b", true],
      ["\\Qa.b\\E", "axb", false],
      ["\\Qa|b", "a|b", true], // \Q without \E runs to the end
      ["\\Q\\E", "", true],
      ["a{,3}", "a{,3}", true], // not a repeat: literal braces
      ["x{01}", "x{01}", true], // leading zero: not a repeat
      ["a{", "a{", true],
      ["{", "{", true],
      ["}", "}", true],
      ["]", "]", true],
      ["[]a]", "]", true], // ] first in a class is literal
      ["[^]a]", "b", true],
      ["[a-]", "-", true],
      ["[\\d-z]", "-", true],
      ["[\\d-z]", "y", false],
      ["[--/]", ".", true], // range from - to /
      ["[😀-😂]", "😁", true],
      ["[\\x{1F600}-\\x{1F602}]", "😂", true],
      ["日本", "日本", true],
    ]);
  });
  await t.step("groups, alternation and repetition", () => {
    check([
      ["(a|b)*", "abba", true],
      ["(?:ab)+", "abab", true],
      ["(?:ab)+", "aba", false],
      ["(?P<x>a)b", "ab", true],
      ["()", "", true],
      ["(|a)", "a", true],
      ["a|", "", true],
      ["|", "", true],
      ["a{2}", "aa", true],
      ["a{2}", "aaa", false],
      ["a{2,}", "aaaa", true],
      ["a{2,3}", "aaaa", false],
      ["a{0}", "", true],
      ["a{0}", "a", false],
      ["a{1000}", "a".repeat(1000), true],
      ["(a{2}){500}", "a".repeat(1000), true],
      ["a*?", "aaa", true],
      ["a+?b", "aab", true],
      ["a??", "", true],
      ["a{2}?", "aa", true],
      ["a(?i)*", "aAa", false], // (?i) adds no item: * repeats a, which stays case-sensitive
      ["a(?i)*", "aaa", true],
      ["a*(?i)*", "aaa", true], // the flag group resets "last was a repeat"
      ["(a*)*", "aaaa", true],
      ["(a*)+$", "", true],
    ]);
  });
});

Deno.test("matcher: RE2 rejects, and so do we", async (t) => {
  const rejected: [string, string][] = [
    ["\\1", "invalid escape sequence"], // backreferences
    ["(a)\\1", "invalid escape sequence"],
    ["\\18", "invalid escape sequence"],
    ["\\8", "invalid escape sequence"],
    ["(?=a)", "invalid or unsupported Perl syntax"], // lookarounds
    ["(?!a)", "invalid or unsupported Perl syntax"],
    ["(?<=a)b", "invalid or unsupported Perl syntax"],
    ["(?<!a)b", "invalid or unsupported Perl syntax"],
    ["(?<n>a)", "invalid or unsupported Perl syntax"], // only (?P<n>) in grafana/regexp
    ["(?P=n)", "invalid or unsupported Perl syntax"],
    ["(?P<>a)", "invalid named capture"],
    ["(?P<a-b>a)", "invalid named capture"],
    ["(?P<a", "invalid named capture"],
    ["(?>a)", "invalid or unsupported Perl syntax"], // atomic groups
    ["(?#c)", "invalid or unsupported Perl syntax"], // comments
    ["(?x)a", "invalid or unsupported Perl syntax"],
    ["(?i", "invalid or unsupported Perl syntax"],
    ["(?-)a", "invalid or unsupported Perl syntax"],
    ["(?i-)a", "invalid or unsupported Perl syntax"],
    ["(?--i)a", "invalid or unsupported Perl syntax"],
    ["a**", "invalid nested repetition operator"],
    ["a*+", "invalid nested repetition operator"], // possessive
    ["a++", "invalid nested repetition operator"],
    ["a??+", "invalid nested repetition operator"],
    ["a{2}{3}", "invalid nested repetition operator"],
    ["a{2}*", "invalid nested repetition operator"],
    ["*", "missing argument to repetition operator"],
    ["a|*", "missing argument to repetition operator"],
    ["(*)", "missing argument to repetition operator"],
    ["(?i)*", "missing argument to repetition operator"],
    ["{2}", "missing argument to repetition operator"],
    ["a{1001}", "invalid repeat count"],
    ["a{0,1001}", "invalid repeat count"],
    ["a{2,1}", "invalid repeat count"],
    ["a{123456789}", "invalid repeat count"],
    ["(a{10}){200}", "invalid repeat count"], // nested counts multiply beyond 1000
    ["(a{2}){501}", "invalid repeat count"],
    ["((a{10}){10}){11}", "invalid repeat count"],
    ["\\C", "invalid escape sequence"],
    ["\\Z", "invalid escape sequence"],
    ["\\e", "invalid escape sequence"],
    ["\\G", "invalid escape sequence"],
    ["\\K", "invalid escape sequence"],
    ["\\é", "invalid escape sequence"],
    ["\\x{110000}", "invalid escape sequence"],
    ["\\x{}", "invalid escape sequence"],
    ["\\xg0", "invalid escape sequence"],
    ["\\x4", "invalid escape sequence"],
    ["[\\b]", "invalid escape sequence"],
    ["[\\Q]", "invalid escape sequence"],
    ["[\\A]", "invalid escape sequence"],
    ["a\\", "trailing backslash at end of expression"],
    ["(", "missing closing )"],
    ["(a|b", "missing closing )"],
    [")", "unexpected )"],
    ["a)", "unexpected )"],
    ["[a", "missing closing ]"],
    ["[]", "missing closing ]"],
    ["[^]", "missing closing ]"],
    ["[z-a]", "invalid character class range"],
    ["[[:foo:]]", "invalid character class range"],
    ["\\p{Foo}", "invalid character class range"],
    ["\\p{Latn}", "invalid character class range"], // aliases are not Go script names
    ["\\p{Letter}", "invalid character class range"],
    ["\\pX", "invalid character class range"],
    ["\\p{L", "invalid character class range"],
    ["\\p", "invalid character class range"],
    ["\ud800", "invalid UTF-8"],
  ];
  await t.step("error codes", () => {
    for (const [re, code] of rejected) {
      assert.throws(
        () => compileRegex(re),
        (e: unknown) => e instanceof RegexError && e.code === code,
        `${JSON.stringify(re)} should fail with ${code}`,
      );
    }
  });
  await t.step("newMatcher wraps them in MatcherError", () => {
    assert.throws(
      () => newMatcher("=~", "job", "(?=x)"),
      (e: unknown) =>
        e instanceof MatcherError && e.cause instanceof RegexError &&
        e.message.includes('"job"') && e.message.includes("(?="),
    );
    assert.throws(() => newMatcher("!~", "job", "a**"), MatcherError);
    assert.throws(() => newMatcher("==" as "=", "job", "a"), MatcherError);
  });
});

Deno.test("matcher: set matches for postings lookups", async (t) => {
  const sets: [string, string[] | null][] = [
    ["foo", ["foo"]],
    ["foo|bar|baz", ["foo", "bar", "baz"]],
    ["(foo|bar)", ["foo", "bar"]],
    ["api-(1|2)", ["api-1", "api-2"]],
    ["x[0-2]", ["x0", "x1", "x2"]],
    ["a|a", ["a"]],
    ["a|", ["a", ""]],
    ["foo.*", null],
    ["(?i)foo", null], // case-insensitive: not a literal set
    ["[^a]", null],
    ["a+", null],
    ["\\pL", null],
  ];
  await t.step("literal alternatives", () => {
    for (const [re, want] of sets) {
      const m = newMatcher("=~", "l", re) as RegexMatcher;
      assert.deepEqual(m.setMatches(), want, re);
      assert.equal(newMatcher("!~", "l", re).setMatches(), null, `!~ ${re}`);
      for (const v of want ?? []) {
        assert.equal(m.matches(v), true, `${re} ~ ${v}`);
      }
    }
  });
  await t.step("setMatchesOf", () => {
    assert.deepEqual(setMatchesOf(newMatcher("=", "l", "v")), ["v"]);
    assert.equal(setMatchesOf(newMatcher("!=", "l", "v")), null);
    const plain = {
      type: "=" as const,
      name: "l",
      value: "q",
      matches: (s: string) => s === "q",
    };
    assert.deepEqual(setMatchesOf(plain), ["q"]);
  });
  await t.step("a set of more than 256 is not offered", () => {
    const re = Array.from({ length: 300 }, (_, i) => `v${i}`).join("|");
    const m = newMatcher("=~", "l", re) as RegexMatcher;
    assert.equal(m.setMatches(), null);
    assert.equal(m.matches("v299"), true);
    assert.equal(m.matches("v300"), false);
  });
});
