/**
 * The postings index of one tenant: series refs → label sets, and label
 * pairs → sorted refs, answering matcher selections without scanning every
 * series.
 *
 * Layout (compact enough for millions of series):
 * - each distinct label pair (name, value) gets a small integer id; a
 *   series' labels are stored as pair ids in one shared Uint32Array arena,
 *   found through per-ref start/length arrays (so refs should be dense: the
 *   per-ref tables cost 6 bytes × the largest ref);
 * - each pair has a PostingList (sorted refs, growable Uint32Array);
 * - removal flags the ref in a bitmap and counts it dead in its pairs'
 *   lists, which compact lazily when next read.
 *
 * Selection (see docs/design/index.md): every matcher is resolved to the
 * pair ids of its label name whose values match (literal sets are hash
 * lookups; other regexes test each distinct value, never each series). A
 * matcher that does not match "" yields candidates: the union of its
 * pairs' postings. The cheapest candidate set seeds the result; the other
 * matchers then either intersect/subtract postings (sorted merges or
 * galloping) or, when their postings are much bigger than the candidates,
 * filter the candidates by their stored pair ids.
 * @module
 */
import { compareStrings, type Label, type Labels } from "../../model/labels.ts";
import { type Matcher, setMatchesOf } from "../../model/matcher.ts";
import { PostingList } from "./posting_list.ts";
import { intersect, subtract, unionMany } from "./sorted.ts";

/** Why a selection cannot be made. */
export class IndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IndexError";
  }
}

/** Marks an absent series in the per-ref start table. */
const NONE = 0xffffffff;
/** Largest accepted ref: per-ref tables are dense arrays. */
export const MAX_REF = 0x7ffffffe;

/** A name → count entry of TSDB statistics. */
export interface StatEntry {
  name: string;
  value: number;
}

/** Index statistics, shaped like Prometheus' /api/v1/status/tsdb head stats. */
export interface PostingsStats {
  numSeries: number;
  numLabelPairs: number;
  seriesCountByMetricName: StatEntry[];
  labelValueCountByLabelName: StatEntry[];
  memoryInBytesByLabelName: StatEntry[];
  seriesCountByLabelValuePair: StatEntry[];
}

/** One matcher resolved against the index. */
interface Resolved {
  matcher: Matcher;
  nameId: number; // -1 when no series has the name
  matchesEmpty: boolean;
  /** Pairs of the name whose value matches. */
  matching: number[];
  /** Pairs of the name whose value does not match. */
  failing: number[];
  /** Live postings of `matching` (candidates) or `failing` (exclusions). */
  cost: number;
}

/** Labels → postings for one tenant. */
export class PostingsIndex {
  // Label names.
  #names: string[] = [];
  #nameIds = new Map<string, number>();
  /** Per name id: value → pair id. */
  #values: Map<string, number>[] = [];

  // Label pairs.
  #pairName = new Uint32Array(64);
  #pairValue: string[] = [];
  #postings: (PostingList | null)[] = [];
  #freePairs: number[] = [];
  /** Scratch marks per pair for filtering: pair is "in" when mark === epoch. */
  #pairMark = new Uint32Array(64);
  #epoch = 0;

  // Series.
  #start = new Uint32Array(0).fill(NONE);
  #len = new Uint16Array(0);
  #arena = new Uint32Array(1024);
  #arenaLen = 0;
  #arenaGarbage = 0;
  #all = new PostingList(1024);
  #removed = new Uint32Array(0);
  #numSeries = 0;
  #maxRef = 0;

  /** Number of live series. */
  get numSeries(): number {
    return this.#numSeries;
  }

  /** Adds a series. `ref` must not be live already; labels sorted by name (as `Labels` are). */
  add(ref: number, labels: Labels): void {
    if (!Number.isInteger(ref) || ref < 0 || ref > MAX_REF) {
      throw new RangeError(`series ref ${ref} out of range [0, ${MAX_REF}]`);
    }
    if (labels.length > 0xffff) throw new RangeError("too many labels");
    this.#ensureRef(ref);
    if (this.#start[ref] !== NONE) {
      throw new IndexError(`series ref ${ref} already present`);
    }
    if (this.#isRemoved(ref)) {
      // A re-used ref: its stale entries must leave every list first.
      this.purge();
    }
    if (this.#arenaLen + labels.length > this.#arena.length) {
      this.#growArena(this.#arenaLen + labels.length);
    }
    const start = this.#arenaLen;
    let n = 0;
    for (const l of labels) {
      if (l.value === "") continue; // "" means absent
      const pair = this.#internPair(l.name, l.value);
      this.#postings[pair]!.add(ref);
      this.#arena[start + n++] = pair;
    }
    this.#arenaLen += n;
    this.#start[ref] = start;
    this.#len[ref] = n;
    this.#all.add(ref);
    this.#numSeries++;
    if (ref > this.#maxRef) this.#maxRef = ref;
  }

  /** Removes a series; false when it is not present. */
  remove(ref: number): boolean {
    if (!this.has(ref)) return false;
    const start = this.#start[ref];
    const n = this.#len[ref];
    for (let i = 0; i < n; i++) {
      const pair = this.#arena[start + i];
      const list = this.#postings[pair]!;
      list.dead++;
      if (list.live === 0) this.#freePair(pair);
    }
    this.#all.dead++;
    this.#removed[ref >>> 5] |= 1 << (ref & 31);
    this.#start[ref] = NONE;
    this.#len[ref] = 0;
    this.#arenaGarbage += n;
    this.#numSeries--;
    if (this.#arenaGarbage > 4096 && this.#arenaGarbage * 2 > this.#arenaLen) {
      this.#compactArena();
    }
    return true;
  }

  /** Whether `ref` is a live series. */
  has(ref: number): boolean {
    return ref >= 0 && ref < this.#start.length && this.#start[ref] !== NONE;
  }

  /** The labels of a live series, or undefined. */
  labels(ref: number): Labels | undefined {
    if (!this.has(ref)) return undefined;
    const start = this.#start[ref];
    const n = this.#len[ref];
    const out: Label[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const pair = this.#arena[start + i];
      out[i] = {
        name: this.#names[this.#pairName[pair]],
        value: this.#pairValue[pair],
      };
    }
    return out;
  }

  /** The value of label `name` of a live series ("" when absent or no series). */
  labelValue(ref: number, name: string): string {
    const nameId = this.#nameIds.get(name);
    if (nameId === undefined || !this.has(ref)) return "";
    const pair = this.#pairOf(ref, nameId);
    return pair < 0 ? "" : this.#pairValue[pair];
  }

  /** All live refs, sorted. */
  allRefs(): Uint32Array {
    return this.#read(this.#all).slice();
  }

  /**
   * Sorted refs of the series matching every matcher. Throws IndexError
   * when no matcher excludes the empty string (Prometheus: "vector selector
   * must contain at least one non-empty matcher"); use `allRefs` to list
   * everything.
   */
  select(matchers: readonly Matcher[]): Uint32Array {
    const resolved = matchers.map((m) => this.#resolve(m));
    const positive = resolved.filter((r) => !r.matchesEmpty);
    if (positive.length === 0) {
      throw new IndexError(
        "vector selector must contain at least one non-empty matcher",
      );
    }
    positive.sort((a, b) => a.cost - b.cost);
    const seed = positive[0];
    if (seed.cost === 0) return new Uint32Array(0);
    let acc = unionMany(
      seed.matching.map((p) => this.#read(this.#postings[p]!)),
      this.#maxRef,
    );
    const rest = [
      ...positive.slice(1),
      ...resolved.filter((r) => r.matchesEmpty && r.failing.length > 0),
    ];
    rest.sort((a, b) => a.cost - b.cost);
    const labelsPerSeries = this.#numSeries > 0
      ? (this.#arenaLen - this.#arenaGarbage) / this.#numSeries
      : 1;
    for (const r of rest) {
      if (acc.length === 0) break;
      const pairs = r.matchesEmpty ? r.failing : r.matching;
      // Postings cost ~ their length (+ a union when several); filtering
      // costs ~ candidates × labels per series.
      const viaPostings = pairs.length === 1
        ? r.cost
        : r.cost * 2 + pairs.length * 8;
      if (viaPostings <= acc.length * (labelsPerSeries + 2)) {
        const lists = pairs.map((p) => this.#read(this.#postings[p]!));
        const other = lists.length === 1
          ? lists[0]
          : unionMany(lists, this.#maxRef);
        acc = r.matchesEmpty ? subtract(acc, other) : intersect(acc, other);
      } else {
        acc = this.#filter(acc, r.nameId, pairs, !r.matchesEmpty);
      }
    }
    return acc;
  }

  /** Label names with at least one live series (or among `refs`), sorted. */
  labelNames(refs?: ArrayLike<number>): string[] {
    if (refs === undefined) {
      const out: string[] = [];
      for (let id = 0; id < this.#names.length; id++) {
        if (this.#values[id].size > 0) out.push(this.#names[id]);
      }
      return out.sort(compareStrings);
    }
    const seen = new Set<number>();
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i];
      if (!this.has(ref)) continue;
      const start = this.#start[ref];
      const n = this.#len[ref];
      for (let j = 0; j < n; j++) {
        seen.add(this.#pairName[this.#arena[start + j]]);
      }
    }
    return [...seen].map((id) => this.#names[id]).sort(compareStrings);
  }

  /** Values of label `name` among live series (or among `refs`), sorted. */
  labelValues(name: string, refs?: ArrayLike<number>): string[] {
    const nameId = this.#nameIds.get(name);
    if (nameId === undefined) return [];
    if (refs === undefined) {
      return [...this.#values[nameId].keys()].sort(compareStrings);
    }
    const seen = new Set<number>();
    for (let i = 0; i < refs.length; i++) {
      if (!this.has(refs[i])) continue;
      const pair = this.#pairOf(refs[i], nameId);
      if (pair >= 0) seen.add(pair);
    }
    return [...seen].map((p) => this.#pairValue[p]).sort(compareStrings);
  }

  /**
   * Statistics for /api/v1/status/tsdb, each list the top `limit` by count
   * (ties by name). memoryInBytesByLabelName sums the UTF-8 length of each
   * distinct value of the name, as Prometheus does.
   */
  stats(limit = 10): PostingsStats {
    const top = (entries: StatEntry[]) =>
      entries.sort((a, b) =>
        b.value - a.value || compareStrings(a.name, b.name)
      )
        .slice(0, limit);
    const byMetric: StatEntry[] = [];
    const valueCounts: StatEntry[] = [];
    const memory: StatEntry[] = [];
    const pairs: StatEntry[] = [];
    const enc = new TextEncoder();
    let numPairs = 0;
    for (let id = 0; id < this.#names.length; id++) {
      const name = this.#names[id];
      const values = this.#values[id];
      if (values.size === 0) continue;
      let bytes = 0;
      for (const [value, pair] of values) {
        const live = this.#postings[pair]!.live;
        numPairs++;
        bytes += utf8Length(value, enc);
        pairs.push({ name: `${name}=${value}`, value: live });
        if (name === "__name__") byMetric.push({ name: value, value: live });
      }
      valueCounts.push({ name, value: values.size });
      memory.push({ name, value: bytes });
    }
    return {
      numSeries: this.#numSeries,
      numLabelPairs: numPairs,
      seriesCountByMetricName: top(byMetric),
      labelValueCountByLabelName: top(valueCounts),
      memoryInBytesByLabelName: top(memory),
      seriesCountByLabelValuePair: top(pairs),
    };
  }

  /** Compacts every list holding removed refs and forgets the removals. */
  purge(): void {
    for (const list of this.#postings) {
      if (list && list.dead > 0) list.compact(this.#removed);
    }
    if (this.#all.dead > 0) this.#all.compact(this.#removed);
    this.#removed.fill(0);
  }

  /**
   * Approximate bytes held: typed arrays exactly, plus an estimate for
   * strings, maps and list objects (V8 does not expose per-object sizes).
   */
  memoryBytes(): number {
    let bytes = this.#pairName.byteLength + this.#pairMark.byteLength +
      this.#start.byteLength + this.#len.byteLength + this.#arena.byteLength +
      this.#all.bytes + this.#removed.byteLength;
    for (let p = 0; p < this.#postings.length; p++) {
      const list = this.#postings[p];
      // list object + typed array header ≈ 120 B; map entry + string ≈ 40 B + chars
      if (list) bytes += list.bytes + 160 + this.#pairValue[p].length * 2;
    }
    return bytes;
  }

  // ---------------------------------------------------------------- internals

  #resolve(m: Matcher): Resolved {
    const nameId = this.#nameIds.get(m.name) ?? -1;
    const matchesEmpty = m.matches("");
    const r: Resolved = {
      matcher: m,
      nameId,
      matchesEmpty,
      matching: [],
      failing: [],
      cost: 0,
    };
    if (nameId < 0) return r;
    const values = this.#values[nameId];
    const set = setMatchesOf(m);
    if (set !== null && !matchesEmpty) {
      // Literal alternatives: hash lookups, no value scan.
      for (const v of new Set(set)) {
        const pair = values.get(v);
        if (pair !== undefined) r.matching.push(pair);
      }
    } else if (matchesEmpty && m.type === "!=") {
      const pair = values.get(m.value);
      if (pair !== undefined) r.failing.push(pair);
    } else {
      for (const [v, pair] of values) {
        if (m.matches(v)) r.matching.push(pair);
        else r.failing.push(pair);
      }
    }
    for (const p of matchesEmpty ? r.failing : r.matching) {
      r.cost += this.#postings[p]!.live;
    }
    return r;
  }

  /** Keeps refs whose pair for `nameId` is (keepIn) / is not (!keepIn) one of `pairs`. */
  #filter(
    refs: Uint32Array,
    nameId: number,
    pairs: readonly number[],
    keepIn: boolean,
  ): Uint32Array {
    const epoch = this.#nextEpoch();
    for (const p of pairs) this.#pairMark[p] = epoch;
    const out = new Uint32Array(refs.length);
    let n = 0;
    for (let i = 0; i < refs.length; i++) {
      const pair = this.#pairOf(refs[i], nameId);
      const isIn = pair >= 0 && this.#pairMark[pair] === epoch;
      if (isIn === keepIn) out[n++] = refs[i];
    }
    return out.slice(0, n);
  }

  #nextEpoch(): number {
    this.#epoch = (this.#epoch + 1) >>> 0;
    if (this.#epoch === 0) {
      this.#pairMark.fill(0);
      this.#epoch = 1;
    }
    return this.#epoch;
  }

  /** The pair id of label `nameId` of live series `ref`, or -1. */
  #pairOf(ref: number, nameId: number): number {
    const start = this.#start[ref];
    const end = start + this.#len[ref];
    for (let i = start; i < end; i++) {
      const pair = this.#arena[i];
      if (this.#pairName[pair] === nameId) return pair;
    }
    return -1;
  }

  /** A list's live entries, compacting it first if it holds removed refs. */
  #read(list: PostingList): Uint32Array {
    if (list.dead > 0) list.compact(this.#removed);
    return list.view();
  }

  #isRemoved(ref: number): boolean {
    const word = ref >>> 5;
    return word < this.#removed.length &&
      (this.#removed[word] & (1 << (ref & 31))) !== 0;
  }

  #internPair(name: string, value: string): number {
    let nameId = this.#nameIds.get(name);
    if (nameId === undefined) {
      nameId = this.#names.length;
      this.#names.push(name);
      this.#nameIds.set(name, nameId);
      this.#values.push(new Map());
    }
    const values = this.#values[nameId];
    let pair = values.get(value);
    if (pair !== undefined) return pair;
    pair = this.#freePairs.pop() ?? this.#postings.length;
    if (pair === this.#postings.length) {
      this.#postings.push(null);
      this.#pairValue.push("");
      if (pair >= this.#pairName.length) {
        this.#pairName = growU32(this.#pairName, pair + 1);
        this.#pairMark = growU32(this.#pairMark, pair + 1);
      }
    }
    this.#pairName[pair] = nameId;
    this.#pairValue[pair] = value;
    this.#postings[pair] = new PostingList();
    values.set(value, pair);
    return pair;
  }

  /** A pair whose every series is gone: unlink it and recycle its id. */
  #freePair(pair: number): void {
    this.#values[this.#pairName[pair]].delete(this.#pairValue[pair]);
    this.#postings[pair] = null;
    this.#pairValue[pair] = "";
    this.#freePairs.push(pair);
  }

  #ensureRef(ref: number): void {
    if (ref < this.#start.length) return;
    const size = Math.min(
      MAX_REF + 1,
      Math.max(ref + 1, this.#start.length * 2, 1024),
    );
    const start = new Uint32Array(size).fill(NONE);
    start.set(this.#start);
    this.#start = start;
    const len = new Uint16Array(size);
    len.set(this.#len);
    this.#len = len;
    this.#removed = growU32(this.#removed, (size >>> 5) + 1);
  }

  #growArena(min: number): void {
    const cap = this.#arena.length;
    this.#arena = growU32(this.#arena, Math.max(min, cap + (cap >>> 1)));
  }

  /** Rewrites the arena without the pair ids of removed series. */
  #compactArena(): void {
    const live = this.#arenaLen - this.#arenaGarbage;
    const next = new Uint32Array(Math.max(1024, Math.ceil(live * 1.25)));
    let w = 0;
    for (let ref = 0; ref <= this.#maxRef && ref < this.#start.length; ref++) {
      const s = this.#start[ref];
      if (s === NONE) continue;
      const n = this.#len[ref];
      next.set(this.#arena.subarray(s, s + n), w);
      this.#start[ref] = w;
      w += n;
    }
    this.#arena = next;
    this.#arenaLen = w;
    this.#arenaGarbage = 0;
  }
}

function growU32(
  a: Uint32Array<ArrayBuffer>,
  min: number,
): Uint32Array<ArrayBuffer> {
  if (min <= a.length) return a;
  const b = new Uint32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

function utf8Length(s: string, enc: TextEncoder): number {
  // ASCII fast path; otherwise encode.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return enc.encode(s).length;
  }
  return s.length;
}
