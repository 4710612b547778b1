/**
 * RE2 regular expressions, as Prometheus parses them, translated to
 * JavaScript RegExps.
 *
 * Prometheus compiles a label regex as `^(?s:<re>)$` with Go's
 * `regexp/syntax` (Perl flags: Perl classes, `\pN`, non-greedy `?`, `^`/`$`
 * match only at the ends of the text unless `(?m)`), so `.` matches a
 * newline and every match is a whole-string match. This module parses that
 * syntax itself (it does NOT hand the pattern to V8: the two dialects differ
 * in escapes, `\s`, `$`, `(?m)` line ends, case folding of negated classes,
 * and in what they reject), builds a small syntax tree, and emits an
 * equivalent V8 pattern with the `u` flag. Everything RE2 rejects is
 * rejected with Go's error wording (backreferences, lookarounds, `\C`,
 * `\Z`, nested quantifiers like `a**`, counts above 1000, bad escapes...).
 *
 * The tree is also analysed for fast paths: the exact finite set of
 * strings a regex matches (`literalSet`, like Prometheus' setMatches) and
 * literal pieces separated by `.*` / `.+` gaps, which are matched with
 * string searches instead of the regex engine.
 *
 * Known gaps (documented in docs/design/index.md): Unicode tables are V8's
 * (ICU) rather than Go's (Unicode 15.0); V8 backtracks, so a pathological
 * pattern can take super-linear time where RE2 is linear.
 * @module
 */

/** Why a pattern is not a valid RE2 regular expression (Go's wording). */
export class RegexError extends Error {
  /** Go's error code text, e.g. "invalid escape sequence". */
  readonly code: string;
  /** The offending part of the pattern. */
  readonly expr: string;
  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = "RegexError";
    this.code = code;
    this.expr = expr;
  }
}

/** A class member given by a Unicode property (V8 syntax inside `\p{}`). */
interface PropItem {
  /** JS property expressions, unioned: e.g. ["L"] or ["Script=Greek"]. */
  names: string[];
  negated: boolean;
}

/** A character class: explicit code point ranges plus Unicode properties. */
interface ClassSet {
  negated: boolean;
  /** [lo, hi] pairs, inclusive, unsorted until normalised. */
  ranges: number[];
  props: PropItem[];
}

/** Zero-width assertions. */
type AssertKind = "bot" | "eot" | "bol" | "eol" | "wb" | "nwb";

/** Parse tree node. */
export type RegexNode =
  | { k: "empty" }
  | { k: "lit"; cp: number; fold: boolean }
  | { k: "any"; nl: boolean }
  | { k: "class"; set: ClassSet; fold: boolean }
  | { k: "assert"; a: AssertKind }
  | { k: "group"; sub: RegexNode; capture: boolean }
  | { k: "cat"; subs: RegexNode[] }
  | { k: "alt"; subs: RegexNode[] }
  | {
    k: "rep";
    sub: RegexNode;
    min: number;
    /** -1 means unbounded. */
    max: number;
    lazy: boolean;
    /** Written with braces ({n,m}): only these count toward Go's 1000 limit. */
    brace: boolean;
  };

const MAX_RUNE = 0x10ffff;
const MAX_REPEAT = 1000;
// Go: maxSize = 128 MiB / 40 bytes per instruction.
const MAX_PROG_SIZE = Math.floor((128 << 20) / 40);
const MAX_HEIGHT = 1000;

interface Flags {
  fold: boolean; // (?i)
  oneLine: boolean; // cleared by (?m)
  dotNL: boolean; // (?s)
  ungreedy: boolean; // (?U)
}

// Go's unicode.Scripts (Unicode 15.0.0, Go 1.21+).
const SCRIPTS = new Set(
  ("Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum " +
    "Bassa_Vah Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid " +
    "Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee " +
    "Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret " +
    "Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan " +
    "Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati " +
    "Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew " +
    "Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi " +
    "Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li " +
    "Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha " +
    "Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam " +
    "Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek " +
    "Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian " +
    "Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa " +
    "Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic " +
    "Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian " +
    "Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene " +
    "Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan " +
    "Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian " +
    "Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa " +
    "Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai " +
    "Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi " +
    "Yezidi Yi Zanabazar_Square").split(" "),
);

// Go's unicode.Categories (Go 1.25+: includes Cn and LC; C includes Cn,
// exactly like ECMAScript's \p{C}).
const CATEGORIES = new Set(
  ("C Cc Cf Cn Co Cs L LC Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf " +
    "Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs").split(" "),
);

// Perl classes (ASCII, as in RE2): \d \s \w. Note \s has no \v.
const PERL_GROUPS: Record<string, number[]> = {
  d: [0x30, 0x39],
  s: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20],
  w: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
};

// POSIX classes, valid only inside brackets: [[:alpha:]].
const POSIX_GROUPS: Record<string, number[]> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

/** Sorts and merges [lo, hi] pairs. */
function normalizeRanges(r: readonly number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i], r[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

function complementRanges(r: readonly number[]): number[] {
  const norm = normalizeRanges(r);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < norm.length; i += 2) {
    if (norm[i] > next) out.push(next, norm[i] - 1);
    next = norm[i + 1] + 1;
  }
  if (next <= MAX_RUNE) out.push(next, MAX_RUNE);
  return out;
}

/**
 * Case-fold closure of an ASCII-only set: letters gain their other case,
 * and s/k gain U+017F (long s) and U+212A (Kelvin sign), the only non-ASCII
 * code points that simple-fold to ASCII.
 */
function foldAsciiRanges(r: readonly number[]): number[] {
  const out = [...r];
  const has = (c: number) => {
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] <= c && c <= r[i + 1]) return true;
    }
    return false;
  };
  for (let c = 0x41; c <= 0x5a; c++) {
    if (has(c) || has(c + 32)) out.push(c, c, c + 32, c + 32);
  }
  if (has(0x53) || has(0x73)) out.push(0x17f, 0x17f);
  if (has(0x4b) || has(0x6b)) out.push(0x212a, 0x212a);
  return out;
}

/** Adds an ASCII group (Perl or POSIX class) to a class, negated or not. */
function addAsciiGroup(
  set: ClassSet,
  group: readonly number[],
  negated: boolean,
  fold: boolean,
): void {
  if (!negated) {
    set.ranges.push(...group); // V8's case folding closes it when fold is on
    return;
  }
  // RE2 negates the fold closure; a complement of a fold-closed set is
  // fold-closed, so V8's own folding leaves it unchanged.
  set.ranges.push(...complementRanges(fold ? foldAsciiRanges(group) : group));
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a);
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Recursive-descent RE2 parser over code points. */
class Parser {
  readonly src: string;
  pos = 0;
  numNodes = 0;

  constructor(src: string) {
    this.src = src;
  }

  private peek(off = 0): number {
    let p = this.pos;
    for (let i = 0; i < off; i++) {
      if (p >= this.src.length) return -1;
      p += this.src.codePointAt(p)! > 0xffff ? 2 : 1;
    }
    return p < this.src.length ? this.src.codePointAt(p)! : -1;
  }

  private next(): number {
    const c = this.src.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private rest(): string {
    return this.src.slice(this.pos);
  }

  /** Parses the whole pattern. */
  parse(): RegexNode {
    const flags: Flags = {
      fold: false,
      oneLine: true,
      dotNL: true,
      ungreedy: false,
    };
    const node = this.parseAlternation(flags, 0);
    if (this.pos < this.src.length) {
      // Only a stray ')' stops the top level early.
      throw new RegexError("unexpected )", this.src);
    }
    return node;
  }

  /**
   * Parses until ')' or the end. `flags` is mutated by `(?i)`-style groups,
   * which (as in Go) last until the enclosing group closes, across `|`.
   */
  private parseAlternation(flags: Flags, depth: number): RegexNode {
    if (depth > MAX_HEIGHT) {
      throw new RegexError("expression nests too deeply", this.src);
    }
    const branches: RegexNode[] = [];
    let cur: RegexNode[] = [];
    let lastRepeatStart = -1; // position of the previous token if it was a repeat
    while (this.pos < this.src.length) {
      const start = this.pos;
      const c = this.peek();
      let isRepeat = false;
      if (c === 0x29) break; // ')'
      switch (c) {
        case 0x7c: // '|'
          this.next();
          branches.push(this.concat(cur));
          cur = [];
          break;
        case 0x28: { // '('
          if (this.peek(1) === 0x3f) { // '(?'
            const node = this.parsePerlGroup(flags, depth);
            if (node) cur.push(node);
          } else {
            this.next();
            const sub = this.parseAlternation({ ...flags }, depth + 1);
            this.expectClose();
            cur.push(this.mk({ k: "group", sub, capture: true }));
          }
          break;
        }
        case 0x5e: // '^'
          this.next();
          cur.push(this.mk({ k: "assert", a: flags.oneLine ? "bot" : "bol" }));
          break;
        case 0x24: // '$'
          this.next();
          cur.push(this.mk({ k: "assert", a: flags.oneLine ? "eot" : "eol" }));
          break;
        case 0x2e: // '.'
          this.next();
          cur.push(this.mk({ k: "any", nl: flags.dotNL }));
          break;
        case 0x5b: // '['
          cur.push(this.parseClass(flags));
          break;
        case 0x2a: // '*'
        case 0x2b: // '+'
        case 0x3f: { // '?'
          this.next();
          const [min, max] = c === 0x2a
            ? [0, -1]
            : c === 0x2b
            ? [1, -1]
            : [0, 1];
          this.repeat(cur, flags, min, max, false, start, lastRepeatStart);
          isRepeat = true;
          break;
        }
        case 0x7b: { // '{'
          const r = this.parseRepeatBraces();
          if (!r) {
            this.next();
            cur.push(this.lit(0x7b, flags));
            break;
          }
          const [min, max] = r;
          if (
            min < 0 || min > MAX_REPEAT || max > MAX_REPEAT ||
            (max >= 0 && min > max)
          ) {
            throw new RegexError(
              "invalid repeat count",
              this.src.slice(start, this.pos),
            );
          }
          this.repeat(cur, flags, min, max, true, start, lastRepeatStart);
          isRepeat = true;
          break;
        }
        case 0x5c: // '\\'
          this.parseEscapeAtom(cur, flags);
          break;
        default:
          this.next();
          cur.push(this.lit(c, flags));
      }
      lastRepeatStart = isRepeat ? start : -1;
    }
    branches.push(this.concat(cur));
    return branches.length === 1
      ? branches[0]
      : this.mk({ k: "alt", subs: branches });
  }

  private expectClose(): void {
    if (this.peek() !== 0x29) {
      throw new RegexError("missing closing )", this.src);
    }
    this.next();
  }

  private mk<T extends RegexNode>(n: T): T {
    this.numNodes++;
    return n;
  }

  private lit(cp: number, flags: Flags): RegexNode {
    return this.mk({ k: "lit", cp, fold: flags.fold });
  }

  private concat(items: RegexNode[]): RegexNode {
    if (items.length === 0) return { k: "empty" };
    if (items.length === 1) return items[0];
    return this.mk({ k: "cat", subs: items });
  }

  /** Applies a repetition operator to the last item of the branch. */
  private repeat(
    cur: RegexNode[],
    flags: Flags,
    min: number,
    max: number,
    brace: boolean,
    start: number,
    lastRepeatStart: number,
  ): void {
    let lazy = flags.ungreedy;
    if (this.peek() === 0x3f) {
      this.next();
      lazy = !lazy;
    }
    if (lastRepeatStart >= 0) {
      // Perl forbids stacking: a** is an error, and a++ is not supported.
      throw new RegexError(
        "invalid nested repetition operator",
        this.src.slice(lastRepeatStart, this.pos),
      );
    }
    if (cur.length === 0) {
      throw new RegexError(
        "missing argument to repetition operator",
        this.src.slice(start, this.pos),
      );
    }
    const node: RegexNode = this.mk({
      k: "rep",
      sub: cur[cur.length - 1],
      min,
      max,
      lazy,
      brace,
    });
    cur[cur.length - 1] = node;
    if (brace && (min >= 2 || max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
      throw new RegexError(
        "invalid repeat count",
        this.src.slice(start, this.pos),
      );
    }
  }

  /** Parses {n}, {n,} or {n,m}; null when the text is not of that form (then '{' is literal). */
  private parseRepeatBraces(): [number, number] | null {
    const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.rest());
    if (!m) return null;
    const int = (s: string) => {
      if (s.length >= 2 && s[0] === "0") return NaN; // Go: no leading zeros
      return s.length > 8 ? -1 : Number(s);
    };
    const min = int(m[1]);
    let max = min;
    if (m[2]) max = m[3] === "" ? -1 : int(m[3]);
    if (Number.isNaN(min) || Number.isNaN(max)) return null;
    this.pos += m[0].length;
    if (m[2] && m[3] !== "" && max < 0) return [-1, 0];
    return [min, max];
  }

  /** `(?...`: flags, non-capturing groups, named captures. Returns a node or null for a bare flag change. */
  private parsePerlGroup(flags: Flags, depth: number): RegexNode | null {
    const start = this.pos;
    const rest = this.rest();
    if (rest.startsWith("(?P<")) {
      const end = rest.indexOf(">");
      if (end < 0) throw new RegexError("invalid named capture", rest);
      const name = rest.slice(4, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        throw new RegexError("invalid named capture", rest.slice(0, end + 1));
      }
      this.pos += end + 1;
      const sub = this.parseAlternation({ ...flags }, depth + 1);
      this.expectClose();
      return this.mk({ k: "group", sub, capture: true });
    }
    this.pos += 2; // "(?"
    const next: Flags = { ...flags };
    let negate = false;
    let sawFlag = false;
    while (this.pos < this.src.length) {
      const c = this.next();
      switch (c) {
        case 0x69: // i
          next.fold = !negate;
          sawFlag = true;
          continue;
        case 0x6d: // m
          next.oneLine = negate;
          sawFlag = true;
          continue;
        case 0x73: // s
          next.dotNL = !negate;
          sawFlag = true;
          continue;
        case 0x55: // U
          next.ungreedy = !negate;
          sawFlag = true;
          continue;
        case 0x2d: // '-'
          if (negate) break;
          negate = true;
          sawFlag = false;
          continue;
        case 0x3a: // ':'
        case 0x29: { // ')'
          if (negate && !sawFlag) break;
          if (c === 0x29) {
            Object.assign(flags, next); // lasts until the enclosing ')'
            return null;
          }
          const sub = this.parseAlternation(next, depth + 1);
          this.expectClose();
          return this.mk({ k: "group", sub, capture: false });
        }
      }
      break;
    }
    throw new RegexError(
      "invalid or unsupported Perl syntax",
      this.src.slice(start, this.pos),
    );
  }

  /** A backslash outside a class. */
  private parseEscapeAtom(cur: RegexNode[], flags: Flags): void {
    const start = this.pos;
    const c1 = this.peek(1);
    switch (c1) {
      case 0x41: // \A
        this.pos += 2;
        cur.push(this.mk({ k: "assert", a: "bot" }));
        return;
      case 0x7a: // \z
        this.pos += 2;
        cur.push(this.mk({ k: "assert", a: "eot" }));
        return;
      case 0x62: // \b
        this.pos += 2;
        cur.push(this.mk({ k: "assert", a: "wb" }));
        return;
      case 0x42: // \B
        this.pos += 2;
        cur.push(this.mk({ k: "assert", a: "nwb" }));
        return;
      case 0x43: // \C: any byte, unsupported
        throw new RegexError("invalid escape sequence", "\\C");
      case 0x51: { // \Q...\E
        this.pos += 2;
        const rest = this.rest();
        const end = rest.indexOf("\\E");
        const lit = end < 0 ? rest : rest.slice(0, end);
        this.pos += end < 0 ? rest.length : end + 2;
        for (const ch of lit) cur.push(this.lit(ch.codePointAt(0)!, flags));
        return;
      }
      case 0x70: // \p
      case 0x50: { // \P
        const set: ClassSet = { negated: false, ranges: [], props: [] };
        this.parseUnicodeClass(set);
        cur.push(this.mk({ k: "class", set, fold: flags.fold }));
        return;
      }
    }
    const perl = this.tryPerlClass(flags);
    if (perl) {
      cur.push(this.mk({ k: "class", set: perl, fold: flags.fold }));
      return;
    }
    this.pos = start;
    cur.push(this.lit(this.parseEscapeChar(), flags));
  }

  /** \d \D \s \S \w \W at the cursor, as a class; null if not one. */
  private tryPerlClass(flags: Flags): ClassSet | null {
    const c = this.peek(1);
    const name = c === 0x64 || c === 0x44
      ? "d"
      : c === 0x73 || c === 0x53
      ? "s"
      : c === 0x77 || c === 0x57
      ? "w"
      : "";
    if (name === "") return null;
    this.pos += 2;
    const set: ClassSet = { negated: false, ranges: [], props: [] };
    addAsciiGroup(set, PERL_GROUPS[name], c < 0x60, flags.fold);
    return set;
  }

  /** \pN, \p{Name}, \PN, \P{^Name} into `set`. */
  private parseUnicodeClass(set: ClassSet): void {
    const start = this.pos;
    let negated = this.peek(1) === 0x50;
    this.pos += 2;
    if (this.pos >= this.src.length) {
      throw new RegexError(
        "invalid character class range",
        this.src.slice(start),
      );
    }
    let name: string;
    if (this.peek() === 0x7b) {
      const end = this.src.indexOf("}", this.pos);
      if (end < 0) {
        throw new RegexError(
          "invalid character class range",
          this.src.slice(start),
        );
      }
      name = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      name = String.fromCodePoint(this.next());
    }
    const seq = this.src.slice(start, this.pos);
    if (name.startsWith("^")) {
      negated = !negated;
      name = name.slice(1);
    }
    if (name === "Any") {
      if (!negated) set.ranges.push(0, MAX_RUNE);
      return;
    }
    let js: string;
    if (CATEGORIES.has(name)) js = name;
    else if (SCRIPTS.has(name)) js = `Script=${name}`;
    else throw new RegexError("invalid character class range", seq);
    set.props.push({ names: [js], negated });
  }

  /** One escaped character (not a class): returns its code point. */
  private parseEscapeChar(): number {
    const start = this.pos;
    this.next(); // backslash
    if (this.pos >= this.src.length) {
      throw new RegexError("trailing backslash at end of expression", "");
    }
    const c = this.next();
    const bad = () =>
      new RegexError(
        "invalid escape sequence",
        this.src.slice(start, this.pos),
      );
    if (c < 0x80 && !isAlnum(c)) return c; // escaped punctuation is itself
    if (c >= 0x31 && c <= 0x37) {
      // A single non-zero digit would be a backreference: unsupported.
      const d = this.peek();
      if (d < 0x30 || d > 0x37) throw bad();
    }
    if (c >= 0x30 && c <= 0x37) {
      let r = c - 0x30;
      for (let i = 1; i < 3; i++) {
        const d = this.peek();
        if (d < 0x30 || d > 0x37) break;
        r = r * 8 + d - 0x30;
        this.next();
      }
      return r;
    }
    switch (c) {
      case 0x78: { // \x
        if (this.pos >= this.src.length) throw bad();
        const h = this.next();
        if (h === 0x7b) {
          let r = 0;
          let n = 0;
          for (;;) {
            if (this.pos >= this.src.length) throw bad();
            const d = this.next();
            if (d === 0x7d) break;
            const v = unhex(d);
            if (v < 0) throw bad();
            r = r * 16 + v;
            if (r > MAX_RUNE) throw bad();
            n++;
          }
          if (n === 0) throw bad();
          return r;
        }
        if (this.pos >= this.src.length) throw bad();
        const x = unhex(h);
        const y = unhex(this.next());
        if (x < 0 || y < 0) throw bad();
        return x * 16 + y;
      }
      case 0x61:
        return 0x07; // \a
      case 0x66:
        return 0x0c; // \f
      case 0x6e:
        return 0x0a; // \n
      case 0x72:
        return 0x0d; // \r
      case 0x74:
        return 0x09; // \t
      case 0x76:
        return 0x0b; // \v
    }
    throw bad();
  }

  /** `[...]` */
  private parseClass(flags: Flags): RegexNode {
    const start = this.pos;
    this.next(); // '['
    const set: ClassSet = { negated: false, ranges: [], props: [] };
    if (this.peek() === 0x5e) {
      this.next();
      set.negated = true;
    }
    let first = true;
    const missing = () =>
      new RegexError("missing closing ]", this.src.slice(start));
    for (;;) {
      if (this.pos >= this.src.length) throw missing();
      const c = this.peek();
      if (c === 0x5d && !first) break; // ']'
      first = false;
      if (c === 0x5b && this.peek(1) === 0x3a) { // "[:"
        const rest = this.rest();
        const end = rest.indexOf(":]", 2);
        if (end >= 0) {
          let name = rest.slice(2, end);
          const neg = name.startsWith("^");
          if (neg) name = name.slice(1);
          const g = POSIX_GROUPS[name];
          if (!g) {
            throw new RegexError(
              "invalid character class range",
              rest.slice(0, end + 2),
            );
          }
          addAsciiGroup(set, g, neg, flags.fold);
          this.pos += end + 2;
          continue;
        }
      }
      if (c === 0x5c && (this.peek(1) === 0x70 || this.peek(1) === 0x50)) {
        this.parseUnicodeClass(set);
        continue;
      }
      if (c === 0x5c) {
        const perl = this.tryPerlClass(flags);
        if (perl) {
          set.ranges.push(...perl.ranges);
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.classChar();
      let hi = lo;
      if (
        this.peek() === 0x2d && this.peek(1) !== 0x5d && this.peek(1) !== -1
      ) {
        this.next();
        hi = this.classChar();
        if (hi < lo) {
          throw new RegexError(
            "invalid character class range",
            this.src.slice(rangeStart, this.pos),
          );
        }
      }
      set.ranges.push(lo, hi);
    }
    this.next(); // ']'
    return this.mk({ k: "class", set, fold: flags.fold });
  }

  private classChar(): number {
    if (this.pos >= this.src.length) {
      throw new RegexError("missing closing ]", this.src);
    }
    if (this.peek() === 0x5c) return this.parseEscapeChar();
    return this.next();
  }
}

/** Go's repeatIsValid: nested {n,m} counts multiply to at most n copies. */
function repeatIsValid(node: RegexNode, n: number): boolean {
  if (node.k === "rep" && node.brace) {
    let m = node.max;
    if (m === 0) return true;
    if (m < 0) m = node.min;
    if (m > n) return false;
    if (m > 0) n = Math.floor(n / m);
  }
  for (const sub of children(node)) if (!repeatIsValid(sub, n)) return false;
  return true;
}

function children(node: RegexNode): RegexNode[] {
  switch (node.k) {
    case "group":
    case "rep":
      return [node.sub];
    case "cat":
    case "alt":
      return node.subs;
    default:
      return [];
  }
}

/** Approximate size of Go's compiled program (instructions), for its 3.3M limit. */
function progSize(node: RegexNode): number {
  let size = 0;
  switch (node.k) {
    case "lit":
      size = 1;
      break;
    case "group":
      size = (node.capture ? 2 : 0) + progSize(node.sub);
      break;
    case "cat":
      for (const s of node.subs) size += progSize(s);
      break;
    case "alt":
      for (const s of node.subs) size += progSize(s);
      size += node.subs.length - 1;
      break;
    case "rep": {
      const sub = progSize(node.sub);
      if (node.max === -1) {
        size = node.min === 0
          ? 2 + sub
          : node.min === 1
          ? 1 + sub
          : 1 + node.min * sub;
      } else if (!node.brace) size = 1 + sub;
      else size = node.max * sub + (node.max - node.min);
      break;
    }
    default:
      size = 1;
  }
  return Math.max(size, 1);
}

// ---------------------------------------------------------------- emission

function hexEsc(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** A code point as a V8 `u`-mode pattern atom outside classes. */
function escapeLiteral(cp: number): string {
  if (isAlnum(cp) || cp === 0x5f || cp === 0x20) return String.fromCharCode(cp);
  return hexEsc(cp);
}

function emitClassBody(
  set: ClassSet,
  propsFilter: (p: PropItem) => boolean,
): string {
  let out = "";
  const r = normalizeRanges(set.ranges);
  for (let i = 0; i < r.length; i += 2) {
    out += r[i] === r[i + 1]
      ? hexEsc(r[i])
      : `${hexEsc(r[i])}-${hexEsc(r[i + 1])}`;
  }
  for (const p of set.props) {
    if (!propsFilter(p)) continue;
    for (const n of p.names) out += `\\${p.negated ? "P" : "p"}{${n}}`;
  }
  return out;
}

function emitClass(set: ClassSet, fold: boolean): string {
  const wrap = (s: string) => fold ? `(?i:${s})` : s;
  // V8 folds a negated property per member (\P{Lu} keeps 'a', which folds to
  // 'A'), whereas RE2 negates the fold closure. Under (?i), express each
  // negated property as "not (folded property)" with a lookahead.
  const complex = fold && set.props.some((p) => p.negated);
  if (!complex) {
    return wrap(`[${set.negated ? "^" : ""}${emitClassBody(set, () => true)}]`);
  }
  const terms: string[] = [];
  const simple = emitClassBody(set, (p) => !p.negated);
  if (simple !== "") terms.push(wrap(`[${simple}]`));
  for (const p of set.props) {
    if (!p.negated) continue;
    const pos = p.names.map((n) => `\\p{${n}}`).join("");
    terms.push(`(?!${wrap(`[${pos}]`)})[^]`);
  }
  const union = terms.length === 0 ? "[]" : `(?:${terms.join("|")})`;
  return set.negated ? `(?!${union})[^]` : union;
}

function emitAssert(a: AssertKind): string {
  switch (a) {
    case "bot":
      return "^"; // no m flag: start of input only
    case "eot":
      return "$"; // no m flag: end of input only (RE2 has no "before final \n")
    case "bol":
      return "(?<![^\\n])"; // RE2 (?m): only \n ends a line
    case "eol":
      return "(?![^\\n])";
    case "wb":
      return "\\b"; // no i flag in force here, so ASCII word chars as in RE2
    case "nwb":
      return "\\B";
  }
}

function emit(node: RegexNode): string {
  switch (node.k) {
    case "empty":
      return "(?:)";
    case "lit":
      return node.fold
        ? `(?i:${escapeLiteral(node.cp)})`
        : escapeLiteral(node.cp);
    case "any":
      return node.nl ? "[^]" : "[^\\n]";
    case "class":
      return emitClass(node.set, node.fold);
    case "assert":
      return emitAssert(node.a);
    case "group":
      return `(?:${emit(node.sub)})`;
    case "cat": {
      let out = "";
      let foldRun = "";
      for (const s of node.subs) {
        if (s.k === "lit" && s.fold) {
          foldRun += escapeLiteral(s.cp);
          continue;
        }
        if (foldRun) out += `(?i:${foldRun})`;
        foldRun = "";
        out += s.k === "alt" ? `(?:${emit(s)})` : emit(s);
      }
      if (foldRun) out += `(?i:${foldRun})`;
      return out;
    }
    case "alt":
      return node.subs.map(emit).join("|");
    case "rep": {
      const s = node.sub;
      const atom = (s.k === "lit" && !s.fold) || s.k === "any"
        ? emit(s)
        : `(?:${emit(s)})`;
      let q: string;
      if (node.max === -1) {
        q = node.min === 0 ? "*" : node.min === 1 ? "+" : `{${node.min},}`;
      } else if (node.min === 0 && node.max === 1 && !node.brace) q = "?";
      else {q = node.min === node.max
          ? `{${node.min}}`
          : `{${node.min},${node.max}}`;}
      return atom + q + (node.lazy ? "?" : "");
    }
  }
}

// ---------------------------------------------------------------- analysis

const MAX_SET_MATCHES = 256;

function stripGroups(node: RegexNode): RegexNode {
  while (node.k === "group") node = node.sub;
  return node;
}

/** Exact finite set of strings the node matches (case-sensitive only), or null. */
function literalSetOf(node: RegexNode): string[] | null {
  node = stripGroups(node);
  switch (node.k) {
    case "empty":
      return [""];
    case "lit":
      return node.fold ? null : [String.fromCodePoint(node.cp)];
    case "class": {
      if (node.fold || node.set.negated || node.set.props.length > 0) {
        return null;
      }
      const r = normalizeRanges(node.set.ranges);
      let total = 0;
      for (let i = 0; i < r.length; i += 2) total += r[i + 1] - r[i] + 1;
      if (total > MAX_SET_MATCHES) return null;
      const out: string[] = [];
      for (let i = 0; i < r.length; i += 2) {
        for (let c = r[i]; c <= r[i + 1]; c++) {
          out.push(String.fromCodePoint(c));
        }
      }
      return out;
    }
    case "alt": {
      const out: string[] = [];
      for (const s of node.subs) {
        const m = literalSetOf(s);
        if (!m || out.length + m.length > MAX_SET_MATCHES) return null;
        out.push(...m);
      }
      return out;
    }
    case "cat": {
      let acc = [""];
      for (const s of node.subs) {
        const m = literalSetOf(s);
        if (!m || acc.length * m.length > MAX_SET_MATCHES) return null;
        const next: string[] = [];
        for (const a of acc) for (const b of m) next.push(a + b);
        acc = next;
      }
      return acc;
    }
    default:
      return null;
  }
}

/**
 * Literal pieces separated by dot-all gaps: `foo.*bar.+` is
 * {pieces: ["foo", "bar", ""], gaps: [0, 1]} (minimum gap lengths).
 * Null when the pattern has any other shape.
 */
export interface GapPattern {
  pieces: string[];
  gaps: number[];
}

function gapPatternOf(node: RegexNode): GapPattern | null {
  node = stripGroups(node);
  const items = node.k === "cat" ? node.subs.map(stripGroups) : [node];
  const pieces: string[] = [""];
  const gaps: number[] = [];
  for (const it of items) {
    if (it.k === "lit" && !it.fold) {
      pieces[pieces.length - 1] += String.fromCodePoint(it.cp);
    } else if (
      it.k === "rep" && it.max === -1 && (it.min === 0 || it.min === 1) &&
      stripGroups(it.sub).k === "any" &&
      (stripGroups(it.sub) as { nl: boolean }).nl
    ) {
      const last = gaps.length - 1;
      if (last >= 0 && pieces[pieces.length - 1] === "") {
        gaps[last] += it.min; // adjacent gaps merge: .*.+ is .+
      } else {
        gaps.push(it.min);
        pieces.push("");
      }
    } else if (it.k === "empty") {
      continue;
    } else return null;
  }
  return { pieces, gaps };
}

/** Position after `n` code points from `pos`, or -1 past the end. */
function skipCodePoints(s: string, pos: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (pos >= s.length) return -1;
    const c = s.charCodeAt(pos);
    pos += c >= 0xd800 && c <= 0xdbff && pos + 1 < s.length ? 2 : 1;
  }
  return pos;
}

/**
 * Tests a string against a gap pattern: the first piece is a prefix, the
 * last a suffix, and the middle ones are found left to right, each as early
 * as its minimum gap allows (earliest placement is optimal because a gap
 * accepts any characters).
 */
export function matchGapPattern(p: GapPattern, s: string): boolean {
  const { pieces, gaps } = p;
  const first = pieces[0];
  if (gaps.length === 0) return s === first;
  if (!s.startsWith(first)) return false;
  const last = pieces[pieces.length - 1];
  const lastStart = s.length - last.length;
  if (lastStart < first.length || !s.endsWith(last)) return false;
  let pos = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const from = skipCodePoints(s, pos, gaps[i - 1]);
    if (from < 0) return false;
    const at = s.indexOf(pieces[i], from);
    if (at < 0) return false;
    pos = at + pieces[i].length;
  }
  const from = skipCodePoints(s, pos, gaps[gaps.length - 1]);
  return from >= 0 && from <= lastStart;
}

/** A compiled Prometheus label regex. */
export interface CompiledRegex {
  /** The V8 pattern (anchored, `u` flag). */
  readonly regexp: RegExp;
  /** The exact set of strings matched, when small and finite (≤ 256), else null. */
  readonly literalSet: string[] | null;
  /** Literal pieces with `.*`/`.+` gaps, else null. */
  readonly gapPattern: GapPattern | null;
  /** Case-sensitive literal prefix every match starts with ("" if none). */
  readonly prefix: string;
  /** Case-sensitive literal suffix every match ends with ("" if none). */
  readonly suffix: string;
}

function literalEdges(node: RegexNode): { prefix: string; suffix: string } {
  node = stripGroups(node);
  if (node.k !== "cat") return { prefix: "", suffix: "" };
  const subs = node.subs.map(stripGroups);
  let prefix = "";
  let i = 0;
  for (; i < subs.length; i++) {
    const s = subs[i];
    if (s.k !== "lit" || s.fold) break;
    prefix += String.fromCodePoint(s.cp);
  }
  let suffix = "";
  for (let j = subs.length - 1; j >= i; j--) {
    const s = subs[j];
    if (s.k !== "lit" || s.fold) break;
    suffix = String.fromCodePoint(s.cp) + suffix;
  }
  return { prefix, suffix };
}

/** Parses RE2 syntax into a tree; throws RegexError. */
export function parseRegex(pattern: string): RegexNode {
  if (!pattern.isWellFormed()) throw new RegexError("invalid UTF-8", pattern);
  const p = new Parser(pattern);
  const node = p.parse();
  if (progSize(node) > MAX_PROG_SIZE) {
    throw new RegexError("expression too large", pattern);
  }
  return node;
}

/** Translates a parsed tree to V8 pattern source (unanchored body). */
export function toJsSource(node: RegexNode): string {
  return emit(node);
}

/**
 * Compiles a Prometheus label regex: RE2 syntax, fully anchored, `.`
 * matching newlines. Throws RegexError for anything RE2 rejects.
 */
export function compileRegex(pattern: string): CompiledRegex {
  const node = parseRegex(pattern);
  const src = `^(?:${emit(node)})$`;
  let regexp: RegExp;
  try {
    regexp = new RegExp(src, "u");
  } catch (e) {
    // A translation bug, not a user error; say so rather than hide it.
    throw new RegexError(
      `internal translation error (${(e as Error).message})`,
      pattern,
    );
  }
  const set = literalSetOf(node);
  return {
    regexp,
    literalSet: set ? [...new Set(set)] : null,
    gapPattern: gapPatternOf(node),
    ...literalEdges(node),
  };
}
