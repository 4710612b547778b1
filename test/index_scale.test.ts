/**
 * Scale check of PostingsIndex on node_exporter-like series (the label sets
 * of bench/data/generator.ts, with instances scaled up): bytes per series
 * and select latency, with results checked against counts known from the
 * workload's shape. 100k series by default; set INDEX_SCALE_SERIES=1000000
 * (and run with --v8-flags=--expose-gc for a clean heap figure) to measure
 * at 1M.
 */
import assert from "node:assert/strict";
import { generateWorkload } from "../bench/data/generator.ts";
import { labelsFrom } from "../src/model/labels.ts";
import { type Matcher, newMatcher } from "../src/model/matcher.ts";
import { PostingsIndex } from "../src/storage/index/postings.ts";

const N = Number(Deno.env.get("INDEX_SCALE_SERIES") ?? 100_000);

Deno.test(`index at ${N} node_exporter-like series: memory and select latency`, () => {
  const base = generateWorkload({ instances: 1, durationMs: 15_000 }).map((s) =>
    s.labels
  );
  const perInstance = base.length; // 100
  const instances = Math.ceil(N / perInstance);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const before = Deno.memoryUsage();
  const idx = new PostingsIndex();
  const t0 = performance.now();
  let ref = 0;
  for (let i = 0; i < instances; i++) {
    const instance = `host-${i}:9100`;
    for (const l of base) idx.add(ref++, labelsFrom({ ...l, instance }));
  }
  const addMs = performance.now() - t0;
  gc?.();
  gc?.();
  const after = Deno.memoryUsage();
  const measured = after.heapUsed + after.external - before.heapUsed -
    before.external;
  const series = idx.numSeries;
  assert.equal(series, instances * perInstance);

  // Instances whose name starts with host-1: 1, 10-19, 100-199, ...
  let host1 = 0;
  for (let i = 0; i < instances; i++) if (String(i).startsWith("1")) host1++;
  const timed = (ms: Matcher[], want: number) => {
    let out = idx.select(ms);
    const reps = 10;
    const t = performance.now();
    for (let i = 0; i < reps; i++) out = idx.select(ms);
    assert.equal(out.length, want, ms.map(String).join(", "));
    return (performance.now() - t) / reps;
  };
  const q1 = timed([
    newMatcher("=", "__name__", "node_load1"),
    newMatcher("=~", "instance", "host-1.*"),
  ], host1);
  const q2 = timed([
    newMatcher("=", "__name__", "node_cpu_seconds_total"),
    newMatcher("=~", "instance", "host-1.*"),
    newMatcher("=", "mode", "idle"),
  ], host1 * 2);
  const q3 = timed([newMatcher("=", "instance", "host-7:9100")], perInstance);
  const q4 = timed([
    newMatcher("=~", "__name__", "node_network_.*"),
    newMatcher("!~", "device", "lo|eth1"),
  ], instances * 5);
  console.log(
    `${series} series: add ${(addMs * 1e6 / series).toFixed(0)} ns/series; ` +
      `heap+external ${(measured / series).toFixed(1)} B/series` +
      `${gc ? "" : " (no --expose-gc: noisy)"}, estimate ${
        (idx.memoryBytes() / series).toFixed(1)
      } B/series; ` +
      `select name+instance=~ ${q1.toFixed(3)} ms, +mode ${
        q2.toFixed(3)
      } ms, ` +
      `instance= ${q3.toFixed(3)} ms, name=~ & device!~ ${q4.toFixed(3)} ms`,
  );
  // Budget: a generous bound on the index's own estimate (measured ~50 B/series).
  assert.ok(idx.memoryBytes() / series < 120, "index bytes per series");
});
