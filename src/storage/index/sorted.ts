/**
 * Set operations on sorted, duplicate-free Uint32Arrays of series refs:
 * merge or gallop (exponential search) depending on the size ratio, and a
 * bitmap for unions of many lists.
 * @module
 */

/** Lists this many times longer than the other are galloped, not merged. */
const GALLOP_RATIO = 16;

/** First index i >= lo with a[i] >= x (a sorted), or a.length. */
export function lowerBound(
  a: ArrayLike<number>,
  x: number,
  lo = 0,
  hi = a.length,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Like lowerBound, but probes 1, 2, 4... ahead of `lo` first (cheap when x is near). */
function gallop(a: Uint32Array, x: number, lo: number): number {
  let step = 1;
  let hi = lo;
  while (hi < a.length && a[hi] < x) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  return lowerBound(a, x, lo, Math.min(hi, a.length));
}

/** a ∩ b. */
export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Uint32Array(a.length);
  let n = 0;
  if (b.length > a.length * GALLOP_RATIO) {
    let j = 0;
    for (let i = 0; i < a.length && j < b.length; i++) {
      j = gallop(b, a[i], j);
      if (j < b.length && b[j] === a[i]) out[n++] = a[i];
    }
  } else {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i];
      const y = b[j];
      if (x < y) i++;
      else if (x > y) j++;
      else {
        out[n++] = x;
        i++;
        j++;
      }
    }
  }
  return out.slice(0, n);
}

/** a − b. */
export function subtract(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (b.length === 0 || a.length === 0) return a.slice();
  const out = new Uint32Array(a.length);
  let n = 0;
  if (a.length > b.length * GALLOP_RATIO) {
    // Few removals: copy runs between the refs of b found in a.
    let i = 0;
    for (let j = 0; j < b.length; j++) {
      const k = gallop(a, b[j], i);
      out.set(a.subarray(i, k), n);
      n += k - i;
      i = k < a.length && a[k] === b[j] ? k + 1 : k;
    }
    out.set(a.subarray(i), n);
    n += a.length - i;
  } else {
    let j = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (j < b.length && b[j] < x) j = gallop(b, x, j);
      if (j < b.length && b[j] === x) continue;
      out[n++] = x;
    }
  }
  return out.slice(0, n);
}

/** a ∪ b. */
export function union2(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (x > y) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++];
  while (j < b.length) out[n++] = b[j++];
  return n === out.length ? out : out.slice(0, n);
}

/**
 * Union of many sorted lists. `maxRef` bounds every element: above a few
 * lists the union goes through a bitmap of maxRef+1 bits when that is
 * cheaper than sorting the concatenation.
 */
export function unionMany(
  lists: readonly Uint32Array[],
  maxRef: number,
): Uint32Array {
  if (lists.length === 0) return new Uint32Array(0);
  if (lists.length === 1) return lists[0].slice();
  if (lists.length <= 4) {
    let acc = lists[0];
    for (let i = 1; i < lists.length; i++) acc = union2(acc, lists[i]);
    return acc;
  }
  let total = 0;
  for (const l of lists) total += l.length;
  const words = (maxRef >>> 5) + 1;
  if (total * 8 < words) {
    // Sparse: sort the concatenation (lists of distinct values may overlap).
    const all = new Uint32Array(total);
    let n = 0;
    for (const l of lists) {
      all.set(l, n);
      n += l.length;
    }
    all.sort();
    let w = 0;
    for (let i = 0; i < all.length; i++) {
      if (i === 0 || all[i] !== all[w - 1]) all[w++] = all[i];
    }
    return all.slice(0, w);
  }
  const bits = new Uint32Array(words);
  for (const l of lists) {
    for (let i = 0; i < l.length; i++) bits[l[i] >>> 5] |= 1 << (l[i] & 31);
  }
  return bitsToRefs(bits, total);
}

/** Set bits of a bitmap as sorted refs (`hint` sizes the first buffer). */
export function bitsToRefs(bits: Uint32Array, hint: number): Uint32Array {
  let out = new Uint32Array(Math.max(hint, 16));
  let n = 0;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w];
    while (word !== 0) {
      const t = word & -word; // lowest set bit
      const bit = 31 - Math.clz32(t);
      if (n === out.length) {
        const bigger = new Uint32Array(out.length * 2);
        bigger.set(out);
        out = bigger;
      }
      out[n++] = (w << 5 | bit) >>> 0;
      word ^= t;
    }
  }
  return out.slice(0, n);
}
