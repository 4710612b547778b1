// Index mapping of the sketch: value magnitude -> integer bin index, without
// Math.log. log2(v) is approximated from the float64 bits: the exponent e plus
// a cubic P(m) of the mantissa fraction m in [0, 1),
//   L(v) = e + P(m),  P(m) = A m^3 + B m^2 + C m,  A = 6/35, B = -3/5, C = 10/7.
// P(0) = 0 and P(1) = 1, so L is continuous and increasing. Its slope against
// ln(v) is P'(m)(1 + m) = C + 2m(3m - 2)^2 / 35 >= C, so a bin of width 1/mult
// in L covers at most ln(hi/lo) <= 1/(mult C) in ln(v). With
//   mult = 1 / (C ln(gamma)),  gamma = (1 + a) / (1 - a)
// every bin [lo, hi) has hi <= gamma lo, and the representative lo (1 + a) is
// within relative error a of every value in the bin. The design accuracy a is
// the user's alpha shrunk by 2^-20 so float rounding (~1e-13 relative) can
// never push the guarantee above alpha. Only +, -, *, / and floor are used,
// so src/reference/ddsketch.ts computes bit-identical indices and values.

export const POLY_A: f64 = 6.0 / 35.0;
export const POLY_B: f64 = -3.0 / 5.0;
export const POLY_C: f64 = 10.0 / 7.0;

/** Smallest accepted relative accuracy (keeps every index inside i32). */
export const MIN_ALPHA: f64 = 1e-6;
/** Largest accepted relative accuracy. */
export const MAX_ALPHA: f64 = 0.5;

/** |v| below 2^-1022 (zero and subnormals) go to the zero bucket. */
export const MIN_NORMAL_BITS: u64 = 0x0010_0000_0000_0000;
/** Bits of +Infinity: magnitudes at or above are NaN or infinite. */
export const INF_BITS: u64 = 0x7ff0_0000_0000_0000;
export const ABS_MASK: u64 = 0x7fff_ffff_ffff_ffff;
const MANTISSA_MASK: u64 = 0x000f_ffff_ffff_ffff;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/** The accuracy the bins are built for: alpha (1 - 2^-20). */
// @ts-ignore: decorator
@inline
export function designAccuracy(alpha: f64): f64 {
  return alpha * (1.0 - 1.0 / 1048576.0);
}

/** ln((1 + a) / (1 - a)) = 2 atanh(a), by its series (a <= 0.5: 40 terms). */
function lnGamma(a: f64): f64 {
  const a2 = a * a;
  let term = a;
  let sum = 0.0;
  for (let k = 0; k < 40; k++) {
    sum += term / <f64>(2 * k + 1);
    term *= a2;
  }
  return 2.0 * sum;
}

/** Bins per unit of approximated log2. */
export function multiplierFor(alpha: f64): f64 {
  return 1.0 / (POLY_C * lnGamma(designAccuracy(alpha)));
}

/** Approximated log2 of a positive normal float given its bits. */
// @ts-ignore: decorator
@inline
export function approxLog2(absBits: u64): f64 {
  const e = <f64>(<i32>(absBits >> 52) - 1023);
  const m = reinterpret<f64>((absBits & MANTISSA_MASK) | ONE_BITS) - 1.0;
  return ((POLY_A * m + POLY_B) * m + POLY_C) * m + e;
}

/** 1.5 * 2^52: adding it to an integral f64 below 2^51 puts the integer in the low mantissa bits. */
const INT_MAGIC: f64 = 6755399441055744.0;

/**
 * Bin index of a magnitude in [2^-1022, DBL_MAX]: floor(L(v) * mult). The
 * floored value is integral and |.| < 2^31, so the magic-number add moves it
 * exactly into the low 32 bits (cheaper in V8 than a saturating truncation).
 */
// @ts-ignore: decorator
@inline
export function indexOf(absBits: u64, mult: f64): i32 {
  return <i32>reinterpret<u64>(Math.floor(approxLog2(absBits) * mult) + INT_MAGIC);
}

/** Smallest index a normal magnitude maps to. */
export function minIndex(mult: f64): i32 {
  return <i32>Math.floor(-1022.0 * mult);
}

/** Upper bound of the indices any finite magnitude maps to. */
export function maxIndex(mult: f64): i32 {
  return <i32>Math.floor(1024.0 * mult);
}

/** 2^e for e in [-1022, 1023] from the bits; Infinity above. */
function pow2(e: i32): f64 {
  if (e > 1023) return Infinity;
  return reinterpret<f64>(<u64>(e + 1023) << 52);
}

/** Lower bound of bin `index`: the inverse of L at index / mult. */
export function lowerBound(index: i32, mult: f64): f64 {
  const y = <f64>index / mult;
  const ef = Math.floor(y);
  const t = y - ef;
  // P is increasing and concave on [0, 1]: Newton from m = t converges
  // monotonically; 8 steps are far more than float precision needs.
  let m = t;
  for (let i = 0; i < 8; i++) {
    const p = ((POLY_A * m + POLY_B) * m + POLY_C) * m - t;
    const d = (3.0 * POLY_A * m + 2.0 * POLY_B) * m + POLY_C;
    m = m - p / d;
  }
  if (m < 0.0) m = 0.0;
  if (m > 1.0) m = 1.0;
  const e = <i32>ef;
  if (e < -1022) {
    // Subnormal result: scale up, then round once when scaling down.
    return ((1.0 + m) * pow2(e + 64)) * (1.0 / 18446744073709551616.0);
  }
  return (1.0 + m) * pow2(e);
}
