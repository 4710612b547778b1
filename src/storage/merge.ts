/**
 * Merging what several sources hold (blocks, the head): series with equal
 * labels become one series whose samples are merged in time order; a
 * timestamp present in several sources yields one sample (the last source
 * wins, sources being ordered oldest first).
 * @module
 */
export { compareLabels } from "./block/labels_order.ts";
import { compareStrings, type Labels } from "../model/labels.ts";
import { compareLabels } from "./block/labels_order.ts";
import type { Matcher } from "../model/matcher.ts";
import type {
  ChunkMeta,
  Querier,
  SampleIterator,
  SelectHints,
  Series,
} from "./interface.ts";
import {
  type ReadSamples,
  readSamples,
  type SampleAlloc,
} from "./chunk_iterator.ts";

/** Iterates several iterators of one series as one, in time order. */
export class MergeIterator implements SampleIterator {
  #ok: boolean[];
  #cur = -1;
  #started = false;
  t = NaN;
  v = NaN;

  constructor(private readonly its: SampleIterator[]) {
    this.#ok = its.map(() => false);
  }

  next(): boolean {
    if (!this.#started) {
      this.#started = true;
      this.its.forEach((it, i) => (this.#ok[i] = it.next()));
    } else {
      // Advance every source positioned at the current time (duplicates).
      const t = this.t;
      this.its.forEach((it, i) => {
        if (this.#ok[i] && it.t === t) this.#ok[i] = it.next();
      });
    }
    return this.#pick();
  }

  seek(t: number): boolean {
    if (this.#started && this.#cur >= 0 && this.t >= t) return true;
    if (!this.#started) {
      this.#started = true;
      this.its.forEach((it, i) => (this.#ok[i] = it.seek(t)));
      return this.#pick();
    }
    this.its.forEach((it, i) => {
      if (this.#ok[i] && it.t < t) this.#ok[i] = it.seek(t);
    });
    return this.#pick();
  }

  /** Makes the earliest source current; later sources win ties (`<=`). */
  #pick(): boolean {
    let best = -1;
    for (let i = 0; i < this.its.length; i++) {
      if (!this.#ok[i]) continue;
      if (best < 0 || this.its[i].t <= this.its[best].t) best = i;
    }
    this.#cur = best;
    if (best < 0) return false;
    this.t = this.its[best].t;
    this.v = this.its[best].v;
    return true;
  }

  isStale(): boolean {
    return this.#cur >= 0 && this.its[this.#cur].isStale();
  }

  /**
   * Bulk read (see ChunkSeriesIterator.readAll): each source read in bulk,
   * then merged in time order, the later source winning equal timestamps
   * (as `next` does). Only on a fresh iterator.
   */
  readAll(mint: number, maxt: number, alloc?: SampleAlloc): ReadSamples {
    this.#started = true;
    this.#cur = -1;
    this.#ok.fill(false);
    let acc: ReadSamples | null = null;
    for (const it of this.its) {
      const got = readSamples(it, mint, maxt, alloc);
      if (it.err()) return got;
      acc = acc === null ? got : mergeSamples(acc, got);
    }
    return acc ?? { ts: new Float64Array(0), vs: new Float64Array(0) };
  }

  /** Copies the current value's exact bits into dst[at] when the source can. */
  valueInto(dst: Float64Array, at: number): void {
    const it = this.its[this.#cur] as Partial<
      { valueInto(d: Float64Array, i: number): void }
    >;
    if (it.valueInto) it.valueInto(dst, at);
    else dst[at] = this.v;
  }

  err(): Error | null {
    for (const it of this.its) {
      const e = it.err();
      if (e) return e;
    }
    return null;
  }
}

/** Two sorted sample runs merged; on equal timestamps `b`'s sample wins. Value bits copied exactly. */
function mergeSamples(a: ReadSamples, b: ReadSamples): ReadSamples {
  if (a.ts.length === 0) return b;
  if (b.ts.length === 0) return a;
  const ts = new Float64Array(a.ts.length + b.ts.length);
  const vs = new Float64Array(ts.length);
  // Word views: a value goes through two u32s, never a JS number (NaN bits).
  const words = (x: Float64Array) =>
    new Uint32Array(x.buffer, x.byteOffset, x.length * 2);
  const aw = words(a.vs), bw = words(b.vs), ow = words(vs);
  let i = 0, j = 0, n = 0;
  while (i < a.ts.length || j < b.ts.length) {
    const ta = i < a.ts.length ? a.ts[i] : Infinity;
    const tb = j < b.ts.length ? b.ts[j] : Infinity;
    if (ta < tb) {
      ts[n] = ta;
      ow[2 * n] = aw[2 * i];
      ow[2 * n + 1] = aw[2 * i + 1];
      i++;
    } else {
      if (ta === tb) i++;
      ts[n] = tb;
      ow[2 * n] = bw[2 * j];
      ow[2 * n + 1] = bw[2 * j + 1];
      j++;
    }
    n++;
  }
  return { ts: ts.subarray(0, n), vs: vs.subarray(0, n) };
}

class MergedSeries implements Series {
  constructor(readonly labels: Labels, private readonly parts: Series[]) {}
  iterator(): SampleIterator {
    return new MergeIterator(this.parts.map((p) => p.iterator()));
  }
  chunks(): ChunkMeta[] {
    const all = this.parts.flatMap((p) => p.chunks());
    all.sort((a, b) => a.minTime - b.minTime);
    return all;
  }
}

/** Merges sorted series lists (oldest source first) by label set. */
export function mergeSeriesLists(lists: Series[][]): Series[] {
  if (lists.length === 1) return lists[0];
  const out: Series[] = [];
  const pos = lists.map(() => 0);
  for (;;) {
    let min: Labels | null = null;
    for (let i = 0; i < lists.length; i++) {
      if (pos[i] < lists[i].length) {
        const l = lists[i][pos[i]].labels;
        if (min === null || compareLabels(l, min) < 0) min = l;
      }
    }
    if (min === null) return out;
    const parts: Series[] = [];
    for (let i = 0; i < lists.length; i++) {
      if (
        pos[i] < lists[i].length &&
        compareLabels(lists[i][pos[i]].labels, min) === 0
      ) {
        parts.push(lists[i][pos[i]++]);
      }
    }
    out.push(parts.length === 1 ? parts[0] : new MergedSeries(min, parts));
  }
}

/** A querier over several queriers (oldest first), merging their answers. */
export class MergeQuerier implements Querier {
  constructor(private readonly parts: Querier[]) {}

  select(matchers: readonly Matcher[], hints?: SelectHints): Series[] {
    const merged = mergeSeriesLists(
      this.parts.map((q) => q.select(matchers, { ...hints, limit: undefined })),
    );
    if (hints?.limit !== undefined && merged.length > hints.limit) {
      merged.length = hints.limit;
    }
    return merged;
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    return unionSorted(this.parts.map((q) => q.labelNames(matchers)));
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    return unionSorted(this.parts.map((q) => q.labelValues(name, matchers)));
  }

  close(): void {
    for (const q of this.parts) q.close();
  }
}

function unionSorted(lists: string[][]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const x of l) set.add(x);
  return [...set].sort(compareStrings);
}
