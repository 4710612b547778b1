/**
 * The store: one head per tenant over one engine module, a write-ahead log
 * under <dataDir>/wal, and (next) blocks under <dataDir>/tenants. Tenants
 * are a storage dimension: each has its own head, index, and stats, so no
 * read path can reach another tenant's series.
 * @module
 */
import { type Engine, loadEngine } from "../bindings/engine.ts";
import type { Matcher } from "../model/matcher.ts";
import { type CommitLog, HeadAppender } from "./appender.ts";
import {
  DEFAULT_HEAD_OPTIONS,
  type HeadOptions,
  type SampleFate,
  TenantHead,
} from "./head/head.ts";
import { HeadQuerier } from "./head/read.ts";
import { TenantBlocks } from "./blocks.ts";
import { listBlocks } from "./block/mod.ts";
import { MergeQuerier } from "./merge.ts";
import { LimitedQuerier } from "./limits.ts";
import {
  type FsyncPolicy,
  replay as replayWal,
  Wal,
  type WalRecord,
} from "./wal/mod.ts";
import type {
  Appender,
  Querier,
  Storage,
  TenantId,
  TenantStats,
} from "./interface.ts";
import { EMPTY_QUERIER } from "./querier_empty.ts";

/** Options of a store. */
export interface DbOptions {
  dataDir: string;
  /** Out-of-order window, ms (default 1 h). */
  outOfOrderWindow?: number;
  /** Most series per tenant (default unlimited). */
  maxSeriesPerTenant?: number | ((tenant: TenantId) => number);
  /** The engine to use (default: load build/engine.wasm). */
  engine?: Engine;
  /** The commit log (default: the WAL under dataDir). */
  log?: CommitLog & { close(): Promise<void> };
  /** Samples older than the newest sample minus this are dropped, with whole blocks (ms; default 15 d). */
  retention?: number;
  /** Most samples one querier's iterators may return (default unlimited). */
  maxSamplesPerQuery?: number | ((tenant: TenantId) => number);
  /** WAL fsync policy (default "interval": kill -9 safe, power loss within ~1 s). */
  fsync?: FsyncPolicy;
}

/** What one maintenance pass did. */
export interface MaintenanceReport {
  blocksWritten: number;
  blocksCompacted: number;
  blocksDropped: number;
}

/** What replaying the WAL found. */
export interface ReplayStats {
  series: number;
  samples: number;
  seconds: number;
}

export class Db implements Storage {
  readonly #heads = new Map<TenantId, TenantHead>();
  readonly #blocks = new Map<TenantId, TenantBlocks>();
  readonly #openQueriers = new Map<TenantId, number>();
  #closed = false;
  #maintaining: Promise<MaintenanceReport> | null = null;
  replay: ReplayStats = { series: 0, samples: 0, seconds: 0 };
  /** What every maintenance pass so far did, summed (self-monitoring). */
  readonly maintenanceTotals = {
    passes: 0,
    blocksWritten: 0,
    blocksCompacted: 0,
    blocksDropped: 0,
  };

  /** WAL cuts not yet truncated: segments below `segment` hold samples up to each tenant's `maxTimes`. */
  #cuts: { segment: number; maxTimes: Map<TenantId, number> }[] = [];

  private constructor(
    readonly engine: Engine,
    readonly options: DbOptions,
    private readonly log: CommitLog & { close(): Promise<void> },
    private readonly wal: Wal | null,
  ) {}

  /** Opens (creating when needed) the store under options.dataDir. */
  static async open(options: DbOptions): Promise<Db> {
    const engine = options.engine ?? await loadEngine();
    await Deno.mkdir(options.dataDir, { recursive: true });
    const walDir = `${options.dataDir}/wal`;
    let wal: Wal | null = null;
    let log = options.log;
    const pending: WalRecord[] = [];
    if (!log) {
      const report = await replayWal(walDir, (rec) => {
        pending.push(rec);
      });
      wal = await Wal.open(walDir, { fsync: options.fsync });
      log = wal;
      const db = new Db(engine, options, log, wal);
      await db.#openBlocks();
      const t0 = performance.now();
      for (const rec of pending) db.#apply(rec);
      db.replay = {
        series: report.series,
        samples: report.samples,
        seconds: (report.durationMs + performance.now() - t0) / 1000,
      };
      return db;
    }
    const db = new Db(engine, options, log, null);
    await db.#openBlocks();
    return db;
  }

  /** Applies one replayed WAL record to the heads. */
  #apply(rec: WalRecord): void {
    switch (rec.kind) {
      case "series": {
        const head = this.head(rec.tenant);
        for (const s of rec.series) head.getOrCreate(s.labels, s.ref);
        return;
      }
      case "samples": {
        const head = this.head(rec.tenant);
        const n = rec.refs.length;
        const batch = {
          series: new Array(n),
          ts: new Float64Array(n),
          values: new Float64Array(n),
          count: 0,
        };
        const src = new Uint32Array(
          rec.values.buffer,
          rec.values.byteOffset,
          n * 2,
        );
        const dst = new Uint32Array(batch.values.buffer);
        for (let i = 0; i < n; i++) {
          const s = head.byRef(rec.refs[i]);
          if (!s) continue; // its series was persisted and dropped
          const m = batch.count++;
          batch.series[m] = s;
          batch.ts[m] = rec.ts[i];
          dst[2 * m] = src[2 * i];
          dst[2 * m + 1] = src[2 * i + 1];
        }
        // Samples already in a block are older than minValidTime: skip them.
        head.appendBatch(batch, new Array(batch.count));
        return;
      }
      case "tombstones": {
        this.#heads.get(rec.tenant)?.deleteRange(rec.refs, rec.mint, rec.maxt);
        return;
      }
      case "checkpoint":
        return;
    }
  }

  async #openBlocks(): Promise<void> {
    const root = `${this.options.dataDir}/tenants`;
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(root)];
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const entry of entries) {
      if (!entry.isDirectory) continue;
      const listing = await listBlocks(`${root}/${entry.name}/blocks`);
      const tenant = listing.blocks[0]?.tenant;
      if (tenant === undefined) continue;
      this.#blocks.set(
        tenant,
        await TenantBlocks.open(tenant, this.options.dataDir, this.engine),
      );
    }
  }

  async #tenantBlocks(tenant: TenantId): Promise<TenantBlocks> {
    let b = this.#blocks.get(tenant);
    if (!b) {
      b = await TenantBlocks.open(tenant, this.options.dataDir, this.engine);
      this.#blocks.set(tenant, b);
    }
    return b;
  }

  /**
   * Persists head ranges into blocks, compacts blocks, applies retention.
   * Runs one pass at a time; the server calls it periodically.
   */
  maintain(): Promise<MaintenanceReport> {
    this.#maintaining ??= this.#maintain().then((r) => {
      this.maintenanceTotals.passes++;
      this.maintenanceTotals.blocksWritten += r.blocksWritten;
      this.maintenanceTotals.blocksCompacted += r.blocksCompacted;
      this.maintenanceTotals.blocksDropped += r.blocksDropped;
      return r;
    }).finally(() => {
      this.#maintaining = null;
    });
    return this.#maintaining;
  }

  async #maintain(): Promise<MaintenanceReport> {
    const report = { blocksWritten: 0, blocksCompacted: 0, blocksDropped: 0 };
    const retention = this.options.retention ?? 15 * 86_400_000;
    if (this.wal) {
      // Everything logged before this cut is in segments below it, with
      // samples no newer than each head's current max time.
      const segment = await this.wal.cut();
      const maxTimes = new Map<TenantId, number>();
      for (const [tenant, head] of this.#heads) {
        maxTimes.set(tenant, head.maxTime);
      }
      this.#cuts.push({ segment, maxTimes });
    }
    for (const [tenant, head] of this.#heads) {
      const blocks = await this.#tenantBlocks(tenant);
      while (await blocks.persistHead(head)) report.blocksWritten++;
      report.blocksCompacted += await blocks.compact(
        Number.isFinite(head.minValidTime) ? head.minValidTime : -Infinity,
      );
    }
    for (const [tenant, blocks] of this.#blocks) {
      const head = this.#heads.get(tenant);
      const newest = Math.max(blocks.maxTime, head?.maxTime ?? -Infinity);
      if (Number.isFinite(newest)) {
        report.blocksDropped += await blocks.dropBefore(newest - retention);
      }
      if ((this.#openQueriers.get(tenant) ?? 0) === 0) blocks.closeRetired();
    }
    await this.#truncateWal();
    return report;
  }

  /** The head of a tenant, created on first use. */
  head(tenant: TenantId): TenantHead {
    let h = this.#heads.get(tenant);
    if (!h) {
      const limit = this.options.maxSeriesPerTenant;
      const opts: HeadOptions = {
        ...DEFAULT_HEAD_OPTIONS,
        outOfOrderWindow: this.options.outOfOrderWindow ??
          DEFAULT_HEAD_OPTIONS.outOfOrderWindow,
        maxSeries: typeof limit === "function"
          ? limit(tenant)
          : limit ?? Infinity,
      };
      h = new TenantHead(this.engine, opts);
      // What blocks hold is not accepted again (nor replayed from the WAL).
      h.minValidTime = this.#blocks.get(tenant)?.maxTime ?? -Infinity;
      this.#heads.set(tenant, h);
    }
    return h;
  }

  appender(tenant: TenantId): Appender {
    this.#live();
    return new HeadAppender(tenant, this.head(tenant), this.log);
  }

  querier(tenant: TenantId, mint: number, maxt: number): Querier {
    this.#live();
    const h = this.#heads.get(tenant);
    const blocks = this.#blocks.get(tenant)?.queriers(mint, maxt) ?? [];
    if (!h && blocks.length === 0) return EMPTY_QUERIER;
    const parts: Querier[] = [...blocks];
    if (h) parts.push(new HeadQuerier(h, mint, maxt));
    let q = parts.length === 1 ? parts[0] : new MergeQuerier(parts);
    const cap = this.options.maxSamplesPerQuery;
    const limit = typeof cap === "function" ? cap(tenant) : cap;
    if (limit !== undefined && Number.isFinite(limit)) {
      q = new LimitedQuerier(q, limit);
    }
    // Count open queriers: block readers retired by compaction, retention
    // or deletion are closed only when none can still read them.
    this.#openQueriers.set(tenant, (this.#openQueriers.get(tenant) ?? 0) + 1);
    let closed = false;
    const inner = q;
    return {
      select: (m, hints) => inner.select(m, hints),
      labelNames: (m) => inner.labelNames(m),
      labelValues: (n, m) => inner.labelValues(n, m),
      close: () => {
        if (closed) return;
        closed = true;
        inner.close();
        const left = (this.#openQueriers.get(tenant) ?? 1) - 1;
        this.#openQueriers.set(tenant, left);
        if (left === 0) this.#blocks.get(tenant)?.closeRetired();
      },
    };
  }

  /**
   * Deletes samples of matching series within [mint, maxt] (inclusive):
   * from the head (logged to the WAL, so replay deletes them again) and
   * from blocks (rewritten). Resolves to the number of series that lost
   * samples (a series in head and blocks counts in each).
   */
  async deleteSeries(
    tenant: TenantId,
    matchers: readonly Matcher[],
    mint: number,
    maxt: number,
  ): Promise<number> {
    this.#live();
    let touched = 0;
    const head = this.#heads.get(tenant);
    if (head) {
      const refs = head.index.select(matchers);
      if (refs.length > 0) {
        touched += head.deleteRange(refs, mint, maxt);
        if (this.wal) {
          this.wal.logTombstones(tenant, refs, mint, maxt);
          await this.wal.commit();
        }
      }
    }
    const blocks = this.#blocks.get(tenant);
    if (blocks) touched += await blocks.deleteSeries(matchers, mint, maxt);
    return touched;
  }

  /** Tenants with a head (written to since the store opened or replayed). */
  tenants(): TenantId[] {
    return [...this.#heads.keys()];
  }

  stats(tenant: TenantId, limit = 10): TenantStats {
    const h = this.#heads.get(tenant);
    if (!h) {
      return {
        numSeries: 0,
        numLabelPairs: 0,
        minTime: 0,
        maxTime: 0,
        seriesCountByMetricName: [],
        labelValueCountByLabelName: [],
        memoryInBytesByLabelName: [],
        seriesCountByLabelValuePair: [],
      };
    }
    return {
      ...h.index.stats(limit),
      numSeries: h.numSeries,
      minTime: Number.isFinite(h.minTime) ? h.minTime : 0,
      maxTime: Number.isFinite(h.maxTime) ? h.maxTime : 0,
    };
  }

  /**
   * Drops WAL segments whose every sample is now in a block: a cut's
   * segments go once each tenant's head only accepts samples newer than
   * what they held. A checkpoint keeps the series still alive.
   */
  async #truncateWal(): Promise<void> {
    if (!this.wal) return;
    let upTo = -1;
    for (const cut of this.#cuts) {
      let persisted = true;
      for (const [tenant, maxTime] of cut.maxTimes) {
        const head = this.#heads.get(tenant);
        if (
          Number.isFinite(maxTime) && !(head && head.minValidTime > maxTime)
        ) {
          persisted = false;
        }
      }
      if (!persisted) break;
      upTo = cut.segment;
    }
    if (upTo < 0) return;
    this.#cuts = this.#cuts.filter((c) => c.segment > upTo);
    const heads = this.#heads;
    await this.wal.truncate(upTo, {
      series: (function* () {
        for (const [tenant, head] of heads) {
          for (const s of head.allSeries()) {
            yield { tenant, ref: s.ref, labels: s.labels };
          }
        }
      })(),
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#maintaining?.catch(() => {});
    await this.log.close();
    for (const h of this.#heads.values()) h.close();
    this.#heads.clear();
    for (const b of this.#blocks.values()) b.close();
    this.#blocks.clear();
  }

  #live(): void {
    if (this.#closed) throw new Error("the store is closed");
  }
}

export type { SampleFate };
