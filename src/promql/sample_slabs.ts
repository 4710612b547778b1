/**
 * Sample slabs: the large Float64Array pairs selector reads put samples in,
 * reused across reads and queries. Allocating 2 × 512 KiB per read made the
 * query path churn big backing stores through malloc, whose heap keeps what
 * it once held (docs/design/memory.md); a small free list bounds that.
 *
 * Ownership: a slab is either in a pool's free list or held by exactly one
 * `SampleArena`; an arena hands out disjoint views of its slabs and gives
 * them all back in `release()`, which its owner calls once every view is
 * dead (the engine: when the query's evaluation ends, whatever the outcome).
 * @module
 */

/** Samples per slab: big typed arrays, so that series share backing stores. */
export const SLAB_SAMPLES = 1 << 16;

/** Reads longer than this get arrays of their own, not slab space. */
const MAX_SLAB_READ = SLAB_SAMPLES / 4;

/** Timestamps and values of one slab (same length). */
export interface Slab {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** Counts of a pool, for tests and gauges. */
export interface SlabPoolStats {
  /** Slabs made because the free list was empty. */
  created: number;
  /** Slabs taken from the free list. */
  reused: number;
  /** Slabs given back but dropped because the free list was full. */
  dropped: number;
  /** Slabs held by arenas now. */
  inUse: number;
  /** Slabs in the free list now. */
  free: number;
}

/** A bounded free list of slabs. */
export class SlabPool {
  readonly #free: Slab[] = [];
  /** Slabs handed out and not given back: guards against double use. */
  readonly #out = new Set<Slab>();
  #created = 0;
  #reused = 0;
  #dropped = 0;

  /** `maxFree`: slabs kept for reuse (each 2 × 512 KiB); 0 keeps none. */
  constructor(readonly maxFree: number) {}

  /** A slab no one else holds. */
  take(): Slab {
    let slab = this.#free.pop();
    if (slab) {
      this.#reused++;
    } else {
      slab = {
        ts: new Float64Array(SLAB_SAMPLES),
        vs: new Float64Array(SLAB_SAMPLES),
      };
      this.#created++;
    }
    this.#out.add(slab);
    return slab;
  }

  /** Gives back a slab from `take`; its views must no longer be used. */
  give(slab: Slab): void {
    if (!this.#out.delete(slab)) {
      throw new Error("slab given back twice or not from this pool");
    }
    if (this.#free.length < this.maxFree) this.#free.push(slab);
    else this.#dropped++;
  }

  stats(): SlabPoolStats {
    return {
      created: this.#created,
      reused: this.#reused,
      dropped: this.#dropped,
      inUse: this.#out.size,
      free: this.#free.length,
    };
  }
}

/** The process's pool: at most 8 free slabs (8 MiB). */
export const sampleSlabs: SlabPool = new SlabPool(8);

/**
 * Hands out sample arrays as disjoint views of pooled slabs (one backing
 * store per ~64k samples instead of one per series) until `release`.
 */
export class SampleArena {
  readonly #held: Slab[] = [];
  #slab: Slab | null = null;
  #at = 0;
  #released = false;

  constructor(readonly pool: SlabPool = sampleSlabs) {}

  /** Arrays for n samples, valid until `release`. */
  readonly alloc = (n: number): { ts: Float64Array; vs: Float64Array } => {
    // Large reads, and any read after release, get arrays of their own.
    if (n > MAX_SLAB_READ || this.#released) {
      return { ts: new Float64Array(n), vs: new Float64Array(n) };
    }
    if (this.#slab === null || this.#at + n > SLAB_SAMPLES) {
      this.#slab = this.pool.take();
      this.#held.push(this.#slab);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at += n;
    return {
      ts: this.#slab.ts.subarray(at, at + n),
      vs: this.#slab.vs.subarray(at, at + n),
    };
  };

  /** Slabs held now. */
  get slabs(): number {
    return this.#held.length;
  }

  /** Gives every slab back to the pool; views handed out become invalid. */
  release(): void {
    this.#released = true;
    this.#slab = null;
    for (const s of this.#held.splice(0)) this.pool.give(s);
  }
}
