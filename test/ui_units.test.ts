// The query page's pure parts in Deno: URL state, history, the raw reads
// of an expression, the chunk stream decode (against the samples the
// chunks were encoded from), the JSON comparison, axis ticks and paths.
import assert from "node:assert/strict";
import { encodeChunks, loadEngine } from "../src/bindings/mod.ts";
import { encodeFrame } from "../src/codec/chunked_stream.ts";
import {
  ChunkEncoding,
  encodeChunkedReadResponse,
} from "../src/codec/prompb.ts";
import { Prng } from "../src/util/prng.ts";
import {
  apiTime,
  DEFAULT_STATE,
  effectiveStep,
  formatDuration,
  fromSearch,
  parseDuration,
  toSearch,
} from "../src/server/ui/state.ts";
import {
  HISTORY_LIMIT,
  loadHistory,
  remember,
} from "../src/server/ui/history.ts";
import {
  analyse,
  errorPosition,
  jsonEquivalent,
  LOOKBACK_MS,
} from "../src/server/ui/selectors.ts";
import { decodeStream } from "../src/server/ui/remote_read.ts";
import { compareRaw, matrixToRaw } from "../src/server/ui/raw_json.ts";
import { nearestIndex, niceTicks, timeTicks } from "../src/server/ui/scale.ts";
import { pathData } from "../src/server/ui/chart.ts";
import { seriesName } from "../src/server/ui/format.ts";

/** A Storage over a Map (Deno's localStorage would persist). */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

Deno.test("ui state: durations and URL round trips", async (t) => {
  await t.step("durations", () => {
    const cases: [string, number | null][] = [
      ["1h", 3_600_000],
      ["1h30m", 5_400_000],
      ["500ms", 500],
      ["2w", 1_209_600_000],
      ["", null],
      ["0s", null],
      ["1x", null],
      ["h", null],
      ["1h 5m", null],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 90_061_001]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
    }
  });
  await t.step("URL state", () => {
    const rng = new Prng(0x51a7e);
    for (let i = 0; i < 200; i++) {
      const state = {
        expr: rng.pick(["", "up", 'sum(x{a="b&c"}) / 2', "a\nor b", "é ? #"]),
        mode: rng.pick(["instant", "range"] as const),
        rangeMs: rng.int(1, 1e6) * 1000,
        endMs: rng.float() < 0.5 ? null : 1.7e12 + rng.int(0, 1e9),
        stepMs: rng.float() < 0.5 ? null : rng.int(1, 3600) * 1000,
      };
      assert.deepEqual(
        fromSearch(toSearch(state)),
        state,
        `seed 0x51a7e #${i}`,
      );
    }
    assert.equal(toSearch(DEFAULT_STATE), "");
    // Bad values never break the page; Prometheus' g0.expr links work.
    assert.deepEqual(fromSearch("?mode=x&range=zz&end=nope&step=-1"), {
      ...DEFAULT_STATE,
    });
    assert.equal(fromSearch("?g0.expr=up").expr, "up");
    assert.equal(fromSearch("?end=1700000000.5").endMs, 1_700_000_000_500);
  });
  await t.step("steps and API times", () => {
    assert.equal(
      effectiveStep({ ...DEFAULT_STATE, rangeMs: 3_600_000 }),
      15_000,
    );
    assert.equal(effectiveStep({ ...DEFAULT_STATE, rangeMs: 60_000 }), 1000);
    assert.equal(effectiveStep({ ...DEFAULT_STATE, stepMs: 7000 }), 7000);
    assert.equal(apiTime(1_700_000_000_123), "1700000000.123");
  });
});

Deno.test("ui history: newest first, unique, bounded, robust", () => {
  const s = memoryStorage();
  assert.deepEqual(loadHistory(s), []);
  remember(s, "a");
  remember(s, "b");
  assert.deepEqual(remember(s, " a "), ["a", "b"]);
  assert.deepEqual(remember(s, "  "), ["a", "b"]);
  for (let i = 0; i < 80; i++) remember(s, `q${i}`);
  const list = loadHistory(s);
  assert.equal(list.length, HISTORY_LIMIT);
  assert.equal(list[0], "q79");
  s.setItem("tidemark.history", "{not json");
  assert.deepEqual(loadHistory(s), []);
  s.setItem("tidemark.history", '["x", 3, null]');
  assert.deepEqual(loadHistory(s), ["x"]);
});

Deno.test("ui selectors: the raw reads of an expression", () => {
  const start = 1_700_000_000_000;
  const end = start + 3_600_000;
  const plain = analyse('up{job="a"}', start, end);
  assert.equal(plain.plainSelector, true);
  assert.deepEqual(plain.reads, [{
    text: 'up{job="a"}',
    matchers: [
      { type: 0, name: "job", value: "a" },
      { type: 0, name: "__name__", value: "up" },
    ],
    start,
    end,
  }]);
  const expr = analyse(
    'rate(x[5m] offset 1m) / on() y{a=~"b.*"} + rate(x[5m] offset 1m)',
    start,
    end,
  );
  assert.equal(expr.plainSelector, false);
  assert.deepEqual(
    expr.reads.map((r) => [r.text, r.start, r.end, r.matchers[0].type]),
    [
      ["x", start - 300_000 + 1 - 60_000, end - 60_000, 0],
      ['y{a=~"b.*"}', start - LOOKBACK_MS, end, 2],
    ],
    "the identical x[5m] offset 1m read is fetched once",
  );
  assert.deepEqual(
    analyse("max_over_time(up[1h:1m])", start, end).notes,
    ["subquery windows are not widened"],
  );
  assert.equal(
    jsonEquivalent(plain.reads[0]),
    `{job="a",__name__="up"}[3600001ms] @ ${(end / 1000).toFixed(3)}`,
  );
  assert.throws(() => analyse("sum(", start, end));
  try {
    analyse("a +\n  (", start, end);
  } catch (e) {
    assert.deepEqual(errorPosition(e), { line: 2, column: 4 });
  }
  assert.deepEqual(
    errorPosition(new Error('invalid parameter "query": 1:19: parse error: x')),
    { line: 1, column: 19 },
  );
  assert.equal(errorPosition(new Error("timeout")), null);
});

Deno.test("ui decodeStream: frames of XOR chunks back to the samples", async () => {
  const engine = await loadEngine();
  const rng = new Prng(0xdec0);
  const t0 = 1_700_000_000_000;
  const series = [0, 1, 2].map((k) => {
    const n = rng.int(1, 500);
    const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * 10_000 + k);
    const values = Float64Array.from({ length: n }, () => rng.normal() * 100);
    return { labels: { __name__: "m", k: String(k) }, ts, values };
  });
  const read = {
    text: "m",
    matchers: [],
    start: t0 + 50_000,
    end: t0 + 3_000_000,
  };
  // Series 1 is split over two frames, as a server splits big series.
  const frames: Uint8Array[] = [];
  for (const s of series) {
    const chunks = encodeChunks(engine, s.ts, s.values, 120);
    const pieces = s.labels.k === "1"
      ? [chunks.slice(0, 1), chunks.slice(1)]
      : [chunks];
    for (const piece of pieces) {
      frames.push(encodeFrame(encodeChunkedReadResponse({
        queryIndex: 0,
        chunkedSeries: [{
          labels: Object.entries(s.labels).map(([name, value]) => ({
            name,
            value,
          })),
          chunks: piece.map((data) => ({
            minTimeMs: 0,
            maxTimeMs: 0,
            type: ChunkEncoding.XOR,
            data,
          })),
        }],
      })));
    }
  }
  const body = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    body.set(f, at);
    at += f.length;
  }
  const got = decodeStream(engine, body, [read]);
  assert.equal(got.frames, frames.length);
  const expected = series.map((s) => {
    const keep = [...s.ts.keys()].filter((i) =>
      s.ts[i] >= read.start && s.ts[i] <= read.end
    );
    return {
      labels: s.labels,
      timestamps: Float64Array.from(keep, (i) => s.ts[i]),
      values: Float64Array.from(keep, (i) => s.values[i]),
    };
  }).filter((s) => s.values.length > 0 || true);
  assert.deepEqual(got.results[0], expected, "seed 0xdec0");
  assert.equal(
    got.samples,
    expected.reduce((n, s) => n + s.values.length, 0),
  );
  assert.deepEqual(compareRaw(got.results[0], expected), {
    equal: true,
    series: 3,
    samples: got.samples,
  });
  // A flipped bit fails the frame's CRC-32C.
  const bad = body.slice();
  bad[bad.length - 3] ^= 1;
  assert.throws(() => decodeStream(engine, bad, [read]), /checksum/);
  assert.throws(
    () => decodeStream(engine, body.subarray(0, 9), [read]),
    /truncated/,
  );
});

Deno.test("ui compareRaw: every kind of difference is found", () => {
  const json = matrixToRaw([
    { metric: { a: "1" }, values: [[1.5, "2"], [3, "NaN"], [4, "+Inf"]] },
  ]);
  assert.deepEqual([...json[0].timestamps], [1500, 3000, 4000]);
  const same = [{
    labels: { a: "1" },
    timestamps: new Float64Array([1500, 3000, 4000]),
    values: new Float64Array([2, NaN, Infinity]),
  }];
  assert.equal(compareRaw(same, json).equal, true);
  const variants = [
    { ...same[0], labels: { a: "2" } },
    { ...same[0], values: new Float64Array([2, NaN, -Infinity]) },
    { ...same[0], timestamps: new Float64Array([1500, 3001, 4000]) },
    {
      ...same[0],
      values: new Float64Array([2, NaN]),
      timestamps: new Float64Array([1500, 3000]),
    },
  ];
  for (const v of variants) {
    const r = compareRaw([v], json);
    assert.equal(r.equal, false, JSON.stringify(r));
    assert.ok(r.difference);
  }
  assert.equal(compareRaw([], json).equal, false);
});

Deno.test("ui scale and paths", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-3, 97, 5), [0, 20, 40, 60, 80]);
  assert.deepEqual(niceTicks(0.1, 0.3, 2), [0.1, 0.2, 0.3]);
  const rng = new Prng(0x71c);
  for (let i = 0; i < 300; i++) {
    const a = rng.normal() * 10 ** rng.int(-6, 9);
    const b = a + Math.abs(rng.normal()) * 10 ** rng.int(-6, 9) + 1e-3;
    const ticks = niceTicks(a, b);
    assert.ok(
      ticks.length >= 1 && ticks.length <= 11,
      `seed 0x71c #${i}: ${ticks}`,
    );
    const tol = (b - a) * 1e-6;
    for (const x of ticks) {
      assert.ok(x >= a - tol && x <= b + tol, `seed 0x71c #${i}: ${x}`);
    }
  }
  const tt = timeTicks(1_700_000_000_000, 1_700_003_600_000, 6);
  assert.ok(tt.every((t) => t % 600_000 === 0 || t % 900_000 === 0));
  assert.ok(tt.length >= 3 && tt.length <= 7);
  const ts = new Float64Array([10, 20, 30]);
  assert.deepEqual([0, 14, 15, 16, 29, 99].map((t) => nearestIndex(ts, t)), [
    0,
    0,
    0,
    1,
    2,
    2,
  ]);
  assert.equal(nearestIndex(new Float64Array(), 1), -1);
  const d = pathData(
    {
      name: "x",
      timestamps: new Float64Array([0, 1, 2, 10, 11, 12]),
      values: new Float64Array([1, 2, NaN, 4, 5, 6]),
    },
    3,
    (t) => t,
    (v) => v,
  );
  // NaN and the 8-unit gap both lift the pen.
  assert.equal(d, "M0.0,1.0h0.01L1.0,2.0M10.0,4.0h0.01L11.0,5.0L12.0,6.0");
  assert.equal(
    seriesName({ __name__: "up", b: "2", a: "1" }),
    'up{a="1", b="2"}',
  );
  assert.equal(seriesName({ __name__: "up" }), "up");
  assert.equal(seriesName({}), "{}");
});
