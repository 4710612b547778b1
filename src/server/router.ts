/**
 * Route matching: a table of method + path patterns. `:name` matches one
 * path segment (percent-decoded), `*name` the raw rest of the path.
 * @module
 */
import type { Handler, TenantLimits } from "./context.ts";

/** Which envelope a route's errors use. */
export type Family = "prom" | "api" | "plain";

/** Rate-limit classes of the contract. */
export type RateClass = "query" | "write" | "batch";

/**
 * Takes one request of class `cls` from the tenant's budget or throws
 * HttpError 429 with `code` and Retry-After.
 */
export type RateLimitFn = (
  tenant: string,
  cls: RateClass,
  limits: TenantLimits,
  nowMs: number,
  code: "too_many_requests" | "rate_limited",
) => void;

/** One row of the route table. */
export interface Route {
  /** Label of the route in self-monitoring (the pattern). */
  readonly path: string;
  readonly methods: readonly string[];
  readonly family: Family;
  /** False for health and self-monitoring routes. */
  readonly auth: boolean;
  readonly rateClass?: RateClass;
  readonly handler: Handler;
}

/** A route found for a request, with its path parameters. */
export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Finds the route of `method path`: a match, "method" (path known) or null. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): RouteMatch | "method" | null {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.methods.includes(method)) return { route, params };
    pathMatched = true;
  }
  return pathMatched ? "method" : null;
}

function matchPath(
  pattern: string,
  path: string,
): Record<string, string> | null {
  const pp = pattern.split("/");
  const sp = path.split("/");
  const params: Record<string, string> = {};
  for (let i = 0; i < pp.length; i++) {
    const p = pp[i];
    if (p.startsWith("*")) {
      const rest = sp.slice(i).join("/");
      if (rest === "") return null;
      params[p.slice(1)] = rest;
      return params;
    }
    if (i >= sp.length) return null;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(sp[i]);
      } catch {
        return null;
      }
    } else if (p !== sp[i]) return null;
  }
  return pp.length === sp.length ? params : null;
}
