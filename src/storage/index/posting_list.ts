/**
 * One postings list: the sorted refs of the series carrying one label pair,
 * in a growable Uint32Array. Removal is lazy: the owner counts dead entries
 * and compacts the list (dropping refs flagged in its removal bitmap) the
 * next time it is read.
 * @module
 */
import { lowerBound } from "./sorted.ts";

/** Initial capacity; most lists of a real index are small. */
const MIN_CAPACITY = 2;

/** Sorted refs of one label pair. */
export class PostingList {
  data: Uint32Array;
  /** Used length of `data`. */
  len = 0;
  /** Entries that belong to removed series (still present until compaction). */
  dead = 0;

  constructor(capacity = MIN_CAPACITY) {
    this.data = new Uint32Array(capacity);
  }

  /** Live entry count. */
  get live(): number {
    return this.len - this.dead;
  }

  /** Adds a ref; appending is O(1) since refs usually arrive in increasing order. */
  add(ref: number): void {
    const n = this.len;
    if (n === this.data.length) this.#grow(n + 1);
    if (n === 0 || this.data[n - 1] < ref) {
      this.data[n] = ref;
      this.len = n + 1;
      return;
    }
    const at = lowerBound(this.data, ref, 0, n);
    if (this.data[at] === ref) return;
    this.data.copyWithin(at + 1, at, n);
    this.data[at] = ref;
    this.len = n + 1;
  }

  /** Drops refs whose bit is set in `removed`; shrinks the buffer when mostly empty. */
  compact(removed: Uint32Array): void {
    const d = this.data;
    let w = 0;
    for (let i = 0; i < this.len; i++) {
      const r = d[i];
      const word = r >>> 5;
      if (word < removed.length && (removed[word] & (1 << (r & 31))) !== 0) {
        continue;
      }
      d[w++] = r;
    }
    this.len = w;
    this.dead = 0;
    if (d.length > MIN_CAPACITY * 2 && w < d.length / 4) {
      this.data = d.slice(0, Math.max(w * 2, MIN_CAPACITY));
    }
  }

  /** The entries (a view, valid until the next mutation). */
  view(): Uint32Array {
    return this.data.subarray(0, this.len);
  }

  /** Bytes held by the buffer. */
  get bytes(): number {
    return this.data.byteLength;
  }

  #grow(min: number): void {
    // 1.5x growth (2x while small) keeps the slack of big lists moderate.
    const cap = this.data.length;
    const next = Math.max(min, cap < 1024 ? cap * 2 : cap + (cap >>> 1));
    const bigger = new Uint32Array(next);
    bigger.set(this.data.subarray(0, this.len));
    this.data = bigger;
  }
}
