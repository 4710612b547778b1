/**
 * Numeric building blocks shared by functions and aggregations, following
 * Prometheus' float behaviour (Neumaier-compensated sums, quantile
 * interpolation, Go's math.Pow edge cases).
 * @module
 */

/** One step of a compensated (Kahan–Neumaier) sum: returns [sum, c]. */
export function kahanInc(
  inc: number,
  sum: number,
  c: number,
): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += (sum - t) + inc;
  else c += (inc - t) + sum;
  return [t, c];
}

// The loops below inline kahanInc (same operations, same order) so that no
// tuple is made per value.

/** Compensated sum of values[lo..hi). */
export function kahanSum(
  vs: ArrayLike<number>,
  lo = 0,
  hi = vs.length,
): number {
  let sum = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    const inc = vs[i];
    const t = sum + inc;
    if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
    else if (Math.abs(sum) >= Math.abs(inc)) c += (sum - t) + inc;
    else c += (inc - t) + sum;
    sum = t;
  }
  return Number.isFinite(sum) ? sum + c : sum;
}

/** Mean with Prometheus' overflow fallback to an incremental mean. */
export function mean(vs: ArrayLike<number>, lo = 0, hi = vs.length): number {
  let sum = 0;
  let c = 0;
  let m = 0;
  let count = 0;
  let incremental = false;
  for (let i = lo; i < hi; i++) {
    const f = vs[i];
    count++;
    if (!incremental) {
      const ns = sum + f;
      let nc = c;
      if (!Number.isFinite(ns) && !Number.isNaN(ns)) nc = 0;
      else if (Math.abs(sum) >= Math.abs(f)) nc += (sum - ns) + f;
      else nc += (f - ns) + sum;
      if (count === 1 || Number.isFinite(ns) || Number.isNaN(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      m = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [m, c] = kahanInc(f / count, q * m, q * c);
  }
  if (incremental) return m + c;
  return sum / count + c / count;
}

/** Population variance (Welford with compensation). */
export function variance(
  vs: ArrayLike<number>,
  lo = 0,
  hi = vs.length,
): number {
  let count = 0;
  let m = 0;
  let cm = 0;
  let aux = 0;
  let ca = 0;
  for (let i = lo; i < hi; i++) {
    const v = vs[i];
    count++;
    const delta = v - (m + cm);
    const inc = delta / count;
    const t = m + inc;
    if (!Number.isFinite(t) && !Number.isNaN(t)) cm = 0;
    else if (Math.abs(m) >= Math.abs(inc)) cm += (m - t) + inc;
    else cm += (inc - t) + m;
    m = t;
    const inc2 = delta * (v - (m + cm));
    const t2 = aux + inc2;
    if (!Number.isFinite(t2) && !Number.isNaN(t2)) ca = 0;
    else if (Math.abs(aux) >= Math.abs(inc2)) ca += (aux - t2) + inc2;
    else ca += (inc2 - t2) + aux;
    aux = t2;
  }
  return (aux + ca) / count;
}

/** Prometheus' quantile over values (sorted copy, linear interpolation). */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = values.slice().sort((a, b) =>
    a - b || (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : 0)
  );
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

/** Go's math.Pow, which differs from `**` for a few special cases. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

/** Go's math.Mod (sign of the dividend, like `%`). */
export function goMod(x: number, y: number): number {
  return x % y;
}
