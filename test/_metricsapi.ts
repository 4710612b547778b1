// A Metrics API server for tests: Db + PromQLEngine + MetricsStore on a temp
// dir, the handlers behind a minimal router (as the lead's router renders
// HttpError: {"error":{code,message}}), on a free loopback port.
import { Db } from "../src/storage/db.ts";
import { PromQLEngine } from "../src/promql/engine.ts";
import {
  MetricsStore,
  type MetricsStoreOptions,
} from "../src/metricsapi/store.ts";
import { createMetricsApi } from "../src/server/handlers/metrics_api.ts";
import type {
  Handler,
  RequestContext,
  TenantLimits,
} from "../src/server/context.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { apiError } from "../src/server/http/envelope.ts";

export const LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 16 << 20,
  maxDecodedBytes: 64 << 20,
  maxActiveSeries: 0,
};

export interface MetricsApiServer {
  readonly base: string;
  readonly db: Db;
  readonly engine: PromQLEngine;
  readonly store: MetricsStore;
  readonly dataDir: string;
  /** A clock the test may move (ms). */
  clock: { now: number };
  /** JSON request helper: status and parsed body. */
  call(
    method: string,
    path: string,
    body?: unknown,
    tenant?: string,
    // deno-lint-ignore no-explicit-any -- response bodies are checked field by field
  ): Promise<{ status: number; json: any }>;
  /** Stops the server and closes the stores; removes the dir unless keep. */
  close(keep?: boolean): Promise<void>;
}

/** Starts a server over `dataDir` (a new temp dir by default). */
export async function startMetricsApi(
  opts: {
    dataDir?: string;
    now?: number;
    store?: Partial<MetricsStoreOptions>;
  } = {},
): Promise<MetricsApiServer> {
  const dataDir = opts.dataDir ??
    await Deno.makeTempDir({ prefix: "tm-mapi-" });
  const clock = { now: opts.now ?? Date.now() };
  const db = await Db.open({ dataDir });
  const engine = new PromQLEngine(db);
  const store = await MetricsStore.open({
    ...opts.store,
    dataDir,
    db,
    now: () => clock.now,
  });
  const api = createMetricsApi(store);
  const routes: [string, RegExp, Handler][] = [
    ["POST", /^\/api\/v1\/metrics$/, api.postMetric],
    ["POST", /^\/api\/v1\/metrics\/batch$/, api.postBatch],
    ["POST", /^\/api\/v1\/flux\/batch$/, api.postFlux],
    ["GET", /^\/api\/v1\/metrics$/, api.listMetrics],
    ["GET", /^\/api\/v1\/metrics\/(?<name>[^/]+)\/query$/, api.queryMetric],
    ["GET", /^\/api\/v1\/metrics\/(?<name>[^/]+)$/, api.getMetric],
    ["GET", /^\/api\/v1\/events$/, api.listEvents],
  ];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      for (const [method, re, handler] of routes) {
        const m = re.exec(url.pathname);
        if (!m || method !== req.method) continue;
        const params: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.groups ?? {})) {
          params[k] = decodeURIComponent(v);
        }
        const ctx: RequestContext = {
          db,
          engine,
          now: () => clock.now,
          queryTimeoutMs: 10_000,
          tenant: req.headers.get("x-tenant") ?? "default",
          limits: LIMITS,
          signal: req.signal,
          params,
        };
        try {
          return await handler(req, ctx);
        } catch (e) {
          if (e instanceof HttpError) return apiError(e);
          console.error(e);
          return new Response(String(e), { status: 500 });
        }
      }
      return new Response("no route", { status: 404 });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    db,
    engine,
    store,
    dataDir,
    clock,
    async call(method, path, body, tenant = "default") {
      const res = await fetch(base + path, {
        method,
        headers: { "content-type": "application/json", "x-tenant": tenant },
        body: body === undefined
          ? undefined
          : typeof body === "string"
          ? body
          : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch { /* not JSON: keep the text */ }
      return { status: res.status, json };
    },
    async close(keep = false) {
      await server.shutdown();
      await store.close();
      await db.close();
      if (!keep) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Posts items in batches of 500, `parallel` requests at a time; asserts all accepted. */
export async function postAll(
  srv: MetricsApiServer,
  metrics: unknown[],
  parallel = 8,
  tenant = "default",
): Promise<void> {
  const batches: unknown[][] = [];
  for (let i = 0; i < metrics.length; i += 500) {
    batches.push(metrics.slice(i, i + 500));
  }
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      const r = await srv.call(
        "POST",
        "/api/v1/metrics/batch",
        { metrics: b },
        tenant,
      );
      if (r.status !== 200 || r.json.data.rejected !== 0) {
        throw new Error(
          `batch refused: ${JSON.stringify(r.json).slice(0, 300)}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** The exact "lower" quantile the DDSketch approximates: rank floor(q * (n - 1)). */
export function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}
