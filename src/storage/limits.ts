/**
 * A per-query cap on the samples a querier's iterators may return, so one
 * query cannot load unbounded data: past the cap, iteration stops with a
 * SampleLimitError (Prometheus' wording).
 * @module
 */
import type { Matcher } from "../model/matcher.ts";
import type {
  ChunkMeta,
  Querier,
  SampleIterator,
  SelectHints,
  Series,
} from "./interface.ts";
import {
  type ReadSamples,
  readSamples,
  type SampleAlloc,
} from "./chunk_iterator.ts";

/** A query touched more samples than its tenant may. */
export class SampleLimitError extends Error {
  constructor(readonly limit: number) {
    super(
      `query processing would load too many samples into memory in query execution (limit ${limit})`,
    );
    this.name = "SampleLimitError";
  }
}

/** Samples counted so far for one querier. */
class Budget {
  used = 0;
  constructor(readonly limit: number) {}
}

class LimitedIterator implements SampleIterator {
  #err: Error | null = null;
  constructor(
    private readonly it: SampleIterator,
    private readonly budget: Budget,
  ) {}
  get t(): number {
    return this.it.t;
  }
  get v(): number {
    return this.it.v;
  }
  #count(ok: boolean): boolean {
    if (!ok) return false;
    if (++this.budget.used > this.budget.limit) {
      this.#err = new SampleLimitError(this.budget.limit);
      return false;
    }
    return true;
  }
  next(): boolean {
    return !this.#err && this.#count(this.it.next());
  }
  seek(t: number): boolean {
    return !this.#err && this.#count(this.it.seek(t));
  }
  isStale(): boolean {
    return this.it.isStale();
  }
  /** Bulk read (see ChunkSeriesIterator.readAll), counted against the budget. */
  readAll(mint: number, maxt: number, alloc?: SampleAlloc): ReadSamples {
    const got = readSamples(this.it, mint, maxt, alloc);
    this.budget.used += got.ts.length;
    if (this.budget.used > this.budget.limit) {
      this.#err = new SampleLimitError(this.budget.limit);
    }
    return got;
  }
  valueInto(dst: Float64Array, at: number): void {
    const inner = this.it as Partial<
      { valueInto(d: Float64Array, i: number): void }
    >;
    if (inner.valueInto) inner.valueInto(dst, at);
    else dst[at] = this.it.v;
  }
  err(): Error | null {
    return this.#err ?? this.it.err();
  }
}

/** Wraps a querier so all its iterators together return at most `limit` samples. */
export class LimitedQuerier implements Querier {
  readonly #budget: Budget;
  constructor(private readonly inner: Querier, limit: number) {
    this.#budget = new Budget(limit);
  }
  select(matchers: readonly Matcher[], hints?: SelectHints): Series[] {
    const budget = this.#budget;
    return this.inner.select(matchers, hints).map((s) => ({
      labels: s.labels,
      iterator: () => new LimitedIterator(s.iterator(), budget),
      chunks: (): ChunkMeta[] => s.chunks(),
    }));
  }
  labelNames(matchers?: readonly Matcher[]): string[] {
    return this.inner.labelNames(matchers);
  }
  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    return this.inner.labelValues(name, matchers);
  }
  close(): void {
    this.inner.close();
  }
}
