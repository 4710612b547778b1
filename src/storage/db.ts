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
}

/** What replaying the WAL found. */
export interface ReplayStats {
  series: number;
  samples: number;
  seconds: number;
}

export class Db implements Storage {
  readonly #heads = new Map<TenantId, TenantHead>();
  #closed = false;
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
    return new Db(engine, options, log);
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
    if (!h) return EMPTY_QUERIER;
    return new HeadQuerier(h, mint, maxt);
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
      numSeries: h.numSeries,
      minTime: Number.isFinite(h.minTime) ? h.minTime : 0,
      maxTime: Number.isFinite(h.maxTime) ? h.maxTime : 0,
      ...h.index.stats(limit),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.log.close();
    for (const h of this.#heads.values()) h.close();
    this.#heads.clear();
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
