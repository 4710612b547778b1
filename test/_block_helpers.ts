// Shared helpers for the block tests: matchers (the real matcher module is
// written in parallel; tests need only `matches`), workload series encoded
// as XOR chunks, and temp dirs.
import type { Engine } from "../src/bindings/engine.ts";
import { encodeChunks } from "../src/bindings/xor.ts";
import { labelsFrom } from "../src/model/labels.ts";
import type { Matcher, MatchType } from "../src/model/matcher.ts";
import type { BlockSeriesInput } from "../src/storage/block/mod.ts";
import type { GeneratedSeries } from "../bench/data/generator.ts";

/** A matcher with anchored regular expressions, as Prometheus has them. */
export function matcher(type: MatchType, name: string, value: string): Matcher {
  const re = new RegExp(`^(?:${value})$`, "s");
  const test = (v: string): boolean => {
    switch (type) {
      case "=":
        return v === value;
      case "!=":
        return v !== value;
      case "=~":
        return re.test(v);
      case "!~":
        return !re.test(v);
    }
  };
  return { type, name, value, matches: test };
}

/** A generated series as block input: XOR chunks of ≤120 samples. */
export function toBlockSeries(
  engine: Engine,
  s: GeneratedSeries,
): BlockSeriesInput {
  const data = encodeChunks(engine, s.timestamps, s.values);
  let at = 0;
  const chunks = data.map((d) => {
    const n = (d[0] << 8) | d[1];
    const c = {
      minTime: s.timestamps[at],
      maxTime: s.timestamps[at + n - 1],
      data: d,
    };
    at += n;
    return c;
  });
  return { labels: labelsFrom(s.labels), chunks };
}

/** Runs `fn` with a fresh temp dir, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tidemark-block-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** float64 bits of each value, so NaN payloads compare exactly. */
export function bitsOf(values: Float64Array): BigUint64Array {
  return new BigUint64Array(
    values.buffer.slice(
      values.byteOffset,
      values.byteOffset + values.byteLength,
    ),
  );
}
