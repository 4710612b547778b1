// @ts-check
/**
 * Checks that run the same code in Deno (over src/bindings/mod.ts) and in
 * Chromium (over the build/engine.js bundle). Each check takes the bindings
 * module, a loaded engine and a JSON-able input, and returns a JSON-able
 * result; the browser test asserts both results are equal. To cover another
 * kernel, add one exported function here and one step in
 * test/browser_engine.test.ts.
 *
 * Plain JavaScript (with JSDoc types) because the page imports it as is.
 * @module
 */

/** @typedef {typeof import("../../src/bindings/mod.ts")} Bindings */
/** @typedef {import("../../src/bindings/mod.ts").Engine} Engine */

/**
 * What one attempt gave: its result, or the error it threw.
 * @template T
 * @typedef {{ ok: true, result: T }
 *   | { ok: false, error: string, code: number | null, engineError: boolean }} Outcome
 */

/**
 * Bytes of a hex string (two digits a byte).
 * @param {string} hex
 * @returns {Uint8Array}
 */
export function hexToBytes(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`not a hex string: ${hex.slice(0, 32)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/**
 * Hex of 64-bit words, 16 digits each, most significant first, so the text
 * does not depend on the platform's byte order.
 * @param {ArrayLike<bigint>} words
 * @returns {string}
 */
export function wordsToHex(words) {
  let s = "";
  for (let i = 0; i < words.length; i++) {
    s += BigInt.asUintN(64, words[i]).toString(16).padStart(16, "0");
  }
  return s;
}

/**
 * Runs `fn`, turning a thrown error into data (EngineError keeps its code).
 * @template T
 * @param {Bindings} b
 * @param {() => T} fn
 * @returns {Outcome<T>}
 */
function attempt(b, fn) {
  try {
    return { ok: true, result: fn() };
  } catch (e) {
    const engineError = e instanceof b.EngineError;
    return {
      ok: false,
      error: e instanceof Error ? e.name : String(e),
      code: engineError ? e.code : null,
      engineError,
    };
  }
}

/**
 * The engine module's export names and initial memory size: the same
 * engine.wasm gives the same list in both places.
 * @param {Bindings} _b
 * @param {Engine} engine
 * @returns {{ exports: string[], memoryBytes: number }}
 */
export function engineInfo(_b, engine) {
  return {
    exports: Object.keys(engine.raw).sort(),
    memoryBytes: engine.raw.memory.buffer.byteLength,
  };
}

/**
 * @typedef {{
 *   count: number,
 *   timestamps: string,
 *   valueBits: string,
 * }} XorDecoded
 */

/**
 * Decodes each hex chunk twice with one XorDecoder: exactly (int64
 * timestamps) and on the f64 fast path (timestamps as float64 bits), values
 * as raw float64 bits; every word as 16 hex digits.
 * @param {Bindings} b
 * @param {Engine} engine
 * @param {string[]} chunks hex of each chunk
 * @returns {{ exact: Outcome<XorDecoded>, f64: Outcome<XorDecoded> }[]}
 */
export function xorDecode(b, engine, chunks) {
  const dec = new b.XorDecoder(engine);
  try {
    return chunks.map((hex) => {
      const bytes = hexToBytes(hex);
      const exact = attempt(b, () => {
        const count = dec.decodeExact(bytes);
        return {
          count,
          timestamps: wordsToHex(dec.exactTimestamps),
          valueBits: wordsToHex(dec.valueBits),
        };
      });
      const f64 = attempt(b, () => {
        const count = dec.decode(bytes);
        const ts = dec.timestamps;
        return {
          count,
          timestamps: wordsToHex(
            new BigUint64Array(ts.buffer, ts.byteOffset, ts.length),
          ),
          valueBits: wordsToHex(dec.valueBits),
        };
      });
      return { exact, f64 };
    });
  } finally {
    dec.free();
  }
}

/**
 * Builds a DDSketch, a HyperLogLog and bucket aggregates from the same input
 * and returns their serialized bytes and results, bit for bit.
 * @param {Bindings} b
 * @param {Engine} engine
 * @param {{ values: number[], strings: string[], timestamps: number[], counter: number[] }} input
 * @returns {{ sketch: string, p99: number, hll: string, distinct: number, buckets: string, increaseTotal: number }}
 */
export function sketchesAndBuckets(b, engine, input) {
  const sk = b.DDSketch.create(engine, 0.01);
  const hll = b.HyperLogLog.create(engine, 14);
  try {
    sk.addMany(Float64Array.from(input.values));
    hll.addStrings(input.strings);
    const ts = Float64Array.from(input.timestamps);
    const start = ts[0];
    const end = ts[ts.length - 1] + 1;
    const agg = b.aggregateBuckets(
      engine,
      ts,
      Float64Array.from(input.counter),
      start,
      end,
      600_000,
    );
    let buckets = "";
    let increaseTotal = 0;
    for (const field of b.BUCKET_FIELDS) {
      const arr = agg[field];
      buckets += wordsToHex(
        new BigUint64Array(arr.buffer, arr.byteOffset, arr.length),
      );
    }
    for (const x of agg.increase) increaseTotal += x;
    return {
      sketch: bytesToHex(sk.serialize()),
      p99: sk.quantile(0.99),
      hll: bytesToHex(hll.serialize()),
      distinct: hll.estimate(),
      buckets,
      increaseTotal,
    };
  } finally {
    sk.free();
    hll.free();
  }
}

/**
 * Hex of bytes, two digits each.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
function bytesToHex(bytes) {
  let s = "";
  for (const x of bytes) s += x.toString(16).padStart(2, "0");
  return s;
}
