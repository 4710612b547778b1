// The same engine.wasm and bindings (bundled as build/engine.js) run in
// Chromium and give exactly what Deno gives: the page and Deno run the same
// check functions (test/browser/checks.js) on the same inputs, and every
// result must be equal bit for bit. Deno's results are also checked against
// the samples the chunks were encoded from.
import assert from "node:assert/strict";
import * as bindings from "../src/bindings/mod.ts";
import {
  encodeChunks,
  ERR_TRUNCATED,
  loadEngine,
} from "../src/bindings/mod.ts";
import { Prng } from "../src/util/prng.ts";
import { makeSeries, SHAPES, SPECIAL_BITS, toArrays } from "./_xor_series.ts";
import { launchChromium, serveStatic } from "./_browser.ts";
import * as checks from "./browser/checks.js";

const root = new URL("../", import.meta.url);
const GOLDEN_XOR = new URL("test/testdata/xor/golden.json", root);

type CheckName = Exclude<
  keyof typeof checks,
  "hexToBytes" | "wordsToHex"
>;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Reads a build output, failing with a hint when it is missing or stale. */
async function readBuildOutput(
  name: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const path = new URL(`build/${name}`, root);
  let built: Deno.FileInfo;
  try {
    built = await Deno.stat(path);
  } catch {
    throw new Error(
      `build/${name} is missing: run node scripts/build_wasm.mjs`,
    );
  }
  if (name.endsWith(".js")) {
    for await (const e of Deno.readDir(new URL("src/bindings/", root))) {
      const src = await Deno.stat(new URL(`src/bindings/${e.name}`, root));
      assert.ok(
        (src.mtime?.getTime() ?? 0) <= (built.mtime?.getTime() ?? 0),
        `build/${name} is older than src/bindings/${e.name}: run node scripts/build_wasm.mjs`,
      );
    }
  }
  return await Deno.readFile(path);
}

/** A labelled series of XOR chunks and, when known, the samples in them. */
interface ChunkSet {
  label: string;
  chunks: Uint8Array[];
  samples?: { ts: BigInt64Array; values: Float64Array };
}

/** Seeded synthetic series of every shape, plus one fixed set of extremes. */
function syntheticChunkSets(engine: bindings.Engine): ChunkSet[] {
  const sets: ChunkSet[] = [];
  for (const shape of SHAPES) {
    for (let k = 0; k < 3; k++) {
      const seed = 0xb0e5 + 101 * SHAPES.indexOf(shape) + k;
      const rng = new Prng(seed);
      const { ts, values } = toArrays(
        makeSeries(rng, shape, rng.int(1, 400)),
      );
      const per = rng.pick([1, 7, 120, 120, 250]);
      sets.push({
        label: `${shape} seed ${seed} (${ts.length} samples, ${per}/chunk)`,
        chunks: encodeChunks(engine, ts, values, per),
        samples: { ts, values },
      });
    }
  }
  // Every special value next to each other, at int64 extremes and with
  // deltas that wrap around.
  const edges = [
    -(1n << 63n),
    -(1n << 63n) + 1n,
    -1n,
    0n,
    1n,
    (1n << 53n) + 1n,
    1n << 62n,
    (1n << 63n) - 2n,
    (1n << 63n) - 1n,
    -(1n << 62n),
    1_700_000_000_000n,
    1_700_000_015_000n,
    1_700_000_030_000n,
  ];
  const bits = new BigUint64Array(edges.length * SPECIAL_BITS.length);
  const ts = new BigInt64Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    ts[i] = edges[i % edges.length];
    bits[i] = SPECIAL_BITS[i % SPECIAL_BITS.length];
  }
  const values = new Float64Array(bits.buffer);
  sets.push({
    label: "int64 extremes x special float bits",
    chunks: encodeChunks(engine, ts, values),
    samples: { ts, values },
  });
  // One long chunk (decoder buffers must grow).
  const rng = new Prng(0x10c);
  const long = toArrays(makeSeries(rng, "jitter", 5000));
  sets.push({
    label: "jitter seed 0x10c, 5000 samples in one chunk",
    chunks: encodeChunks(engine, long.ts, long.values, 5000),
    samples: long,
  });
  return sets;
}

/**
 * XOR chunks from test/testdata/xor/golden.json (real Prometheus output),
 * read defensively: every object with a `chunks` array anywhere in the file
 * is a series; its chunks are hex strings or objects with a hex `data`
 * field (objects with a `type` other than 1 = XOR are skipped). When the
 * series also lists `samples` as [decimal ms, 16 hex digits of float64
 * bits] pairs, they are the oracle for Deno's decode. Null when the file
 * does not exist.
 */
async function goldenChunkSets(): Promise<ChunkSet[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(GOLDEN_XOR);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const isHex = (s: unknown): s is string =>
    typeof s === "string" && s.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(s);
  const sets: ChunkSet[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    const series = node as Record<string, unknown>;
    if (Array.isArray(series.chunks)) {
      const chunks: Uint8Array[] = [];
      let allXor = true;
      for (const c of series.chunks) {
        const chunk = c as { data?: unknown; type?: unknown };
        const data = isHex(c) ? c : chunk?.data;
        if (!isHex(data)) continue;
        if (chunk?.type !== undefined && chunk.type !== 1) {
          allXor = false;
          continue;
        }
        chunks.push(checks.hexToBytes(data));
      }
      const label = `golden ${
        typeof series.name === "string" ? series.name : `series ${sets.length}`
      }`;
      if (chunks.length > 0) {
        sets.push({
          label,
          chunks,
          samples: allXor ? goldenSamples(series.samples) : undefined,
        });
      }
    }
    for (const value of Object.values(series)) walk(value);
  };
  walk(JSON.parse(text));
  assert.ok(
    sets.length > 0,
    `${GOLDEN_XOR.pathname} has no chunks with hex data: its format changed?`,
  );
  return sets;
}

/** [["<ms>", "<16 hex digits>"], ...] as arrays, or undefined if not that. */
function goldenSamples(
  samples: unknown,
): ChunkSet["samples"] {
  if (!Array.isArray(samples)) return undefined;
  const ts = new BigInt64Array(samples.length);
  const bits = new BigUint64Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (
      !Array.isArray(s) || typeof s[0] !== "string" ||
      !/^-?\d+$/.test(s[0]) || !isHex16(s[1])
    ) return undefined;
    ts[i] = BigInt(s[0]);
    bits[i] = BigInt(`0x${s[1]}`);
  }
  return { ts, values: new Float64Array(bits.buffer) };
}

function isHex16(s: unknown): s is string {
  return typeof s === "string" && /^[0-9a-fA-F]{16}$/.test(s);
}

Deno.test("engine.wasm in Chromium decodes exactly as in Deno", async (t) => {
  const wasm = await readBuildOutput("engine.wasm");
  const bundle = await readBuildOutput("engine.js");
  const engine = await loadEngine(wasm);
  const read = (p: string) => Deno.readFile(new URL(p, import.meta.url));

  await using server = serveStatic({
    "/": {
      body: await read("browser/engine.html"),
      contentType: "text/html; charset=utf-8",
    },
    "/engine.js": { body: bundle, contentType: "text/javascript" },
    "/checks.js": {
      body: await read("browser/checks.js"),
      contentType: "text/javascript",
    },
    "/engine.wasm": { body: wasm, contentType: "application/wasm" },
  });
  await using browser = await launchChromium();
  const { page } = browser;
  const failure = () =>
    browser.pageErrors.length ? `\n${browser.pageErrors.join("\n")}` : "";

  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() =>
    "harness" in globalThis || "harnessError" in globalThis
  );
  const loadError = await page.evaluate(() =>
    (globalThis as { harnessError?: string }).harnessError
  );
  assert.equal(loadError, undefined, `page failed to load: ${loadError}`);

  /** Runs one check in the page; the same check in Deno; returns both. */
  async function runBoth<N extends CheckName>(
    name: N,
    input: Parameters<(typeof checks)[N]>[2],
  ): Promise<{ deno: ReturnType<(typeof checks)[N]>; browser: unknown }> {
    const deno = (checks[name] as (...a: unknown[]) => unknown)(
      bindings,
      engine,
      input,
    ) as ReturnType<(typeof checks)[N]>;
    const inPage = await page.evaluate(
      ([n, i]) =>
        (globalThis as unknown as {
          harness: { run(n: string, i: unknown): unknown };
        }).harness.run(n, i),
      [name, input] as const,
    );
    return { deno, browser: inPage };
  }

  await t.step("loaded through WebAssembly.instantiateStreaming", async () => {
    const calls = await page.evaluate(() =>
      (globalThis as unknown as { harness: { streamingCalls(): number } })
        .harness.streamingCalls()
    );
    assert.equal(calls, 1, "the loader did not compile while streaming");
    const wasmReq = server.requests.filter((r) => r.path === "/engine.wasm");
    assert.deepEqual(wasmReq, [{
      path: "/engine.wasm",
      status: 200,
      contentType: "application/wasm",
    }]);
    assert.ok(
      server.requests.some((r) => r.path === "/engine.js" && r.status === 200),
      "the page did not load the bindings bundle",
    );
  });

  await t.step("same module: same exports and memory", async () => {
    const { deno, browser } = await runBoth("engineInfo", undefined);
    assert.ok(deno.exports.includes("xor_decode"));
    assert.deepEqual(browser, deno);
  });

  /** Decodes chunk sets in both places and compares chunk by chunk. */
  async function compareXor(sets: ChunkSet[]): Promise<number> {
    const input = sets.flatMap((s) => s.chunks.map(hex));
    const { deno, browser } = await runBoth("xorDecode", input);
    assert.ok(Array.isArray(browser) && browser.length === input.length);
    let at = 0;
    for (const set of sets) {
      const tsHex: string[] = [];
      const bitsHex: string[] = [];
      for (let c = 0; c < set.chunks.length; c++, at++) {
        assert.deepStrictEqual(
          browser[at],
          deno[at],
          `${set.label}: chunk ${c} (${input[at].length / 2} bytes) ` +
            `decodes differently in Chromium${failure()}`,
        );
        const exact = deno[at].exact;
        if (exact.ok) {
          tsHex.push(exact.result.timestamps);
          bitsHex.push(exact.result.valueBits);
        }
      }
      if (set.samples) {
        // Deno itself against the samples the chunks were made from.
        assert.equal(
          tsHex.join(""),
          checks.wordsToHex(set.samples.ts),
          `${set.label}: timestamps differ from the encoded samples`,
        );
        assert.equal(
          bitsHex.join(""),
          checks.wordsToHex(new BigUint64Array(set.samples.values.buffer)),
          `${set.label}: value bits differ from the encoded samples`,
        );
      }
    }
    return at;
  }

  await t.step("synthetic XOR chunks, bit for bit", async () => {
    const sets = syntheticChunkSets(engine);
    // The inputs really hold every special bit pattern (NaN payloads, stale
    // marker, -0, +-Inf, ...).
    const seen = new Set<bigint>();
    for (const s of sets) {
      for (const b of new BigUint64Array(s.samples!.values.buffer)) seen.add(b);
    }
    for (const b of SPECIAL_BITS) {
      assert.ok(seen.has(b), `no sample has bits ${b.toString(16)}`);
    }
    const decoded = await compareXor(sets);
    assert.ok(decoded > 50, `only ${decoded} chunks compared`);
  });

  const golden = await goldenChunkSets();
  await t.step({
    name: "golden Prometheus XOR chunks, bit for bit",
    ignore: golden === null,
    fn: async () => {
      assert.ok(golden!.some((s) => s.samples), "golden.json has no samples");
      await compareXor(golden!);
    },
  });

  await t.step("truncated and corrupt chunks: same EngineError", async () => {
    const rng = new Prng(0x7a11);
    const { ts, values } = toArrays(makeSeries(rng, "jitter", 90));
    // The Prometheus 3 layout has no trailing empty byte: every cut loses data.
    const full = encodeChunks(engine, ts, values, 120, {
      legacyPadding: false,
    })[0];
    const prefixes = Array.from(
      { length: full.length },
      (_, len) => hex(full.subarray(0, len)),
    );
    const corrupt = Array.from({ length: 200 }, () => {
      const c = full.slice();
      for (let k = rng.int(1, 3); k > 0; k--) {
        c[rng.int(0, c.length - 1)] ^= 1 << rng.int(0, 7);
      }
      return hex(c);
    });
    const { deno, browser } = await runBoth("xorDecode", [
      ...prefixes,
      ...corrupt,
    ]);
    for (let len = 0; len < prefixes.length; len++) {
      for (const path of ["exact", "f64"] as const) {
        const d = deno[len][path];
        assert.ok(
          !d.ok && d.engineError && d.code === ERR_TRUNCATED,
          `seed 0x7a11: Deno ${path} decode of ${len}/${full.length} bytes ` +
            `gave ${JSON.stringify(d)}`,
        );
      }
    }
    assert.deepStrictEqual(
      browser,
      deno,
      `seed 0x7a11: truncated/corrupt chunks differ in Chromium${failure()}`,
    );
  });

  await t.step("DDSketch, HyperLogLog and bucket aggregation", async () => {
    const rng = new Prng(0x5eed);
    const input = {
      values: Array.from(
        { length: 20_000 },
        () => (rng.float() < 0.1 ? -1 : 1) * Math.exp(4 * rng.normal()),
      ),
      strings: Array.from(
        { length: 5_000 },
        (_, i) => `user-${i % 3_000}-é${rng.int(0, 9)}`,
      ),
      timestamps: Array.from({ length: 2_000 }, (_, i) => 1e12 + i * 15_000),
      counter: Array.from({ length: 2_000 }, (_, i) => (i % 500) * 3),
    };
    const { deno, browser } = await runBoth("sketchesAndBuckets", input);
    // Deno's own results are real: the sketch is within 1% at p99, the
    // distinct count within 2%, the increase sums to the total.
    const sorted = input.values.slice().sort((a, b) => a - b);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))];
    assert.ok(Math.abs(deno.p99 - p99) <= 0.01 * Math.abs(p99), "p99");
    const distinct = new Set(input.strings).size;
    assert.ok(Math.abs(deno.distinct - distinct) <= 0.02 * distinct);
    assert.ok(deno.increaseTotal > 0);
    assert.deepStrictEqual(
      browser,
      deno,
      `seed 0x5eed: kernels differ in Chromium${failure()}`,
    );
  });

  assert.deepEqual(browser.pageErrors, [], "errors in the page");
});
