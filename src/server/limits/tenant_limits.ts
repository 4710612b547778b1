/**
 * Per-tenant limits: the contract's defaults (which differ with and without
 * an auth file) merged with the tenant's overrides from the auth file.
 * @module
 */
import type { TenantLimits } from "../context.ts";
import type { AuthConfig } from "../auth/auth_file.ts";

const MiB = 1024 * 1024;

/** Defaults for every tenant of an auth file (CONTRACT.md). */
export const DEFAULT_LIMITS_WITH_AUTH: Readonly<TenantLimits> = Object.freeze({
  batchPerMinute: 10,
  batchMaxItems: 500,
  queryPerMinute: 60,
  writePerMinute: 6000,
  maxBodyBytes: 32 * MiB,
  maxDecodedBytes: 256 * MiB,
  maxActiveSeries: 0,
});

/** Limits of the single "default" tenant when there is no auth file: no rate limits. */
export const DEFAULT_LIMITS_WITHOUT_AUTH: Readonly<TenantLimits> = Object
  .freeze({
    ...DEFAULT_LIMITS_WITH_AUTH,
    batchPerMinute: 0,
    queryPerMinute: 0,
    writePerMinute: 0,
  });

/**
 * The limits of `tenant`: the defaults for the mode (auth file or not),
 * with the tenant's overrides applied. An unlisted tenant gets the
 * defaults. Returns a fresh object.
 */
export function limitsFor(
  config: AuthConfig | null,
  tenant: string,
): TenantLimits {
  if (config === null) return { ...DEFAULT_LIMITS_WITHOUT_AUTH };
  const overrides = config.tenants.get(tenant)?.limits ?? {};
  const merged: TenantLimits = { ...DEFAULT_LIMITS_WITH_AUTH };
  for (const key of Object.keys(merged) as (keyof TenantLimits)[]) {
    const v = overrides[key];
    if (v !== undefined) merged[key] = v;
  }
  return merged;
}
