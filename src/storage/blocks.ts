/**
 * A tenant's blocks: the open readers, persisting the head's oldest range
 * into a new block, compacting blocks into larger aligned ranges, and
 * dropping blocks past retention. Blocks are immutable; a reader stays open
 * until the block is superseded or expired.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import type { Matcher } from "../model/matcher.ts";
import {
  type BlockChunkInput,
  BlockReader,
  type BlockSamplesInput,
  type BlockSeriesInput,
  compactBlocks,
  deleteBlock,
  listBlocks,
  removeTmpBlocks,
  tenantBlocksDir,
  writeBlock,
} from "./block/mod.ts";
import { BlockQuerier } from "./block_querier.ts";
import {
  ChunkDecoder,
  ChunkSeriesIterator,
  type ChunkSource,
  collectSamples,
  toChunks,
} from "./chunk_iterator.ts";
import type { TenantHead } from "./head/head.ts";
import type { HeadSeries } from "./head/series.ts";
import type { Querier, TenantId } from "./interface.ts";

/** Block ranges: the head persists 2 h blocks; compaction makes 6 h and 24 h ones. */
export const BLOCK_RANGES = [2 * 3600_000, 6 * 3600_000, 24 * 3600_000];

export class TenantBlocks {
  readers: BlockReader[] = [];
  /** Readers replaced while queriers may still use them: closed later. */
  #retired: BlockReader[] = [];
  readonly dir: string;

  private constructor(
    readonly tenant: TenantId,
    dataDir: string,
    readonly engine: Engine,
  ) {
    this.dir = tenantBlocksDir(dataDir, tenant);
  }

  /** Opens a tenant's blocks, reporting and skipping corrupt ones. */
  static async open(
    tenant: TenantId,
    dataDir: string,
    engine: Engine,
  ): Promise<TenantBlocks> {
    const b = new TenantBlocks(tenant, dataDir, engine);
    await removeTmpBlocks(b.dir);
    const listing = await listBlocks(b.dir, tenant);
    for (const c of listing.corrupt) {
      console.warn(
        `tidemark: skipping corrupt block ${c.dir}: ${c.error.message}`,
      );
    }
    for (const s of listing.superseded) await deleteBlock(s.dir);
    const superseded = new Set(listing.superseded.map((s) => s.dir));
    for (const meta of listing.blocks) {
      if (superseded.has(meta.dir)) continue;
      try {
        b.readers.push(await BlockReader.open(meta.dir, { engine }));
      } catch (e) {
        console.warn(
          `tidemark: skipping corrupt block ${meta.dir}: ${
            (e as Error).message
          }`,
        );
      }
    }
    b.#sort();
    return b;
  }

  #sort(): void {
    this.readers.sort((x, y) =>
      x.meta.minTime - y.meta.minTime || x.meta.maxTime - y.meta.maxTime
    );
  }

  /** Newest time covered by a block (exclusive), or -Infinity. */
  get maxTime(): number {
    let t = -Infinity;
    for (const r of this.readers) t = Math.max(t, r.meta.maxTime);
    return t;
  }

  /** Queriers of the blocks overlapping [mint, maxt] (inclusive), oldest first. */
  queriers(mint: number, maxt: number): Querier[] {
    return this.readers
      .filter((r) => r.meta.minTime <= maxt && r.meta.maxTime > mint)
      .map((r) =>
        new BlockQuerier(
          r,
          this.engine,
          mint,
          maxt,
          (bad, e) => this.#quarantine(bad, e),
        )
      );
  }

  /**
   * A read found a block corrupt (its chunk checksums are checked on read):
   * report it and stop serving it. The query that met it fails with the
   * error; later ones skip the block. Its files stay for inspection.
   */
  #quarantine(reader: BlockReader, error: Error): void {
    if (!this.readers.includes(reader)) return;
    console.error(
      `tidemark: corrupt block ${reader.dir} is no longer served: ${error.message}`,
    );
    this.readers = this.readers.filter((r) => r !== reader);
    this.#retired.push(reader);
  }

  /**
   * Persists [start, start + range) of the head as a block, then drops that
   * range from the head. Returns the new block's range, or null when the
   * head does not span enough time yet (1.5 ranges, as Prometheus waits).
   */
  async persistHead(
    head: TenantHead,
    range = BLOCK_RANGES[0],
  ): Promise<[number, number] | null> {
    if (!(head.maxTime - head.minTime >= range * 1.5)) return null;
    const start = Math.floor(head.minTime / range) * range;
    const end = start + range;
    // From now on nothing older than `end` may enter the head.
    head.minValidTime = Math.max(head.minValidTime, end);
    const picked: HeadSeries[] = [];
    for (const s of head.allSeries()) {
      head.cutIfBefore(s, end);
      const hasChunks = s.chunks.length > 0 && s.chunks[0].maxTime < end;
      const hasOoo = s.ooo !== null && s.ooo.count > 0 && s.ooo.ts[0] < end;
      if (hasChunks || hasOoo) picked.push(s);
    }
    head.acquire(); // keep chunk memory while the block is written
    const decoder = new ChunkDecoder(this.engine);
    try {
      if (picked.length > 0) {
        const written = await writeBlock(
          this.dir,
          {
            engine: this.engine,
            tenant: this.tenant,
            minTime: start,
            maxTime: end,
            series: headSeriesInRange(this.engine, decoder, picked, start, end),
          },
        );
        this.readers.push(
          await BlockReader.open(written.dir, { engine: this.engine }),
        );
        this.#sort();
      }
    } finally {
      decoder.free();
      head.release();
    }
    head.truncateBefore(end);
    head.minTime = Math.max(head.minTime, end);
    return [start, end];
  }

  /**
   * Compacts blocks lying within one aligned window of a larger range into
   * one block, for every window entirely older than `before`. Returns how
   * many compactions ran.
   */
  async compact(before: number): Promise<number> {
    let done = 0;
    for (const range of BLOCK_RANGES.slice(1)) {
      const groups = new Map<number, BlockReader[]>();
      for (const r of this.readers) {
        const w = Math.floor(r.meta.minTime / range) * range;
        if (r.meta.maxTime > w + range || w + range > before) continue;
        if (r.meta.maxTime - r.meta.minTime >= range) continue;
        groups.set(w, [...(groups.get(w) ?? []), r]);
      }
      for (const group of groups.values()) {
        if (group.length < 2) continue;
        const written = await compactBlocks(
          this.engine,
          group.map((r) => r.dir),
          this.dir,
        );
        const fresh = await BlockReader.open(written.dir, {
          engine: this.engine,
        });
        this.readers = this.readers.filter((r) => !group.includes(r));
        this.readers.push(fresh);
        this.#sort();
        for (const r of group) {
          this.#retired.push(r);
          await deleteBlock(r.dir);
        }
        done++;
      }
    }
    return done;
  }

  /**
   * Deletes the samples of matching series within [mint, maxt] (inclusive)
   * from every block holding any: each such block is rewritten without
   * them (its replacement names it as parent, so a crash between writing
   * and deleting leaves the old one superseded, removed at the next open).
   * Returns how many series lost samples.
   */
  async deleteSeries(
    matchers: readonly Matcher[],
    mint: number,
    maxt: number,
  ): Promise<number> {
    let touched = 0;
    for (const reader of [...this.readers]) {
      if (reader.meta.minTime > maxt || reader.meta.maxTime <= mint) continue;
      const ids = new Set(reader.selectIds(matchers));
      let hit = 0;
      for (const id of ids) {
        if (
          reader.seriesAt(id).chunks.some((c) =>
            c.maxTime >= mint && c.minTime <= maxt
          )
        ) hit++;
      }
      if (hit === 0) continue;
      touched += hit;
      const written = await writeBlock(this.dir, {
        engine: this.engine,
        tenant: this.tenant,
        minTime: reader.meta.minTime,
        maxTime: reader.meta.maxTime,
        level: reader.meta.level,
        sources: reader.meta.sources,
        parents: [reader.meta.id],
        series: withoutRange(reader, ids, mint, maxt),
      });
      const fresh = await BlockReader.open(written.dir, {
        engine: this.engine,
      });
      this.readers = this.readers.filter((r) => r !== reader);
      this.readers.push(fresh);
      this.#sort();
      this.#retired.push(reader);
      await deleteBlock(reader.dir);
    }
    return touched;
  }

  /** Drops whole blocks ending at or before `before` (retention). Returns how many. */
  async dropBefore(before: number): Promise<number> {
    const expired = this.readers.filter((r) => r.meta.maxTime <= before);
    this.readers = this.readers.filter((r) => r.meta.maxTime > before);
    for (const r of expired) {
      this.#retired.push(r);
      await deleteBlock(r.dir);
    }
    return expired.length;
  }

  /** Closes readers retired while no querier can use them any more. */
  closeRetired(): void {
    for (const r of this.#retired) r.close();
    this.#retired = [];
  }

  close(): void {
    this.closeRetired();
    for (const r of this.readers) r.close();
    this.readers = [];
  }
}

/** The head's data in [start, end) per series, as block input. */
function* headSeriesInRange(
  engine: Engine,
  decoder: ChunkDecoder,
  picked: HeadSeries[],
  start: number,
  end: number,
): Generator<BlockSeriesInput> {
  for (const s of picked) {
    const closed = s.chunks.filter((c) =>
      c.maxTime < end && c.maxTime >= start
    );
    const ooo = s.ooo;
    let oooEnd = 0;
    if (ooo) { while (oooEnd < ooo.count && ooo.ts[oooEnd] < end) oooEnd++; }
    let chunks: BlockChunkInput[];
    if (oooEnd === 0) {
      chunks = closed.map((c) => ({
        minTime: c.minTime,
        maxTime: c.maxTime,
        data: engine.u8.slice(c.ptr, c.ptr + c.len),
      }));
    } else {
      // Out-of-order samples: merge with the chunks and re-encode.
      const sources: ChunkSource[] = closed.map((c) => ({ ...c, bytes: null }));
      const it = new ChunkSeriesIterator(
        decoder,
        sources,
        ooo!.ts.subarray(0, oooEnd),
        ooo!.values.subarray(0, oooEnd),
        start,
        end - 1,
      );
      chunks = toChunks(engine, collectSamples(it));
    }
    if (chunks.length > 0) yield { labels: s.labels, chunks };
  }
}

/** A block's series, as samples, with [mint, maxt] removed from those in `ids`. */
function* withoutRange(
  reader: BlockReader,
  ids: Set<number>,
  mint: number,
  maxt: number,
): Generator<BlockSamplesInput> {
  for (const s of reader.series()) {
    const parts = s.chunks.map((ref) => reader.samples(ref));
    const total = parts.reduce((a, p) => a + p.ts.length, 0);
    const ts = new Float64Array(total);
    const values = new Float64Array(total);
    // Value bits move as 32-bit words, never through a JS number.
    const words = new Uint32Array(values.buffer);
    let n = 0;
    const cut = ids.has(s.id);
    for (const p of parts) {
      const src = new Uint32Array(
        p.values.buffer,
        p.values.byteOffset,
        p.values.length * 2,
      );
      for (let i = 0; i < p.ts.length; i++) {
        const t = p.ts[i];
        if (cut && t >= mint && t <= maxt) continue;
        ts[n] = t;
        words[2 * n] = src[2 * i];
        words[2 * n + 1] = src[2 * i + 1];
        n++;
      }
    }
    if (n > 0) {
      yield {
        labels: s.labels,
        samples: { ts: ts.subarray(0, n), values: values.subarray(0, n) },
      };
    }
  }
}
