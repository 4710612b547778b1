/**
 * The auth file (`--auth-file`): tenants, their static tokens and limit
 * overrides, and an optional HS256 JWT secret. Validated strictly at load
 * (unknown keys are errors, so a typo never silently drops a limit); every
 * failure is one line naming the file and the field path.
 * @module
 */
import { z } from "zod";
import type { TenantLimits } from "../context.ts";

/**
 * Tenant names become storage dimensions (directory names), so they are
 * restricted to a portable, path-safe alphabet.
 */
export const TENANT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/** Whether `name` is acceptable as a tenant name. */
export function isValidTenantName(name: string): boolean {
  return TENANT_NAME_PATTERN.test(name) && name !== "." && name !== ".." &&
    name !== "__proto__";
}

/** One tenant as configured. */
export interface TenantEntry {
  /** Static bearer / basic-auth tokens (may be empty for JWT-only tenants). */
  readonly tokens: readonly string[];
  /** Overrides of the default limits. */
  readonly limits: Readonly<Partial<TenantLimits>>;
}

/** JWT settings. */
export interface JwtConfig {
  /** The HMAC-SHA256 secret, used as its UTF-8 bytes. */
  readonly hs256Secret: string;
  /** The claim naming the tenant (default "tenant"). */
  readonly tenantClaim: string;
}

/** A validated auth file. */
export interface AuthConfig {
  /** Tenants by name (a Map, so names like "constructor" are plain keys). */
  readonly tenants: ReadonlyMap<string, TenantEntry>;
  /** JWT settings, or null when JWTs are not accepted. */
  readonly jwt: JwtConfig | null;
}

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const positive = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const limitsSchema = z.strictObject({
  batchPerMinute: count.optional(),
  batchMaxItems: positive.optional(),
  queryPerMinute: count.optional(),
  writePerMinute: count.optional(),
  maxBodyBytes: positive.optional(),
  maxDecodedBytes: positive.optional(),
  maxActiveSeries: count.optional(),
});

// Header values carry tokens, so only visible ASCII without spaces can
// ever be presented; anything else would be a token nobody can use.
const tokenSchema = z.string().regex(
  /^[\x21-\x7e]+$/,
  "a token must be non-empty visible ASCII without spaces",
);

const tenantSchema = z.strictObject({
  tokens: z.array(tokenSchema),
  limits: limitsSchema.optional(),
});

const tenantName = z.string().refine(
  isValidTenantName,
  "tenant names must match [A-Za-z0-9_.-]{1,128} and not be . or ..",
);

const fileSchema = z.strictObject({
  tenants: z.record(tenantName, tenantSchema).refine(
    (t) => Object.keys(t).length > 0,
    "at least one tenant is required",
  ),
  jwt: z.strictObject({
    hs256Secret: z.string().min(1, "the secret must not be empty"),
    tenantClaim: z.string().min(1).default("tenant"),
  }).optional(),
});

/** One-line description of the first schema problem, with its path. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  // A bad record key carries its reason in a nested issue.
  const nested = (issue as { issues?: { message: string }[] }).issues?.[0];
  const path = issue.path.map(String).join(".") || "(top level)";
  return `${path}: ${nested?.message ?? issue.message}`;
}

/**
 * Validates parsed JSON as an auth file. Throws an Error with a one-line
 * reason (schema problem with its field path, or a token listed for two
 * tenants).
 */
export function parseAuthConfig(json: unknown): AuthConfig {
  // A "__proto__" key would be swallowed by object handling; refuse it first.
  if (
    typeof json === "object" && json !== null &&
    typeof (json as { tenants?: unknown }).tenants === "object" &&
    (json as { tenants: object | null }).tenants !== null &&
    Object.hasOwn((json as { tenants: object }).tenants, "__proto__")
  ) {
    throw new Error("tenants.__proto__: not a valid tenant name");
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new Error(describeIssue(parsed.error));
  const tenants = new Map<string, TenantEntry>();
  const owner = new Map<string, string>();
  for (const [name, t] of Object.entries(parsed.data.tenants)) {
    for (const token of t.tokens) {
      const other = owner.get(token);
      if (other !== undefined && other !== name) {
        // Never echo the token itself into logs.
        throw new Error(
          `tenants.${name}.tokens: a token is also listed for tenant ${other}`,
        );
      }
      owner.set(token, name);
    }
    tenants.set(name, {
      tokens: [...new Set(t.tokens)],
      limits: { ...t.limits },
    });
  }
  const jwt = parsed.data.jwt ?? null;
  return { tenants, jwt };
}

/**
 * Reads and validates the auth file at `path`. Throws an Error whose
 * message is one line: "auth file <path>: <reason>".
 */
export async function loadAuthFile(path: string): Promise<AuthConfig> {
  const fail = (reason: string): never => {
    throw new Error(`auth file ${path}: ${reason.replace(/\s+/g, " ")}`);
  };
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    fail(`cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseAuthConfig(json);
  } catch (e) {
    return fail((e as Error).message);
  }
}
