// Merging sources: series by label set, samples in time order, one sample
// per timestamp (the newest source wins), checked against a plain oracle.
import assert from "node:assert/strict";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import type { SampleIterator, Series } from "../src/storage/interface.ts";
import {
  compareLabels,
  MergeIterator,
  mergeSeriesLists,
} from "../src/storage/merge.ts";
import { Prng } from "../src/util/prng.ts";

class ArrayIterator implements SampleIterator {
  #i = -1;
  t = NaN;
  v = NaN;
  constructor(private ts: number[], private vs: number[]) {}
  next(): boolean {
    if (++this.#i >= this.ts.length) return false;
    this.t = this.ts[this.#i];
    this.v = this.vs[this.#i];
    return true;
  }
  seek(t: number): boolean {
    if (this.#i >= 0 && this.#i < this.ts.length && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }
  isStale(): boolean {
    return false;
  }
  err(): Error | null {
    return null;
  }
}

function series(name: string, ts: number[], vs: number[]): Series {
  return {
    labels: labelsFrom({ __name__: name }),
    iterator: () => new ArrayIterator(ts, vs),
    chunks: () => [],
  };
}

Deno.test("MergeIterator equals a sorted, last-source-wins merge", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const rng = new Prng(seed);
    const sources = Array.from({ length: rng.int(1, 4) }, (_, s) => {
      const ts = [
        ...new Set(
          Array.from({ length: rng.int(0, 30) }, () => rng.int(0, 60)),
        ),
      ]
        .sort((a, b) => a - b);
      return { ts, vs: ts.map((t) => s * 1000 + t) };
    });
    const oracle = new Map<number, number>();
    for (const s of sources) s.ts.forEach((t, i) => oracle.set(t, s.vs[i]));
    const want = [...oracle.entries()].sort((a, b) => a[0] - b[0]);
    const it = new MergeIterator(
      sources.map((s) => new ArrayIterator(s.ts, s.vs)),
    );
    const got: [number, number][] = [];
    while (it.next()) got.push([it.t, it.v]);
    assert.deepEqual(got, want, `seed ${seed}`);
    // seek lands on the first sample at or after t.
    const it2 = new MergeIterator(
      sources.map((s) => new ArrayIterator(s.ts, s.vs)),
    );
    const target = rng.int(0, 70);
    const first = want.find(([t]) => t >= target);
    assert.equal(it2.seek(target), first !== undefined, `seed ${seed} seek`);
    if (first) assert.deepEqual([it2.t, it2.v], first);
  }
});

Deno.test("mergeSeriesLists merges by label set and keeps label order", () => {
  const a = [series("a", [1, 2], [1, 2]), series("c", [1], [1])];
  const b = [series("b", [5], [5]), series("c", [2], [20])];
  const merged = mergeSeriesLists([a, b]);
  assert.deepEqual(
    merged.map((s) => labelsKey(s.labels)),
    ["a", "b", "c"].map((n) => labelsKey(labelsFrom({ __name__: n }))),
  );
  for (let i = 1; i < merged.length; i++) {
    assert.ok(compareLabels(merged[i - 1].labels, merged[i].labels) < 0);
  }
  const it = merged[2].iterator();
  const got: number[] = [];
  while (it.next()) got.push(it.v);
  assert.deepEqual(got, [1, 20]);
});
