/**
 * The order series take in a block: label sets compared pair by pair
 * (name, then value) with `compareStrings`; a prefix sorts first.
 * @module
 */
import { compareStrings, type Labels } from "../../model/labels.ts";

/** Negative, zero or positive as `a` sorts before, equal to, or after `b`. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    if (x.name !== y.name) return compareStrings(x.name, y.name);
    if (x.value !== y.value) return compareStrings(x.value, y.value);
  }
  return a.length - b.length;
}
