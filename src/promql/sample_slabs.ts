/**
 * Sample slabs: the large Float64Array pairs selector reads put samples in,
 * reused across reads and queries. Allocating 2 × 512 KiB per read made the
 * query path churn big backing stores through malloc, whose heap keeps what
 * it once held (docs/design/memory.md); a small fixed reserve bounds that.
 *
 * Ownership: a slab is either free in a pool or held by exactly one
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
  /** Slabs of the reserve (made once, on the first take). */
  reserved: number;
  /** Slabs handed out from the reserve. */
  reused: number;
  /** Slabs made because the reserve was all in use (dropped when given back). */
  overflow: number;
  /** Slabs held by arenas now. */
  inUse: number;
  /** Reserve slabs free now. */
  free: number;
}

/**
 * A fixed reserve of slabs, carved from one backing store made on first
 * use: one long-lived block instead of many (long-lived malloc blocks
 * scattered through the heap keep glibc from trimming it), pages touched
 * only as reads fill them. Takes beyond the reserve get slabs of their own,
 * left to the GC when given back.
 */
export class SlabPool {
  readonly #free: Slab[] = [];
  readonly #reserve = new WeakSet<Slab>();
  /** Slabs handed out and not given back: guards against double use. */
  readonly #out = new Set<Slab>();
  #made = false;
  #reused = 0;
  #overflow = 0;

  /** `size`: slabs in the reserve (each 2 × 512 KiB); 0 keeps none. */
  constructor(readonly size: number) {}

  /** A slab no one else holds. */
  take(): Slab {
    if (!this.#made) this.#makeReserve();
    let slab = this.#free.pop();
    if (slab) {
      this.#reused++;
    } else {
      slab = {
        ts: new Float64Array(SLAB_SAMPLES),
        vs: new Float64Array(SLAB_SAMPLES),
      };
      this.#overflow++;
    }
    this.#out.add(slab);
    return slab;
  }

  /** Gives back a slab from `take`; its views must no longer be used. */
  give(slab: Slab): void {
    if (!this.#out.delete(slab)) {
      throw new Error("slab given back twice or not from this pool");
    }
    if (this.#reserve.has(slab)) this.#free.push(slab);
  }

  stats(): SlabPoolStats {
    return {
      reserved: this.#made ? this.size : 0,
      reused: this.#reused,
      overflow: this.#overflow,
      inUse: this.#out.size,
      free: this.#free.length,
    };
  }

  #makeReserve(): void {
    this.#made = true;
    if (this.size <= 0) return;
    const block = new Float64Array(this.size * 2 * SLAB_SAMPLES);
    for (let i = this.size - 1; i >= 0; i--) {
      const at = i * 2 * SLAB_SAMPLES;
      const slab = {
        ts: block.subarray(at, at + SLAB_SAMPLES),
        vs: block.subarray(at + SLAB_SAMPLES, at + 2 * SLAB_SAMPLES),
      };
      this.#reserve.add(slab);
      this.#free.push(slab);
    }
  }
}

/** The process's pool: a reserve of 8 slabs (8 MiB). */
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
