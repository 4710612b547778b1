/**
 * What every handler receives: the tenant resolved from the credentials,
 * the store, the engines, the request's abort signal, and the tenant's
 * limits. Handlers never see credentials or other tenants.
 * @module
 */
import type { PromQLEngine } from "../promql/engine.ts";
import type { Db } from "../storage/db.ts";
import type { TenantId } from "../storage/interface.ts";

/** Per-tenant limits (the contract's names; defaults in limits/). */
export interface TenantLimits {
  /** Metrics API batch requests per minute (0: unlimited). */
  batchPerMinute: number;
  /** Items in one Metrics API batch. */
  batchMaxItems: number;
  /** Query requests per minute (0: unlimited). */
  queryPerMinute: number;
  /** Write requests per minute (0: unlimited). */
  writePerMinute: number;
  /** Largest request body accepted, in bytes as sent (compressed). */
  maxBodyBytes: number;
  /** Largest decompressed remote-write/read body, in bytes. */
  maxDecodedBytes: number;
  /** Active (head) series the tenant may hold (0: unlimited). */
  maxActiveSeries: number;
}

/** The server-wide parts a handler may use. */
export interface ServerDeps {
  readonly db: Db;
  readonly engine: PromQLEngine;
  /** Wall clock in ms (injectable for tests). */
  now(): number;
  /** Longest a query may run (ms); a request's `timeout` can only lower it. */
  readonly queryTimeoutMs: number;
}

/** One request's context. */
export interface RequestContext extends ServerDeps {
  readonly tenant: TenantId;
  readonly limits: TenantLimits;
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
  /** Path parameters of the matched route (decoded). */
  readonly params: Readonly<Record<string, string>>;
}

/** A route handler: data in, Response out; throws HttpError for client mistakes. */
export type Handler = (req: Request, ctx: RequestContext) => Promise<Response>;
