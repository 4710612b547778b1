/** Table tests of PostingsIndex (Prometheus selection semantics) and its sorted-set operations. */
import assert from "node:assert/strict";
import { labelsFrom } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { IndexError, PostingsIndex } from "../src/storage/index/postings.ts";
import {
  intersect,
  subtract,
  union2,
  unionMany,
} from "../src/storage/index/sorted.ts";
import { Prng } from "../src/util/prng.ts";

function build(): PostingsIndex {
  const idx = new PostingsIndex();
  const sets: Record<string, string>[] = [
    /* 0 */ {
      __name__: "http_requests_total",
      job: "api",
      method: "GET",
      environment: "staging",
    },
    /* 1 */ {
      __name__: "http_requests_total",
      job: "api",
      method: "POST",
      environment: "testing",
    },
    /* 2 */ {
      __name__: "http_requests_total",
      job: "web",
      method: "GET",
      environment: "production",
    },
    /* 3 */ {
      __name__: "http_requests_total",
      job: "web",
      environment: "development",
    },
    /* 4 */ { __name__: "up", job: "api" },
    /* 5 */ { __name__: "up", job: "web", foo: "bar" },
    /* 6 */ { __name__: "job:rate5m", job: "api" },
  ];
  sets.forEach((s, ref) => idx.add(ref, labelsFrom(s)));
  return idx;
}

const m = newMatcher;

Deno.test("index: Prometheus selection semantics", async (t) => {
  const idx = build();
  const sel = (...ms: ReturnType<typeof m>[]) => [...idx.select(ms)];
  await t.step("equality and regex", () => {
    assert.deepEqual(sel(m("=", "__name__", "http_requests_total")), [
      0,
      1,
      2,
      3,
    ]);
    assert.deepEqual(
      sel(
        m("=", "__name__", "http_requests_total"),
        m("=~", "environment", "staging|testing|development"),
        m("!=", "method", "GET"),
      ),
      [1, 3], // a missing method is "" and differs from GET
    );
    assert.deepEqual(sel(m("=~", "__name__", "job:.*")), [6]);
    assert.deepEqual(
      sel(m("=~", "job", "ap")),
      [],
      "anchored: ap does not match api",
    );
    assert.deepEqual(sel(m("=~", "job", "(?i)API")), [0, 1, 4, 6]);
    assert.deepEqual(sel(m("=", "job", "nope")), []);
    assert.deepEqual(sel(m("=", "nolabel", "x")), []);
  });
  await t.step("empty values mean a missing label", () => {
    assert.deepEqual(
      sel(m("=", "job", "web"), m("=", "foo", "")),
      [2, 3],
      '{foo=""}: without foo',
    );
    assert.deepEqual(sel(m("!=", "foo", "")), [5], '{foo!=""}: with foo');
    assert.deepEqual(sel(m("=~", "foo", ".+")), [5]);
    assert.deepEqual(sel(m("=", "job", "web"), m("!~", "foo", ".+")), [2, 3]);
    assert.deepEqual(sel(m("=", "job", "api"), m("=~", "method", "GET|")), [
      0,
      4,
      6,
    ]);
    assert.deepEqual(sel(m("=", "job", "api"), m("=~", "nolabel", ".*")), [
      0,
      1,
      4,
      6,
    ]);
    assert.deepEqual(sel(m("=", "job", "api"), m("!~", "nolabel", "x")), [
      0,
      1,
      4,
      6,
    ]);
  });
  await t.step(
    "a selector needs one matcher that excludes the empty string",
    () => {
      for (
        const ms of [
          [m("=~", "job", ".*")],
          [m("=", "foo", "")],
          [m("!=", "job", "api")],
          [m("!~", "job", ".+"), m("=~", "x", "a|")],
          [],
        ]
      ) {
        assert.throws(
          () => idx.select(ms),
          (e: unknown) =>
            e instanceof IndexError &&
            e.message ===
              "vector selector must contain at least one non-empty matcher",
        );
      }
      assert.deepEqual(sel(m("=~", "job", ".*"), m("=", "method", "GET")), [
        0,
        2,
      ]);
    },
  );
  await t.step("labels, names and values", () => {
    assert.deepEqual(
      idx.labels(5),
      labelsFrom({ __name__: "up", job: "web", foo: "bar" }),
    );
    assert.equal(idx.labels(99), undefined);
    assert.equal(idx.labelValue(1, "method"), "POST");
    assert.equal(idx.labelValue(4, "method"), "");
    assert.deepEqual(idx.labelNames(), [
      "__name__",
      "environment",
      "foo",
      "job",
      "method",
    ]);
    assert.deepEqual(idx.labelValues("job"), ["api", "web"]);
    assert.deepEqual(
      idx.labelValues("method", idx.select([m("=", "job", "web")])),
      ["GET"],
    );
    assert.deepEqual(idx.labelNames(new Uint32Array([4, 6])), [
      "__name__",
      "job",
    ]);
    assert.deepEqual(idx.labelValues("nolabel"), []);
  });
});

Deno.test("index: removal, pair recycling and ref re-use", () => {
  const idx = build();
  assert.equal(idx.remove(5), true);
  assert.equal(idx.remove(5), false);
  assert.equal(idx.remove(1234), false);
  assert.equal(idx.numSeries, 6);
  assert.deepEqual(
    idx.labelNames().includes("foo"),
    false,
    "foo's last series is gone",
  );
  assert.deepEqual([...idx.select([m("=", "__name__", "up")])], [4]);
  assert.deepEqual(idx.labelValues("method"), ["GET", "POST"]);
  idx.remove(1);
  assert.deepEqual(idx.labelValues("method"), ["GET"]);
  // The removed ref comes back with other labels: its old postings must not leak.
  idx.add(5, labelsFrom({ __name__: "down", job: "db" }));
  assert.deepEqual([...idx.select([m("=", "__name__", "up")])], [4]);
  assert.deepEqual([...idx.select([m("=", "job", "db")])], [5]);
  assert.deepEqual([...idx.select([m("=", "job", "web")])], [2, 3]);
  assert.throws(() => idx.add(5, labelsFrom({ a: "b" })), IndexError);
  assert.throws(() => idx.add(-1, labelsFrom({ a: "b" })), RangeError);
  assert.throws(() => idx.add(1.5, labelsFrom({ a: "b" })), RangeError);
  // Out-of-order adds keep postings sorted.
  idx.add(3000, labelsFrom({ job: "db" }));
  idx.add(2000, labelsFrom({ job: "db" }));
  assert.deepEqual([...idx.select([m("=", "job", "db")])], [5, 2000, 3000]);
  const st = idx.stats(2);
  assert.equal(st.numSeries, 8);
  // Three pairs have 3 series each (refs 0,2,3 / 0,4,6 / 5,2000,3000): ties go by name.
  assert.deepEqual(st.seriesCountByLabelValuePair, [
    { name: "__name__=http_requests_total", value: 3 },
    { name: "job=api", value: 3 },
  ]);
});

Deno.test("index: many removals compact the arena and the lists", () => {
  const idx = new PostingsIndex();
  for (let ref = 0; ref < 20_000; ref++) {
    idx.add(ref, labelsFrom({ __name__: `m${ref % 7}`, i: `${ref % 100}` }));
  }
  for (let ref = 0; ref < 20_000; ref++) if (ref % 4 !== 0) idx.remove(ref);
  assert.equal(idx.numSeries, 5000);
  const got = [...idx.select([m("=", "__name__", "m3")])];
  const want: number[] = [];
  for (let ref = 0; ref < 20_000; ref += 4) if (ref % 7 === 3) want.push(ref);
  assert.deepEqual(got, want);
  for (let ref = 0; ref < 20_000; ref += 4) {
    assert.deepEqual(
      idx.labels(ref),
      labelsFrom({ __name__: `m${ref % 7}`, i: `${ref % 100}` }),
    );
  }
});

Deno.test("sorted set operations equal Set arithmetic", () => {
  const seed = 5;
  const rng = new Prng(seed);
  const randomSorted = (n: number, max: number) =>
    Uint32Array.from(new Set(Array.from({ length: n }, () => rng.int(0, max))))
      .sort();
  for (let i = 0; i < 400; i++) {
    const max = rng.pick([10, 1000, 100_000]);
    // Sizes from equal to 1:1000, to take both merge and gallop branches.
    const a = randomSorted(rng.int(0, 50), max);
    const b = randomSorted(rng.pick([0, 5, 50, 5000]), max);
    const sa = new Set(a);
    const sb = new Set(b);
    const sorted = (xs: Iterable<number>) => [...xs].sort((x, y) => x - y);
    assert.deepEqual(
      [...intersect(a, b)],
      sorted([...sa].filter((x) => sb.has(x))),
      `seed ${seed} case ${i}`,
    );
    assert.deepEqual(
      [...intersect(b, a)],
      sorted([...sa].filter((x) => sb.has(x))),
    );
    assert.deepEqual(
      [...subtract(a, b)],
      sorted([...sa].filter((x) => !sb.has(x))),
      `seed ${seed} case ${i}`,
    );
    assert.deepEqual(
      [...subtract(b, a)],
      sorted([...sb].filter((x) => !sa.has(x))),
      `seed ${seed} case ${i}`,
    );
    assert.deepEqual([...union2(a, b)], sorted(new Set([...sa, ...sb])));
    const lists = Array.from(
      { length: rng.int(0, 9) },
      () => randomSorted(rng.int(0, 300), max),
    );
    const all = sorted(new Set(lists.flatMap((l) => [...l])));
    assert.deepEqual(
      [...unionMany(lists, max)],
      all,
      `seed ${seed} case ${i}: unionMany`,
    );
    assert.deepEqual(
      [...unionMany(lists, max * 1000)],
      all,
      `seed ${seed} case ${i}: sparse`,
    );
  }
});
