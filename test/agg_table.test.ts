// Hand-computed cases written from docs/format/agg.md, each run through the
// reference implementation and through the engine (bindings), expecting the
// same numbers (Object.is: -0 differs from +0, NaN equals NaN).
import assert from "node:assert/strict";
import { loadEngine } from "../src/bindings/engine.ts";
import { EngineError, ERR_ARG } from "../src/bindings/errors.ts";
import {
  aggregateBuckets,
  BUCKET_FIELDS,
  type BucketAggregates,
} from "../src/bindings/agg.ts";
import { referenceAggregate } from "../src/reference/agg.ts";

const engine = await loadEngine();
const N = NaN;
const S = "stale"; // Prometheus' stale marker (a NaN with bits 0x7ff0000000000002)
const INF = Infinity;

type Value = number | typeof S;
type Expected = Record<(typeof BUCKET_FIELDS)[number], number[]>;

function values(vs: Value[]): Float64Array {
  const out = new Float64Array(vs.length);
  const bits = new BigUint64Array(out.buffer);
  vs.forEach((v, i) => {
    if (v === S) bits[i] = 0x7ff0000000000002n;
    else out[i] = v;
  });
  return out;
}

const implementations: [
  string,
  (
    ts: Float64Array,
    vs: Float64Array,
    start: number,
    end: number,
    step: number,
  ) => BucketAggregates,
][] = [
  ["reference", referenceAggregate],
  ["engine", (...a) => aggregateBuckets(engine, ...a)],
];

interface Case {
  name: string;
  grid: [number, number, number];
  ts: number[];
  values: Value[];
  want: Expected;
}

/** Expected fields for buckets holding nothing. */
function empty(n: number): Expected {
  return {
    count: Array(n).fill(0),
    sum: Array(n).fill(0),
    min: Array(n).fill(N),
    max: Array(n).fill(N),
    first: Array(n).fill(N),
    last: Array(n).fill(N),
    increase: Array(n).fill(0),
  };
}

const cases: Case[] = [
  {
    name: "no samples: three empty buckets",
    grid: [0, 30, 10],
    ts: [],
    values: [],
    want: empty(3),
  },
  {
    name: "start == end: no buckets",
    grid: [5, 5, 10],
    ts: [1, 5, 6],
    values: [1, 2, 3],
    want: empty(0),
  },
  {
    name: "step not dividing the range: partial last bucket, end exclusive",
    grid: [0, 25, 10],
    ts: [0, 9, 10, 24, 25],
    values: [1, 2, 3, 4, 5],
    want: {
      count: [2, 1, 1],
      sum: [3, 3, 4],
      min: [1, 3, 4],
      max: [2, 3, 4],
      first: [1, 3, 4],
      last: [2, 3, 4],
      increase: [1, 1, 1], // first sample ever has no prev
    },
  },
  {
    name: "the last sample before start is the baseline",
    grid: [0, 20, 10],
    ts: [-7, -5, 5, 15],
    values: [1, 10, 12, 20],
    want: {
      count: [1, 1],
      sum: [12, 20],
      min: [12, 20],
      max: [12, 20],
      first: [12, 20],
      last: [12, 20],
      increase: [2, 8],
    },
  },
  {
    name: "a reset adds the new value (restart from 0)",
    grid: [0, 40, 10],
    ts: [0, 10, 20, 30],
    values: [5, 8, 2, 4],
    want: {
      count: [1, 1, 1, 1],
      sum: [5, 8, 2, 4],
      min: [5, 8, 2, 4],
      max: [5, 8, 2, 4],
      first: [5, 8, 2, 4],
      last: [5, 8, 2, 4],
      increase: [0, 3, 2, 2],
    },
  },
  {
    name: "a delta across a boundary belongs to the later bucket",
    grid: [0, 30, 10],
    ts: [9, 10, 25],
    values: [1, 4, 4],
    want: {
      count: [1, 1, 1],
      sum: [1, 4, 4],
      min: [1, 4, 4],
      max: [1, 4, 4],
      first: [1, 4, 4],
      last: [1, 4, 4],
      increase: [0, 3, 0],
    },
  },
  {
    name: "samples at and after end are ignored; empty middle bucket",
    grid: [0, 30, 10],
    ts: [0, 5, 25, 30, 31],
    values: [0, 1, 7, 100, 200],
    want: {
      count: [2, 0, 1],
      sum: [1, 0, 7],
      min: [0, N, 7],
      max: [1, N, 7],
      first: [0, N, 7],
      last: [1, N, 7],
      increase: [1, 0, 6], // the delta 1 -> 7 lands in bucket 2
    },
  },
  {
    name: "stale markers are skipped and break the counter chain",
    grid: [0, 20, 10],
    ts: [0, 5, 10, 15, 19],
    values: [1, S, 4, 6, S],
    want: {
      count: [1, 2],
      sum: [1, 10],
      min: [1, 4],
      max: [1, 6],
      first: [1, 4],
      last: [1, 6],
      increase: [0, 2], // 4 has no prev; 6 - 4
    },
  },
  {
    name: "a stale marker before start removes the baseline",
    grid: [0, 10, 10],
    ts: [-2, -1, 5],
    values: [3, S, 7],
    want: {
      count: [1],
      sum: [7],
      min: [7],
      max: [7],
      first: [7],
      last: [7],
      increase: [0],
    },
  },
  {
    name: "a bucket of only stale markers is empty",
    grid: [0, 20, 10],
    ts: [1, 2, 11],
    values: [S, S, 3],
    want: {
      ...empty(2),
      count: [0, 1],
      sum: [0, 3],
      min: [N, 3],
      max: [N, 3],
      first: [N, 3],
      last: [N, 3],
    },
  },
  {
    name: "NaN values: sum NaN, min/max skip it, first/last keep it",
    grid: [0, 10, 10],
    ts: [0, 1, 2],
    values: [N, 3, 1],
    want: {
      count: [3],
      sum: [N],
      min: [1],
      max: [3],
      first: [N],
      last: [1],
      increase: [N], // 3 - NaN is NaN: the increase is unknown
    },
  },
  {
    name: "NaN in the counter chain poisons the next bucket's increase too",
    grid: [0, 30, 10],
    ts: [0, 5, 15, 25],
    values: [1, N, 2, 5],
    want: {
      count: [2, 1, 1],
      sum: [N, 2, 5],
      min: [1, 2, 5],
      max: [1, 2, 5],
      first: [1, 2, 5],
      last: [N, 2, 5],
      increase: [N, N, 3],
    },
  },
  {
    name: "a bucket of only NaN: min and max are NaN",
    grid: [0, 10, 10],
    ts: [0, 1],
    values: [N, N],
    want: {
      count: [2],
      sum: [N],
      min: [N],
      max: [N],
      first: [N],
      last: [N],
      increase: [N],
    },
  },
  {
    name: "equal timestamps all count, in input order",
    grid: [0, 1, 1],
    ts: [0, 0, 0],
    values: [1, 3, 2],
    want: {
      count: [3],
      sum: [6],
      min: [1],
      max: [3],
      first: [1],
      last: [2],
      increase: [4], // +2, then a reset to 2
    },
  },
  {
    name: "infinities",
    grid: [0, 20, 10],
    ts: [0, 1, 2, 10, 11],
    values: [1, INF, 2, INF, -INF],
    want: {
      count: [3, 2],
      sum: [INF, N],
      min: [1, -INF],
      max: [INF, INF],
      first: [1, INF],
      last: [2, -INF],
      // Inf - 1, then a reset to 2; Inf - 2, then a "reset" to -Inf.
      increase: [INF, N],
    },
  },
  {
    name: "signed zeros: min/max keep the earlier of -0 and +0",
    grid: [0, 20, 10],
    ts: [0, 1, 10],
    values: [0, -0, -0],
    want: {
      count: [2, 1],
      sum: [0, -0],
      min: [0, -0],
      max: [0, -0],
      first: [0, -0],
      last: [-0, -0],
      increase: [0, 0], // -0 - 0 is -0, added to +0: +0
    },
  },
  {
    name: "huge step: one bucket",
    grid: [0, 100, 2 ** 52],
    ts: [-1, 0, 99, 100],
    values: [1, 2, 3, 4],
    want: {
      count: [2],
      sum: [5],
      min: [2],
      max: [3],
      first: [2],
      last: [3],
      increase: [2],
    },
  },
  {
    name: "fractional timestamps fall by exact comparison",
    grid: [0, 20, 10],
    ts: [9.5, 9.999999999999998, 10],
    values: [1, 2, 3],
    want: {
      count: [2, 1],
      sum: [3, 3],
      min: [1, 3],
      max: [2, 3],
      first: [1, 3],
      last: [2, 3],
      increase: [1, 1],
    },
  },
  {
    name: "negative grid",
    grid: [-30, 0, 10],
    ts: [-INF, -30, -21, -20, -1, 0, INF],
    values: [1, 2, 3, 4, 5, 6, 7],
    want: {
      count: [2, 1, 1],
      sum: [5, 4, 5],
      min: [2, 4, 5],
      max: [3, 4, 5],
      first: [2, 4, 5],
      last: [3, 4, 5],
      increase: [2, 1, 1],
    },
  },
];

Deno.test("agg table", async (t) => {
  for (const c of cases) {
    for (const [impl, run] of implementations) {
      await t.step(`${impl}: ${c.name}`, () => {
        const got = run(new Float64Array(c.ts), values(c.values), ...c.grid);
        assert.equal(got.length, c.want.count.length, "bucket count");
        for (const f of BUCKET_FIELDS) {
          const ok = c.want[f].every((w, i) => Object.is(got[f][i], w));
          assert.ok(ok, `${f}: got [${got[f]}], want [${c.want[f]}]`);
        }
      });
    }
  }
});

const errorCases: {
  name: string;
  grid: [number, number, number];
  ts: number[];
}[] = [
  { name: "step 0", grid: [0, 10, 0], ts: [] },
  { name: "negative step", grid: [0, 10, -5], ts: [] },
  { name: "fractional step", grid: [0, 10, 2.5], ts: [] },
  { name: "NaN start", grid: [N, 10, 1], ts: [] },
  { name: "infinite end", grid: [0, INF, 1], ts: [] },
  { name: "end before start", grid: [10, 9, 1], ts: [] },
  { name: "unsafe start", grid: [2 ** 53, 2 ** 53, 1], ts: [] },
  { name: "span over 2^53 - 1", grid: [-(2 ** 52), 2 ** 52, 2 ** 40], ts: [] },
  { name: "unsorted timestamps", grid: [0, 10, 1], ts: [1, 3, 2] },
  { name: "unsorted after end", grid: [0, 10, 1], ts: [1, 30, 20] },
  { name: "unsorted before start", grid: [100, 110, 1], ts: [5, 3, 105] },
  { name: "NaN timestamp", grid: [0, 10, 1], ts: [1, N, 2] },
];

Deno.test("agg table: ERR_ARG", async (t) => {
  for (const c of errorCases) {
    for (const [impl, run] of implementations) {
      await t.step(`${impl}: ${c.name}`, () => {
        const ts = new Float64Array(c.ts);
        assert.throws(
          () => run(ts, new Float64Array(ts.length), ...c.grid),
          (e) => e instanceof EngineError && e.code === ERR_ARG,
        );
      });
    }
  }
});
