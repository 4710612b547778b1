/**
 * One rollup bucket: what a series received during one interval of one
 * resolution. count, sum, min, max and last (with its timestamp) for every
 * type; a DDSketch of the values for distributions; a distinct counter for
 * sets. Merging buckets gives the bucket of the union, so a query over any
 * interval made of whole buckets never needs raw observations.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { DDSketch } from "../bindings/ddsketch.ts";
import { Distinct } from "./distinct.ts";
import type { MetricType } from "./types.ts";

/** Relative accuracy of distribution sketches (the 1%). */
export const SKETCH_ALPHA = 0.01;

/** A rollup bucket (also the accumulator of a query interval). */
export class Rollup {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  last = NaN;
  lastT = -Infinity;
  sketch: DDSketch | null = null;
  distinct: Distinct | null = null;

  constructor(
    private readonly engine: Engine,
    readonly type: MetricType,
  ) {}

  /** Adds a numeric observation at t (for sets, `member` is the value). */
  add(t: number, value: number, member?: string): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    // Last wins: the newest timestamp; at equal ones the later arrival.
    if (t >= this.lastT) {
      this.lastT = t;
      this.last = value;
    }
    if (this.type === "distribution") {
      (this.sketch ??= DDSketch.create(this.engine, SKETCH_ALPHA)).add(value);
    } else if (this.type === "set" && member !== undefined) {
      (this.distinct ??= new Distinct(this.engine)).add(member);
    }
  }

  /** Adds everything `other` holds (which is unchanged). */
  merge(other: Rollup): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    if (other.lastT >= this.lastT) {
      this.lastT = other.lastT;
      this.last = other.last;
    }
    if (other.sketch) {
      (this.sketch ??= DDSketch.create(this.engine, SKETCH_ALPHA)).merge(
        other.sketch,
      );
    }
    if (other.distinct) {
      (this.distinct ??= new Distinct(this.engine)).merge(other.distinct);
    }
  }

  /** Releases engine memory (sketches). */
  free(): void {
    this.sketch?.free();
    this.sketch = null;
    this.distinct?.free();
    this.distinct = null;
  }
}
