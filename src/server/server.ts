/**
 * The server as one object: opens the store, serves HTTP, runs
 * maintenance, and shuts down cleanly. `/-/healthy` answers at once;
 * `/-/ready` and every data route wait for the WAL replay (503 before).
 * @module
 */
import { PromQLEngine } from "../promql/engine.ts";
import { Db } from "../storage/db.ts";
import { createApp } from "./app.ts";
import type { TenantLimits } from "./context.ts";
import type { Config } from "./flags.ts";
import type { MetadataSource } from "./handlers/prom_meta.ts";
import { PushgatewayStore } from "./handlers/pushgateway.ts";
import { createMetricsApi } from "./handlers/metrics_api.ts";
import { MetricsStore } from "../metricsapi/store.ts";
import { createRemoteWriteHandler } from "./handlers/remote_write.ts";
import { MetadataStore } from "../ingest/remote_write_metadata.ts";
import { promError } from "./http/envelope.ts";
import { HttpError } from "./http/errors.ts";
import type { RateLimitFn } from "./router.ts";
import { buildRoutes } from "./routes.ts";
import { Registry } from "./self_metrics.ts";
import { ingestCounters, registerStoreMetrics } from "./store_metrics.ts";

/** The Prometheus API version the HTTP API follows (for Grafana's detection). */
const PROMETHEUS_API_VERSION = "3.0.0";
const VERSION = "0.1.0";

/** Hooks a server is built with (the auth and limit policies). */
export interface ServerPolicies {
  authenticate(
    header: string | null,
    nowMs: number,
  ): Promise<{ tenant: string }>;
  limitsFor(tenant: string): TenantLimits;
  rateLimit: RateLimitFn;
  /** Most series a tenant may hold (0: unlimited). */
  maxSeries(tenant: string): number;
}

/** Server-wide options besides the flags. */
export interface ServerOptions {
  policies: ServerPolicies;
  /** Longest a query may run (ms, default 2 min). */
  queryTimeoutMs?: number;
  /** Maintenance period (ms, default 60 s). */
  maintenanceMs?: number;
  log?(fields: Record<string, unknown>): void;
}

function jsonLog(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), ...fields }));
}

/** A running server. */
export class TidemarkServer {
  #db: Db | null = null;
  #pushgateway: PushgatewayStore | null = null;
  #metricsStore: MetricsStore | null = null;
  #maintenance: ReturnType<typeof setInterval> | undefined;
  readonly #shutdown = new AbortController();
  readonly registry = new Registry();

  private constructor(
    readonly config: Config,
    readonly options: ServerOptions,
    readonly http: Deno.HttpServer<Deno.NetAddr>,
    readonly ready: Promise<void>,
  ) {}

  /** Listens at once, then opens the store (replaying the WAL). */
  static start(config: Config, options: ServerOptions): TidemarkServer {
    const log = options.log ?? jsonLog;
    let handler: ((req: Request) => Promise<Response>) | null = null;
    const http = Deno.serve(
      {
        port: config.port,
        hostname: config.host,
        onListen: ({ hostname, port }) =>
          log({ msg: "listening", hostname, port }),
      },
      (req) => handler ? handler(req) : notReady(req),
    );
    let resolveReady!: () => void;
    let rejectReady!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    const server = new TidemarkServer(config, options, http, ready);
    server.#open(log).then((h) => {
      handler = h;
      resolveReady();
    }, rejectReady);
    return server;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.http.addr.port;
  }

  /** The store (after `ready`). */
  get db(): Db {
    if (!this.#db) throw new Error("store not open yet");
    return this.#db;
  }

  async #open(
    log: (f: Record<string, unknown>) => void,
  ): Promise<(req: Request) => Promise<Response>> {
    const { config, options } = this;
    const started = performance.now();
    const db = await Db.open({
      dataDir: config.dataDir,
      retention: config.retention,
      outOfOrderWindow: config.oooWindow,
      maxSeriesPerTenant: (t) => options.policies.maxSeries(t) || Infinity,
    });
    this.#db = db;
    log({
      msg: "store open",
      dataDir: config.dataDir,
      replayedSeries: db.replay.series,
      replayedSamples: db.replay.samples,
      seconds: (performance.now() - started) / 1000,
    });
    const engine = new PromQLEngine(db, {
      timeoutMs: options.queryTimeoutMs ?? 120_000,
    });
    registerStoreMetrics(this.registry, db);
    const metadataStore = new MetadataStore();
    const metadata: MetadataSource = {
      metadata: (tenant, metric) =>
        new Map(Object.entries(metadataStore.get(tenant, metric))),
    };
    const remoteWrite = createRemoteWriteHandler({
      metadata: metadataStore,
      onOutcome: ingestCounters(this.registry),
    });
    const pushgateway = await PushgatewayStore.open({
      storage: db,
      dataDir: config.dataDir,
    });
    this.#pushgateway = pushgateway;
    const metricsStore = await MetricsStore.open({
      dataDir: config.dataDir,
      db,
      warn: (m) => log({ msg: m }),
    });
    this.#metricsStore = metricsStore;
    pushgateway.start();
    const routes = buildRoutes({
      registry: this.registry,
      metadata,
      pushgateway,
      remoteWrite,
      metricsApi: createMetricsApi(metricsStore),
      buildInfo: {
        version: PROMETHEUS_API_VERSION,
        revision: "",
        branch: "",
        buildUser: "tidemark",
        buildDate: "",
        goVersion: `deno ${Deno.version.deno}`,
        tidemarkVersion: VERSION,
      },
      isReady: () => true,
    });
    this.#maintenance = setInterval(() => {
      db.maintain().catch((e) =>
        log({ msg: "maintenance failed", error: String(e) })
      );
    }, options.maintenanceMs ?? 60_000);
    return createApp({
      db,
      engine,
      now: () => Date.now(),
      queryTimeoutMs: options.queryTimeoutMs ?? 120_000,
      routes,
      registry: this.registry,
      authenticate: options.policies.authenticate,
      limitsFor: options.policies.limitsFor,
      rateLimit: options.policies.rateLimit,
      shutdown: this.#shutdown.signal,
      log,
    });
  }

  /** Stops accepting, finishes in-flight requests, flushes and closes the store. */
  async close(): Promise<void> {
    clearInterval(this.#maintenance);
    await this.http.shutdown();
    this.#shutdown.abort();
    await this.ready.catch(() => {});
    await this.#pushgateway?.stop();
    await this.#metricsStore?.close();
    await this.#db?.close();
  }
}

function notReady(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/-/healthy") return Promise.resolve(new Response("Healthy.\n"));
  if (path === "/-/ready" || !path.startsWith("/api/")) {
    return Promise.resolve(
      new Response("Service Unavailable\n", { status: 503 }),
    );
  }
  return Promise.resolve(promError(
    new HttpError(503, "unavailable", "the store is still replaying its WAL"),
  ));
}
