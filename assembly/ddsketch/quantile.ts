// Quantile query. Rank definition (the "lower" quantile): with total weight
// n, q maps to rank r = q (n - 1), and the answer is the representative of
// the first bin, in ascending value order (negative store from its most
// negative bin, then the zero bucket, then the positive store), whose
// cumulative count exceeds r. For unit weights this is the bin holding the
// sorted element at 0-based position floor(q (n - 1)). The result is clamped
// to [min, max], which can only move it closer to the true value.
import { lowerBound } from "./mapping";
import { ST_CAP, ST_COUNTS, ST_OFFSET } from "./store";
import {
  SK_COUNT,
  SK_MAX,
  SK_MIN,
  SK_MULT,
  SK_NEG,
  SK_POS,
  SK_REP,
  SK_ZERO,
} from "./sketch";

let cumulative: f64 = 0.0;
let foundIndex: i32 = 0;

/** Walks a store's bins upwards; true (index in foundIndex) once cumulative > rank. */
function scanStore(st: usize, rank: f64): bool {
  const counts = <usize>load<u32>(st, ST_COUNTS);
  const cap = load<i32>(st, ST_CAP);
  let cum = cumulative;
  // Adding an empty bin changes nothing, so no test per bin is needed: the
  // first bin that pushes the sum past the rank is non-empty.
  for (let i = 0; i < cap; i++) {
    cum += load<f64>(counts + (<usize>i << 3));
    if (cum > rank) {
      foundIndex = load<i32>(st, ST_OFFSET) + i;
      return true;
    }
  }
  cumulative = cum;
  return false;
}

// @ts-ignore: decorator
@inline
function clamp(x: f64, lo: f64, hi: f64): f64 {
  return x < lo ? lo : (x > hi ? hi : x);
}

/** Value at quantile q in [0, 1]; NaN when q is outside it or the sketch is empty. */
export function sketchQuantile(h: usize, q: f64): f64 {
  if (!(q >= 0.0 && q <= 1.0)) return NaN;
  const n = load<f64>(h, SK_COUNT);
  if (!(n > 0.0)) return NaN;
  const min = load<f64>(h, SK_MIN);
  const max = load<f64>(h, SK_MAX);
  const mult = load<f64>(h, SK_MULT);
  const rep = load<f64>(h, SK_REP);
  const rank = q * (n - 1.0);
  cumulative = 0.0;
  if (scanStore(h + SK_NEG, rank)) {
    // Negative values are stored under negated indices.
    return clamp(-(lowerBound(-foundIndex, mult) * rep), min, max);
  }
  const zero = load<f64>(h, SK_ZERO);
  if (zero != 0.0) {
    cumulative += zero;
    if (cumulative > rank) return clamp(0.0, min, max);
  }
  if (scanStore(h + SK_POS, rank)) {
    return clamp(lowerBound(foundIndex, mult) * rep, min, max);
  }
  return max;
}
