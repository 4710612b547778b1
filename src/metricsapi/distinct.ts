/**
 * Distinct counting for sets: exact (a JS Set) while small, a HyperLogLog
 * from the engine once past a threshold, so that the many small per-minute
 * buckets cost little and large ones stay within the HLL's ~0.8% error.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { HyperLogLog } from "../bindings/hll.ts";

/** Members kept exactly before switching to a HyperLogLog. */
export const EXACT_LIMIT = 512;

/** A distinct counter: exact when small, sketched when large. */
export class Distinct {
  #exact: Set<string> | null = new Set();
  #hll: HyperLogLog | null = null;

  constructor(private readonly engine: Engine) {}

  /** Adds one member. */
  add(member: string): void {
    if (this.#exact) {
      this.#exact.add(member);
      if (this.#exact.size > EXACT_LIMIT) this.#toSketch();
    } else {
      this.#hll!.add(member);
    }
  }

  /** Adds every member of `other` (unchanged). */
  merge(other: Distinct): void {
    if (other.#exact) {
      if (this.#exact) {
        for (const m of other.#exact) this.#exact.add(m);
        if (this.#exact.size > EXACT_LIMIT) this.#toSketch();
      } else {
        this.#hll!.addStrings([...other.#exact]);
      }
      return;
    }
    if (this.#exact) this.#toSketch();
    this.#hll!.merge(other.#hll!);
  }

  /** The number of distinct members (exact below the limit, estimated above). */
  count(): number {
    return this.#exact ? this.#exact.size : Math.round(this.#hll!.estimate());
  }

  #toSketch(): void {
    const hll = HyperLogLog.create(this.engine);
    hll.addStrings([...this.#exact!]);
    this.#exact = null;
    this.#hll = hll;
  }

  /** A plain form for snapshots: the members, or the sketch's bytes. */
  save(): { exact: string[] } | { hll: Uint8Array } {
    return this.#exact ? { exact: [...this.#exact] } : {
      hll: this.#hll!.serialize(),
    };
  }

  /** Rebuilds a counter saved with `save`. */
  static load(
    engine: Engine,
    saved: { exact: string[] } | { hll: Uint8Array },
  ): Distinct {
    const d = new Distinct(engine);
    if ("exact" in saved) d.#exact = new Set(saved.exact);
    else {
      d.#exact = null;
      d.#hll = HyperLogLog.deserialize(engine, saved.hll);
    }
    return d;
  }

  /** Releases the sketch's engine memory. */
  free(): void {
    this.#hll?.free();
    this.#hll = null;
    this.#exact = new Set();
  }
}
