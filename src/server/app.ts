/**
 * The request pipeline: route → credentials → tenant limits → rate limit
 * → handler → envelope. Every error a client can cause is an HttpError
 * rendered in its route family's envelope; anything else is a bug, logged
 * and answered 500.
 * @module
 */
import type { ServerDeps, TenantLimits } from "./context.ts";
import { apiError, promError } from "./http/envelope.ts";
import { HttpError } from "./http/errors.ts";
import {
  type Family,
  matchRoute,
  type RateLimitFn,
  type Route,
} from "./router.ts";
import { evaluationGate } from "./query_gate.ts";
import { LATENCY_BUCKETS, type Registry } from "./self_metrics.ts";

/** What the pipeline needs besides the handlers' dependencies. */
export interface AppOptions extends ServerDeps {
  readonly routes: readonly Route[];
  readonly registry: Registry;
  /** Resolves the tenant of a request's Authorization header (throws 401). */
  authenticate(
    authorization: string | null,
    nowMs: number,
  ): Promise<{ tenant: string }>;
  /** The tenant's limits. */
  limitsFor(tenant: string): TenantLimits;
  /** Throws HttpError 429 when the tenant is over its rate for `cls`. */
  rateLimit: RateLimitFn;
  /** Aborted when the server shuts down. */
  readonly shutdown: AbortSignal;
  /** Structured log line. */
  log(fields: Record<string, unknown>): void;
}

/** Builds the fetch handler of the server. */
export function createApp(
  opts: AppOptions,
): (req: Request) => Promise<Response> {
  const requests = opts.registry.counter(
    "tidemark_http_requests_total",
    "HTTP requests by route and status code.",
  );
  const latency = opts.registry.histogram(
    "tidemark_http_request_duration_seconds",
    "HTTP request latency by route.",
    LATENCY_BUCKETS,
  );

  return async (req) => {
    const started = performance.now();
    const url = new URL(req.url);
    const found = matchRoute(opts.routes, req.method, url.pathname);
    let label = "unmatched";
    let res: Response;
    if (found === null || found === "method") {
      const e = found === null
        ? new HttpError(404, "not_found", `no route for ${url.pathname}`)
        : new HttpError(
          405,
          "bad_data",
          `method ${req.method} not allowed on ${url.pathname}`,
        );
      res = render(familyOfPath(url.pathname), e);
    } else {
      label = found.route.path;
      res = await run(opts, req, found.route, found.params);
    }
    requests.inc({ route: label, code: String(res.status) });
    latency.observe({ route: label }, (performance.now() - started) / 1000);
    return res;
  };
}

async function run(
  opts: AppOptions,
  req: Request,
  route: Route,
  params: Record<string, string>,
): Promise<Response> {
  try {
    const now = opts.now();
    const tenant = route.auth
      ? (await opts.authenticate(req.headers.get("authorization"), now)).tenant
      : "default";
    const limits = opts.limitsFor(tenant);
    if (route.rateClass) {
      const code = route.family === "api"
        ? "rate_limited"
        : "too_many_requests";
      opts.rateLimit(tenant, route.rateClass, limits, now, code);
    }
    const signal = AbortSignal.any([req.signal, opts.shutdown]);
    const writing = route.rateClass === "write" || route.rateClass === "batch";
    const done = writing ? evaluationGate.writeStarted() : null;
    try {
      return await route.handler(req, {
        db: opts.db,
        engine: opts.engine,
        now: opts.now,
        queryTimeoutMs: opts.queryTimeoutMs,
        tenant,
        limits,
        signal,
        params,
      });
    } finally {
      done?.();
    }
  } catch (e) {
    if (e instanceof HttpError) {
      await req.body?.cancel().catch(() => {});
      return render(route.family, e);
    }
    opts.log({
      msg: "internal error",
      route: route.path,
      error: String(e),
      stack: (e as Error)?.stack,
    });
    return render(
      route.family,
      new HttpError(500, "internal", "internal server error"),
    );
  }
}

function familyOfPath(path: string): Family {
  if (
    path.startsWith("/api/v1/metrics") || path.startsWith("/api/v1/events") ||
    path.startsWith("/api/v1/flux")
  ) return "api";
  return path.startsWith("/api/") ? "prom" : "plain";
}

function render(family: Family, e: HttpError): Response {
  if (family === "prom") return promError(e);
  if (family === "api") return apiError(e);
  return new Response(e.message + "\n", {
    status: e.status,
    headers: { "content-type": "text/plain; charset=utf-8", ...e.headers },
  });
}
