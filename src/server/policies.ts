/**
 * The auth and limit policies a server runs with, from the auth file (or
 * the open single-tenant mode without one).
 * @module
 */
import type { TenantLimits } from "./context.ts";
import type { ServerPolicies } from "./server.ts";

const OPEN_LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 32 << 20,
  maxDecodedBytes: 256 << 20,
  maxActiveSeries: 0,
};

/** Builds the policies; throws with a one-line reason on a bad auth file. */
export function openPolicies(authFile?: string): Promise<ServerPolicies> {
  if (authFile) {
    return Promise.reject(new Error("--auth-file: not wired yet"));
  }
  return Promise.resolve({
    authenticate: () => Promise.resolve({ tenant: "default" }),
    limitsFor: () => OPEN_LIMITS,
    rateLimit: () => {},
    maxSeries: () => 0,
  });
}
