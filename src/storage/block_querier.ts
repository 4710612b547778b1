/**
 * A querier over one on-disk block for [mint, maxt] (inclusive): series from
 * the block's index, chunks read and checked on demand and decoded in the
 * engine.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import type { Labels } from "../model/labels.ts";
import type { Matcher } from "../model/matcher.ts";
import type { BlockReader, BlockSeries } from "./block/mod.ts";
import {
  ChunkDecoder,
  ChunkSeriesIterator,
  type ChunkSource,
} from "./chunk_iterator.ts";
import type {
  ChunkMeta,
  Querier,
  SampleIterator,
  SelectHints,
  Series,
} from "./interface.ts";

const NO_SAMPLES = new Float64Array(0);

class BlockSeriesView implements Series {
  readonly labels: Labels;
  constructor(
    private readonly q: BlockQuerier,
    private readonly s: BlockSeries,
  ) {
    this.labels = s.labels;
  }

  #sources(): ChunkSource[] {
    return this.s.chunks.map((ref) => ({
      minTime: ref.minTime,
      maxTime: ref.maxTime,
      ptr: 0,
      len: 0,
      bytes: null,
      samples: () => {
        try {
          return this.q.reader.samples(ref);
        } catch (e) {
          this.q.onCorrupt?.(this.q.reader, e as Error);
          throw e;
        }
      },
    }));
  }

  iterator(): SampleIterator {
    return new ChunkSeriesIterator(
      this.q.decoder,
      this.#sources(),
      NO_SAMPLES,
      NO_SAMPLES,
      this.q.mint,
      this.q.maxt,
    );
  }

  chunks(): ChunkMeta[] {
    return this.s.chunks.map((ref) => ({
      minTime: ref.minTime,
      maxTime: ref.maxTime,
      data: this.q.reader.chunk(ref),
    }));
  }
}

export class BlockQuerier implements Querier {
  readonly decoder: ChunkDecoder;

  constructor(
    readonly reader: BlockReader,
    engine: Engine,
    readonly mint: number,
    readonly maxt: number,
    /** Told when a read finds the block corrupt (the store quarantines it). */
    readonly onCorrupt?: (reader: BlockReader, error: Error) => void,
  ) {
    this.decoder = new ChunkDecoder(engine);
  }

  select(matchers: readonly Matcher[], hints?: SelectHints): Series[] {
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const out = this.reader.select(matchers, { mint, maxt }).map((s) =>
      new BlockSeriesView(this, s)
    );
    if (hints?.limit !== undefined && out.length > hints.limit) {
      out.length = hints.limit;
    }
    return out;
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    return this.reader.labelNames(matchers);
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    return this.reader.labelValues(name, matchers);
  }

  close(): void {
    this.decoder.free();
  }
}
