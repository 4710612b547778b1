// Ertl's improved raw estimator ("New cardinality estimation algorithms for
// HyperLogLog sketches", O. Ertl 2017, algorithm 6): unbiased over the whole
// range without empirical bias tables or a linear-counting switch. It uses
// only +, *, / and sqrt, which are exactly rounded in WebAssembly and in
// JavaScript alike, so the reference implementation reproduces every bit.

/** 1 / (2 ln 2), the asymptotic alpha of the estimator. */
const ALPHA_INF: f64 = 0.7213475204444817;

// Histogram of register values 0..65 (one u32 each), reused by every call.
const HISTOGRAM: usize = memory.data(72 * 4, 16);

/** sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1); infinite at x = 1. */
function sigma(x: f64): f64 {
  if (x == 1.0) return Infinity;
  let y = 1.0;
  let z = x;
  let previous: f64;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

/** tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3; zero at 0 and 1. */
function tau(x: f64): f64 {
  if (x == 0.0 || x == 1.0) return 0.0;
  let y = 1.0;
  let z = 1.0 - x;
  let previous: f64;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    const gap = 1.0 - x;
    z -= gap * gap * y;
  } while (z != previous);
  return z / 3.0;
}

/** Estimated number of distinct values recorded in 2^p registers at `regs`. */
export function estimateCardinality(regs: usize, p: i32): f64 {
  const m = <usize>1 << p;
  const q = 64 - p;
  memory.fill(HISTOGRAM, 0, 72 * 4);
  for (let i: usize = 0; i < m; i++) {
    const at = HISTOGRAM + (<usize>load<u8>(regs + i) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
  const mf = <f64>m;
  let z = mf * tau(1.0 - <f64>load<u32>(HISTOGRAM + (<usize>(q + 1) << 2)) / mf);
  for (let k = q; k >= 1; k--) {
    z = 0.5 * (z + <f64>load<u32>(HISTOGRAM + (<usize>k << 2)));
  }
  z += mf * sigma(<f64>load<u32>(HISTOGRAM) / mf);
  return ALPHA_INF * mf * mf / z;
}
