/**
 * Property tests of the RE2 → V8 translation. On a syntax subset where RE2
 * and ECMAScript (flags `su`, `(?i:)` modifiers) mean the same thing, the
 * native V8 pattern `^(?:re)$` is an independent oracle for our parser,
 * emitter and string fast paths. Seeded; the seed is in every message.
 */
import assert from "node:assert/strict";
import { newMatcher, RegexMatcher } from "../src/model/matcher.ts";
import { Prng } from "../src/util/prng.ts";

const LITERALS = ["a", "b", "c", "k", "A", "K", "-", "1", "\u017f"];
const INPUT_CHARS = [
  "a",
  "b",
  "c",
  "k",
  "A",
  "B",
  "K",
  "\u212a",
  "\u017f",
  "-",
  "1",
  "\n",
  " ",
  "😀",
];

/**
 * A random regex in the common subset, of bounded depth. Inside (?i:) no
 * \\b: V8 then counts U+017F and U+212A as word characters, RE2 never does
 * (our translation follows RE2; see matcher_table).
 */
function genRegex(rng: Prng, depth: number, fold = false): string {
  const r = rng.int(0, depth <= 0 ? 4 : 12);
  switch (r) {
    case 0:
    case 1:
    case 2:
      return rng.pick(LITERALS);
    case 3:
      return ".";
    case 4:
      return rng.pick([
        "[ab]",
        "[^a]",
        "[a-c]",
        "[^\\n]",
        "\\d",
        "\\w",
        "\\W",
        "[a\\d]",
        "[😀-😂]",
      ]);
    case 5:
    case 6:
      return genRegex(rng, depth - 1, fold) + genRegex(rng, depth - 1, fold);
    case 7:
      return `${genRegex(rng, depth - 1, fold)}|${
        genRegex(rng, depth - 1, fold)
      }`;
    case 8:
      return `(${genRegex(rng, depth - 1, fold)})`;
    case 9:
      return `(?:${genRegex(rng, depth - 1, fold)})` +
        rng.pick(["*", "+", "?", "*?", "+?", "??"]);
    case 10:
      return `(?:${genRegex(rng, depth - 1, fold)})` +
        rng.pick(["{2}", "{0,2}", "{1,}", "{1,3}", "{2,}?"]);
    case 11:
      return `(?i:${genRegex(rng, depth - 1, true)})`;
    default:
      return rng.pick([
        ".*",
        ".+",
        "a.*b",
        ".*a.*",
        "a.+",
        ".*-.*1",
        ...(fold ? [] : ["\\b", "\\B"]),
      ]);
  }
}

function genInput(rng: Prng): string {
  const n = rng.int(0, 6);
  let s = "";
  for (let i = 0; i < n; i++) s += rng.pick(INPUT_CHARS);
  return s;
}

Deno.test("regex translation agrees with native V8 on the common subset", () => {
  const seed = 20260101;
  const rng = new Prng(seed);
  let checks = 0;
  let matched = 0;
  for (let i = 0; i < 3000; i++) {
    const re = genRegex(rng, 4);
    const native = new RegExp(`^(?:${re})$`, "su");
    const m = newMatcher("=~", "l", re) as RegexMatcher;
    for (let j = 0; j < 12; j++) {
      const s = i % 3 === 0 && j < 4
        ? re.replace(/[^a-z1-]/g, "")
        : genInput(rng);
      const want = native.test(s);
      assert.equal(
        m.matches(s),
        want,
        `seed ${seed} case ${i}: ${JSON.stringify(re)} on ${
          JSON.stringify(s)
        } (ours: ${m.regexp.source})`,
      );
      checks++;
      if (want) matched++;
    }
  }
  // Guard against a vacuous run: a fair share of the checks must match.
  assert.ok(
    matched > checks / 20,
    `seed ${seed}: only ${matched}/${checks} matched`,
  );
});

const PIECES = ["", "a", "ab", "b", "-", "😀", "ba"];
const GAPS = [".*", ".+", ".*.+", ".+.+", ".+.*"];

Deno.test("fast paths (literal sets, gap patterns, prefix/suffix) equal the regex", () => {
  const seed = 77;
  const rng = new Prng(seed);
  for (let i = 0; i < 2000; i++) {
    // Shapes that hit the fast paths: literals joined by gaps, alternations,
    // and a general regex with a literal prefix and suffix.
    const kind = rng.int(0, 2);
    let re: string;
    if (kind === 0) {
      re = rng.pick(PIECES);
      for (let k = rng.int(0, 3); k > 0; k--) {
        re += rng.pick(GAPS) + rng.pick(PIECES);
      }
    } else if (kind === 1) {
      re = Array.from({ length: rng.int(1, 4) }, () => rng.pick(PIECES)).join(
        "|",
      );
    } else {
      re = rng.pick(PIECES) + rng.pick(["[ab]+", "(a|😀)*", "b?"]) +
        rng.pick(PIECES);
    }
    const m = newMatcher("=~", "l", re) as RegexMatcher;
    const native = new RegExp(`^(?:${re})$`, "su");
    for (let j = 0; j < 15; j++) {
      const s = genInput(rng).replace(/[^ab\-😀]/gu, "") +
        (j % 2 ? rng.pick(PIECES) : "");
      assert.equal(
        m.matches(s),
        native.test(s),
        `seed ${seed} case ${i}: ${re} on ${JSON.stringify(s)}`,
      );
      assert.equal(
        m.matches(s),
        m.regexp.test(s),
        `seed ${seed} case ${i}: fast path vs regexp`,
      );
    }
  }
});
