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
  #closed = false;
  #maintaining: Promise<MaintenanceReport> | null = null;
  replay: ReplayStats = { series: 0, samples: 0, seconds: 0 };

  private constructor(
    readonly engine: Engine,
    readonly options: DbOptions,
    private readonly log: CommitLog & { close(): Promise<void> },
  ) {}

  /** Opens (creating when needed) the store under options.dataDir. */
  static async open(options: DbOptions): Promise<Db> {
    const engine = options.engine ?? await loadEngine();
    await Deno.mkdir(options.dataDir, { recursive: true });
    const log = options.log ?? await openWal(options.dataDir);
    const db = new Db(engine, options, log);
    await db.#openBlocks();
    return db;
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
    this.#maintaining ??= this.#maintain().finally(() => {
      this.#maintaining = null;
    });
    return this.#maintaining;
  }

  async #maintain(): Promise<MaintenanceReport> {
    const report = { blocksWritten: 0, blocksCompacted: 0, blocksDropped: 0 };
    const retention = this.options.retention ?? 15 * 86_400_000;
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
      if (!head || head.readers === 0) blocks.closeRetired();
    }
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
    return parts.length === 1 ? parts[0] : new MergeQuerier(parts);
  }

  deleteSeries(
    _tenant: TenantId,
    _matchers: readonly Matcher[],
    _mint: number,
    _maxt: number,
  ): Promise<number> {
    return Promise.reject(new Error("deletion is not implemented yet"));
  }

  stats(tenant: TenantId, limit = 10): TenantStats {
    const h = this.#heads.get(tenant);
    if (!h) {
      return {
        numSeries: 0,
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

// deno-lint-ignore require-await
async function openWal(
  _dataDir: string,
): Promise<CommitLog & { close(): Promise<void> }> {
  throw new Error("WAL not wired yet");
}
