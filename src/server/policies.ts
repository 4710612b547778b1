/**
 * The auth and limit policies a server runs with, from the auth file (or
 * the open single-tenant mode without one).
 * @module
 */
import { type AuthConfig, loadAuthFile } from "./auth/auth_file.ts";
import { Authenticator } from "./auth/authenticate.ts";
import type { TenantLimits } from "./context.ts";
import { enforce, perMinuteFor, RateLimiter } from "./limits/rate_limiter.ts";
import { limitsFor } from "./limits/tenant_limits.ts";
import type { ServerPolicies } from "./server.ts";

/** Builds the policies; throws with a one-line reason on a bad auth file. */
export async function openPolicies(authFile?: string): Promise<ServerPolicies> {
  const config: AuthConfig | null = authFile
    ? await loadAuthFile(authFile)
    : null;
  return policiesFrom(config);
}

/** The policies of a parsed auth config (null: open mode). */
export async function policiesFrom(
  config: AuthConfig | null,
): Promise<ServerPolicies> {
  const auth = await Authenticator.create(config);
  const limiter = new RateLimiter();
  const cache = new Map<string, TenantLimits>();
  const limits = (tenant: string): TenantLimits => {
    let l = cache.get(tenant);
    if (!l) cache.set(tenant, l = limitsFor(config, tenant));
    return l;
  };
  return {
    authenticate: (header, now) => auth.authenticate(header, now),
    limitsFor: limits,
    rateLimit: (tenant, cls, l, now, code) =>
      enforce(limiter, tenant, cls, perMinuteFor(l, cls), now, code),
    maxSeries: (tenant) => limits(tenant).maxActiveSeries,
  };
}
