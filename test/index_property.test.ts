/**
 * Property tests of PostingsIndex against a brute-force scan of every
 * label set: select, labelNames, labelValues and stats, over seeded random
 * label sets, random matchers, removals and re-added refs.
 */
import assert from "node:assert/strict";
import {
  compareStrings,
  getLabel,
  type Labels,
  labelsFrom,
} from "../src/model/labels.ts";
import {
  type Matcher,
  type MatchType,
  newMatcher,
} from "../src/model/matcher.ts";
import { IndexError, PostingsIndex } from "../src/storage/index/postings.ts";
import { Prng } from "../src/util/prng.ts";

const NAMES = ["__name__", "a", "b", "c", "job", "ü"];
const VALUES = ["v0", "v1", "v2", "v3", "x", "V1", "v1\n", "é", "😀"];
const REGEXES = [
  ".*",
  ".+",
  "v[0-2]",
  "v1|v3",
  "v.*",
  "(?i)v1",
  "x|",
  "",
  "v1|nope",
  ".*1.*",
  "[^v].*",
  "v\\d",
  "(v0|x)?",
  "\\p{L}",
  "v1.",
];

function randomLabels(rng: Prng, valueCount: number): Labels {
  const pairs: [string, string][] = [];
  for (const name of NAMES) {
    if (rng.float() < 0.6) {
      pairs.push([name, VALUES[rng.int(0, valueCount - 1)]]);
    }
  }
  return labelsFrom(pairs);
}

function randomMatcher(rng: Prng): Matcher {
  const type = rng.pick<MatchType>(["=", "!=", "=~", "!~"]);
  const name = rng.float() < 0.1 ? "missing" : rng.pick(NAMES);
  const value = type === "=" || type === "!="
    ? (rng.float() < 0.15 ? "" : rng.pick(VALUES))
    : rng.pick(REGEXES);
  return newMatcher(type, name, value);
}

class Oracle {
  series = new Map<number, Labels>();
  select(ms: readonly Matcher[]): number[] {
    const out: number[] = [];
    for (const [ref, ls] of this.series) {
      if (ms.every((m) => m.matches(getLabel(ls, m.name)))) out.push(ref);
    }
    return out.sort((x, y) => x - y);
  }
}

const fmt = (ms: readonly Matcher[]) => `{${ms.map(String).join(", ")}}`;

Deno.test("select equals a brute-force scan (random label sets, matchers, removals)", () => {
  let cases = 0;
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const rng = new Prng(seed);
    const idx = new PostingsIndex();
    const oracle = new Oracle();
    const valueCount = rng.int(2, VALUES.length);
    let nextRef = rng.int(0, 5);
    const removed: number[] = [];
    for (let round = 0; round < 40; round++) {
      // Grow, shrink, and sometimes re-use a removed ref.
      for (let i = rng.int(0, 30); i > 0; i--) {
        const reuse = removed.length > 0 && rng.float() < 0.2;
        const ref = reuse
          ? removed.splice(rng.int(0, removed.length - 1), 1)[0]
          : nextRef;
        if (!reuse) nextRef += rng.int(1, 3);
        const ls = randomLabels(rng, valueCount);
        idx.add(ref, ls);
        oracle.series.set(ref, ls);
      }
      for (let i = rng.int(0, 10); i > 0 && oracle.series.size > 0; i--) {
        const refs = [...oracle.series.keys()];
        const ref = rng.pick(refs);
        assert.equal(idx.remove(ref), true, `seed ${seed}: remove ${ref}`);
        assert.equal(idx.remove(ref), false, `seed ${seed}: remove twice`);
        oracle.series.delete(ref);
        removed.push(ref);
      }
      assert.equal(
        idx.numSeries,
        oracle.series.size,
        `seed ${seed} round ${round}`,
      );
      for (let q = 0; q < 25; q++) {
        const ms = Array.from(
          { length: rng.int(1, 3) },
          () => randomMatcher(rng),
        );
        cases++;
        if (ms.every((m) => m.matches(""))) {
          assert.throws(
            () => idx.select(ms),
            IndexError,
            `seed ${seed}: ${fmt(ms)}`,
          );
          continue;
        }
        assert.deepEqual(
          [...idx.select(ms)],
          oracle.select(ms),
          `seed ${seed} round ${round}: ${fmt(ms)}`,
        );
      }
    }
    // Stored labels round-trip.
    for (const [ref, ls] of oracle.series) {
      assert.deepEqual(idx.labels(ref), ls, `seed ${seed}: labels(${ref})`);
    }
    assert.deepEqual(
      [...idx.allRefs()],
      [...oracle.series.keys()].sort((x, y) => x - y),
    );
  }
  assert.ok(cases >= 8000, `only ${cases} cases`);
});

Deno.test("select on larger sets exercises galloping, bitmaps and label filtering", () => {
  const seed = 99;
  const rng = new Prng(seed);
  const idx = new PostingsIndex();
  const oracle = new Oracle();
  // Skewed: a few values are huge, many are tiny.
  for (let ref = 0; ref < 20_000; ref++) {
    const pairs: [string, string][] = [
      ["__name__", `m${Math.floor(rng.float() ** 3 * 40)}`],
      ["job", rng.float() < 0.9 ? "big" : `small${rng.int(0, 50)}`],
      ["instance", `i${rng.int(0, 999)}`],
    ];
    if (rng.float() < 0.3) pairs.push(["zone", `z${rng.int(0, 3)}`]);
    const ls = labelsFrom(pairs);
    idx.add(ref, ls);
    oracle.series.set(ref, ls);
  }
  for (let ref = 0; ref < 20_000; ref += rng.int(1, 40)) {
    idx.remove(ref);
    oracle.series.delete(ref);
  }
  const queries: Matcher[][] = [];
  for (let q = 0; q < 300; q++) {
    const ms: Matcher[] = [];
    const pick = rng.int(0, 5);
    if (pick <= 1) ms.push(newMatcher("=", "__name__", `m${rng.int(0, 39)}`));
    if (pick === 2) {
      ms.push(newMatcher("=~", "__name__", `m${rng.int(0, 3)}.*`));
    }
    if (pick >= 3) ms.push(newMatcher("=", "job", "big"));
    if (rng.float() < 0.5) {
      ms.push(newMatcher("=~", "instance", `i${rng.int(1, 9)}.*`));
    }
    if (rng.float() < 0.3) ms.push(newMatcher("!=", "job", "big"));
    if (rng.float() < 0.3) {
      ms.push(newMatcher("!~", "zone", `z[0-${rng.int(0, 3)}]`));
    }
    if (rng.float() < 0.3) ms.push(newMatcher("=", "zone", ""));
    if (rng.float() < 0.2) {
      ms.push(newMatcher("=~", "instance", "i1|i2|i3|i500|i999"));
    }
    queries.push(ms);
  }
  for (const [q, ms] of queries.entries()) {
    if (ms.every((m) => m.matches(""))) continue;
    assert.deepEqual(
      [...idx.select(ms)],
      oracle.select(ms),
      `seed ${seed} query ${q}: ${fmt(ms)}`,
    );
  }
});

Deno.test("labelNames, labelValues and stats equal brute force", () => {
  for (const seed of [11, 12, 13]) {
    const rng = new Prng(seed);
    const idx = new PostingsIndex();
    const oracle = new Oracle();
    for (let ref = 0; ref < 400; ref++) {
      const ls = randomLabels(rng, VALUES.length);
      idx.add(ref, ls);
      oracle.series.set(ref, ls);
    }
    for (let i = 0; i < 150; i++) {
      const ref = rng.int(0, 399);
      idx.remove(ref);
      oracle.series.delete(ref);
    }
    const all = [...oracle.series.values()];
    const namesOf = (sets: Labels[]) =>
      [...new Set(sets.flatMap((ls) => ls.map((l) => l.name)))].sort(
        compareStrings,
      );
    const valuesOf = (sets: Labels[], name: string) =>
      [...new Set(sets.map((ls) => getLabel(ls, name)).filter((v) => v !== ""))]
        .sort(
          compareStrings,
        );
    assert.deepEqual(idx.labelNames(), namesOf(all), `seed ${seed}`);
    for (const name of [...NAMES, "missing"]) {
      assert.deepEqual(
        idx.labelValues(name),
        valuesOf(all, name),
        `seed ${seed} ${name}`,
      );
    }
    for (let q = 0; q < 30; q++) {
      const ms = [randomMatcher(rng), newMatcher("=~", rng.pick(NAMES), ".+")];
      const refs = idx.select(ms);
      const sets = oracle.select(ms).map((r) => oracle.series.get(r)!);
      assert.deepEqual(
        idx.labelNames(refs),
        namesOf(sets),
        `seed ${seed}: ${fmt(ms)}`,
      );
      const name = rng.pick(NAMES);
      assert.deepEqual(
        idx.labelValues(name, refs),
        valuesOf(sets, name),
        `seed ${seed}: ${fmt(ms)} ${name}`,
      );
    }
    const stats = idx.stats(1000);
    assert.equal(stats.numSeries, all.length);
    const countBy = (key: (ls: Labels) => string[]) => {
      const m = new Map<string, number>();
      for (const ls of all) {
        for (const k of key(ls)) m.set(k, (m.get(k) ?? 0) + 1);
      }
      return m;
    };
    const metric = countBy((ls) => {
      const v = getLabel(ls, "__name__");
      return v ? [v] : [];
    });
    assert.deepEqual(
      new Map(stats.seriesCountByMetricName.map((e) => [e.name, e.value])),
      metric,
      `seed ${seed}`,
    );
    const pairs = countBy((ls) => ls.map((l) => `${l.name}=${l.value}`));
    assert.deepEqual(
      new Map(stats.seriesCountByLabelValuePair.map((e) => [e.name, e.value])),
      pairs,
    );
    const valueCounts = new Map(
      namesOf(all).map((n) => [n, valuesOf(all, n).length]),
    );
    assert.deepEqual(
      new Map(stats.labelValueCountByLabelName.map((e) => [e.name, e.value])),
      valueCounts,
    );
    const enc = new TextEncoder();
    const bytes = new Map(
      namesOf(all).map((
        n,
      ) => [n, valuesOf(all, n).reduce((s, v) => s + enc.encode(v).length, 0)]),
    );
    assert.deepEqual(
      new Map(stats.memoryInBytesByLabelName.map((e) => [e.name, e.value])),
      bytes,
    );
    // Sorted by count descending, ties by name.
    const list = stats.seriesCountByLabelValuePair;
    for (let i = 1; i < list.length; i++) {
      assert.ok(
        list[i - 1].value > list[i].value ||
          (list[i - 1].value === list[i].value &&
            compareStrings(list[i - 1].name, list[i].name) < 0),
      );
    }
  }
});
