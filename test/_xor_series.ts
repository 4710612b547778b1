// Seeded series shapes for XOR chunk tests: regular and jittered scrapes,
// counters, random walks, special float bit patterns, and adversarial
// timestamps over the whole int64 range.
import { Prng } from "../src/util/prng.ts";
import type { ExactSample } from "../src/reference/xor.ts";
import { bitsOf } from "../src/reference/xor.ts";

export const SPECIAL_BITS: bigint[] = [
  0x0000000000000000n, // +0
  0x8000000000000000n, // -0
  0x7ff0000000000000n, // +Inf
  0xfff0000000000000n, // -Inf
  0x7ff8000000000001n, // quiet NaN, payload 1
  0x7ff0000000000002n, // Prometheus stale marker
  0xfff8000000000000n, // negative NaN
  0x7ff4000000000000n, // signalling NaN
  0x0000000000000001n, // smallest subnormal
  0x000fffffffffffffn, // largest subnormal
  0x7fefffffffffffffn, // MAX_VALUE
  0xffefffffffffffffn, // -MAX_VALUE
  0x3ff0000000000000n, // 1
];

const INT64_EDGES: bigint[] = [
  -(1n << 63n),
  (1n << 63n) - 1n,
  0n,
  -1n,
  1n,
  1n << 53n,
  -(1n << 53n),
];

export type Shape =
  | "regular"
  | "jitter"
  | "counter"
  | "walk"
  | "floats"
  | "special"
  | "bits"
  | "wild-time"
  | "dod-edges";

export const SHAPES: Shape[] = [
  "regular",
  "jitter",
  "counter",
  "walk",
  "floats",
  "special",
  "bits",
  "wild-time",
  "dod-edges",
];

/** n samples of the given shape; values as exact bit patterns. */
export function makeSeries(rng: Prng, shape: Shape, n: number): ExactSample[] {
  const out: ExactSample[] = [];
  let t = BigInt(rng.int(-1e12, 2e12));
  let v = rng.float() * 1000;
  let counter = 0;
  const step = BigInt(rng.pick([1, 10, 1000, 15000, 60000]));
  // Asymmetric edges of each delta-of-delta bucket, and just outside them.
  const dodEdges = [
    0,
    1,
    -1,
    8191,
    8192,
    -8191,
    -8192,
    65535,
    65536,
    -65535,
    -65536,
    524287,
    524288,
    -524287,
    -524288,
    524289,
    1 << 30,
    -(2 ** 40),
  ];
  let delta = step;
  for (let i = 0; i < n; i++) {
    let vbits: bigint;
    switch (shape) {
      case "regular":
        t += step;
        vbits = bitsOf(Math.round(v));
        break;
      case "jitter":
        t += step + BigInt(rng.int(-50, 50));
        v += rng.normal();
        vbits = bitsOf(v);
        break;
      case "counter":
        t += step + BigInt(rng.int(-5, 5));
        counter = rng.float() < 0.02 ? 0 : counter + rng.int(0, 100);
        vbits = bitsOf(counter);
        break;
      case "walk":
        t += step;
        v += rng.normal() * 0.5;
        vbits = bitsOf(Math.round(v * 100) / 100);
        break;
      case "floats":
        t += step + BigInt(rng.int(0, 3));
        vbits = bitsOf(rng.float() * 10 ** rng.int(-300, 300));
        break;
      case "special":
        t += step;
        vbits = rng.pick(SPECIAL_BITS);
        break;
      case "bits":
        t += BigInt(rng.int(0, 1 << 20));
        vbits = BigInt.asUintN(64, rng.i64());
        break;
      case "wild-time":
        t = rng.float() < 0.3 ? rng.pick(INT64_EDGES) : rng.i64();
        vbits = rng.float() < 0.5 ? rng.pick(SPECIAL_BITS) : bitsOf(i);
        break;
      case "dod-edges":
        delta = BigInt.asIntN(64, delta + BigInt(rng.pick(dodEdges)));
        t = BigInt.asIntN(64, t + delta);
        vbits = bitsOf(rng.float() < 0.5 ? v : v + i);
        break;
    }
    out.push({ t, vbits });
  }
  return out;
}

export function toArrays(
  samples: readonly ExactSample[],
): { ts: BigInt64Array; values: Float64Array } {
  const ts = new BigInt64Array(samples.length);
  const bits = new BigUint64Array(samples.length);
  samples.forEach((s, i) => {
    ts[i] = s.t;
    bits[i] = s.vbits;
  });
  return { ts, values: new Float64Array(bits.buffer) };
}
