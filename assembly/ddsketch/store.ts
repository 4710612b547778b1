// A bin store: a dense array of f64 counts covering the index window
// [offset, offset + cap). The window grows (reallocated) when an index falls
// outside it, but never beyond maxBins slots, so the non-empty span never
// exceeds maxBins. When a new index would widen the span past maxBins the
// store collapses its LOWEST bins: `floor` becomes hi - maxBins + 1, all mass
// below it is added to the floor bin, and later indices below the floor are
// clamped onto it. (Negative values are stored with negated indices, so the
// same rule collapses the most negative values: in both stores accuracy is
// given up at the low end of the value range, never at the high end.)
// After a collapse the non-empty span is exactly maxBins with the floor bin
// lowest, so a store without the floor behaves identically (any lower index
// widens the span and collapses onto the same bin): the floor only spares the
// slow path, and is not part of the serialized state.
//
// Store record (16 bytes): counts ptr u32 @0, cap i32 @4, offset i32 @8,
// floor i32 @12 (i32.MIN_VALUE while nothing has been collapsed).

export const ST_COUNTS: usize = 0;
export const ST_CAP: usize = 4;
export const ST_OFFSET: usize = 8;
export const ST_FLOOR: usize = 12;
export const STORE_SIZE: usize = 16;

const MIN_CAP: i32 = 32;

/** Lowest / highest non-empty index found by `storeRange`. */
export let rangeLo: i32 = 0;
export let rangeHi: i32 = 0;

export function storeInit(st: usize): void {
  store<u32>(st, 0, ST_COUNTS);
  store<i32>(st, 0, ST_CAP);
  store<i32>(st, 0, ST_OFFSET);
  store<i32>(st, i32.MIN_VALUE, ST_FLOOR);
}

export function storeRelease(st: usize): void {
  const counts = <usize>load<u32>(st, ST_COUNTS);
  if (counts != 0) heap.free(counts);
  storeInit(st);
}

/** Finds the non-empty index range into rangeLo/rangeHi; false when empty. */
export function storeRange(st: usize): bool {
  const counts = <usize>load<u32>(st, ST_COUNTS);
  const cap = load<i32>(st, ST_CAP);
  const offset = load<i32>(st, ST_OFFSET);
  let i = 0;
  while (i < cap && load<f64>(counts + (<usize>i << 3)) == 0.0) i++;
  if (i == cap) return false;
  let j = cap - 1;
  while (load<f64>(counts + (<usize>j << 3)) == 0.0) j--;
  rangeLo = offset + i;
  rangeHi = offset + j;
  return true;
}

/**
 * Slow path: makes the window hold `index` (clamped to the floor), collapsing
 * the lowest bins first when the non-empty span would exceed maxBins.
 * Returns the index the caller must add to (it may have been clamped).
 */
export function storeReserve(st: usize, index: i32, maxBins: i32): i32 {
  let floor = load<i32>(st, ST_FLOOR);
  if (index < floor) index = floor;
  const counts = <usize>load<u32>(st, ST_COUNTS);
  const cap = load<i32>(st, ST_CAP);
  const offset = load<i32>(st, ST_OFFSET);
  if (<u32>(index - offset) < <u32>cap) return index;

  const wasEmpty = !storeRange(st);
  const oldLo = rangeLo;
  const oldHi = rangeHi;
  let lo = index;
  let hi = index;
  if (!wasEmpty) {
    if (oldLo < lo) lo = oldLo;
    if (oldHi > hi) hi = oldHi;
  }
  let collapsed = false;
  if (hi - lo >= maxBins) {
    floor = hi - maxBins + 1;
    if (index < floor) index = floor;
    lo = floor;
    collapsed = true;
  }

  // New window: the span plus as much slack again (capped at maxBins), most of
  // the slack on the side the store is growing towards.
  const span = hi - lo + 1;
  let newCap = MIN_CAP;
  while (newCap < span * 2 && newCap < maxBins) newCap <<= 1;
  if (newCap > maxBins) newCap = maxBins;
  const slack = newCap - span;
  let newOffset: i32;
  if (floor != i32.MIN_VALUE) newOffset = lo; // nothing ever lands below the floor
  else if (wasEmpty) newOffset = lo - (slack >> 1);
  else if (index > oldHi) newOffset = lo - (slack >> 2);
  else newOffset = lo - (slack - (slack >> 2));

  const bytes = <usize>newCap << 3;
  const fresh = heap.alloc(bytes);
  memory.fill(fresh, 0, bytes);
  if (!wasEmpty) {
    let keepLo = oldLo;
    let mass = 0.0;
    if (collapsed) {
      // Mass of the bins below the new floor, summed in ascending order.
      for (let j = oldLo; j < floor && j <= oldHi; j++) {
        mass += load<f64>(counts + (<usize>(j - offset) << 3));
      }
      if (keepLo < floor) keepLo = floor;
    }
    if (keepLo <= oldHi) {
      memory.copy(
        fresh + (<usize>(keepLo - newOffset) << 3),
        counts + (<usize>(keepLo - offset) << 3),
        <usize>(oldHi - keepLo + 1) << 3,
      );
    }
    if (collapsed && oldLo < floor) {
      const p = fresh + (<usize>(floor - newOffset) << 3);
      store<f64>(p, load<f64>(p) + mass);
    }
  }
  // The record changes only after the allocation succeeded.
  if (counts != 0) heap.free(counts);
  store<i32>(st, floor, ST_FLOOR);
  store<u32>(st, <u32>fresh, ST_COUNTS);
  store<i32>(st, newCap, ST_CAP);
  store<i32>(st, newOffset, ST_OFFSET);
  return index;
}

/** Adds weight `w` to bin `index` (general path, used by single adds and merges). */
export function storeAdd(st: usize, index: i32, w: f64, maxBins: i32): void {
  const floor = load<i32>(st, ST_FLOOR);
  if (index < floor) index = floor;
  let k = index - load<i32>(st, ST_OFFSET);
  if (<u32>k >= <u32>load<i32>(st, ST_CAP)) {
    index = storeReserve(st, index, maxBins);
    k = index - load<i32>(st, ST_OFFSET);
  }
  const p = <usize>load<u32>(st, ST_COUNTS) + (<usize>k << 3);
  store<f64>(p, load<f64>(p) + w);
}
