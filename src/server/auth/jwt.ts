/**
 * HS256 JWT verification (RFC 7519 / 7515 compact form) with WebCrypto.
 * The algorithm is pinned: the header must be exactly `{"alg":"HS256"}`,
 * optionally with `"typ":"JWT"`; anything else is refused before any
 * signature work. The signature is checked (constant time, by
 * `crypto.subtle.verify`) before the payload is even decoded.
 * @module
 */
import type { JwtConfig } from "./auth_file.ts";
import { decodeBase64Url, decodeUtf8 } from "./base64.ts";

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
export const JWT_LEEWAY_SECONDS = 30;

/** Longest token considered (a larger one is refused unread). */
export const JWT_MAX_LENGTH = 8192;

/** Why a token was refused. */
export type JwtRejection =
  | "malformed"
  | "unsupported_alg"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "bad_claims"
  | "unknown_tenant";

/** A verified token's tenant, or why it was refused. */
export type JwtResult =
  | { ok: true; tenant: string }
  | { ok: false; reason: JwtRejection };

const SEGMENT = "[A-Za-z0-9_-]";
const JWT_SHAPE = new RegExp(`^${SEGMENT}+\\.${SEGMENT}+\\.${SEGMENT}*$`);

/** Whether `token` has the shape of a compact JWS (three base64url segments). */
export function looksLikeJwt(token: string): boolean {
  return token.length <= JWT_MAX_LENGTH && JWT_SHAPE.test(token);
}

function parseJsonObject(segment: string): Record<string, unknown> | null {
  const bytes = decodeBase64Url(segment);
  const text = bytes && decodeUtf8(bytes);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return null;
  }
  return value as Record<string, unknown>;
}

function headerIsPinned(header: Record<string, unknown>): boolean {
  for (const key of Object.keys(header)) {
    if (key !== "alg" && key !== "typ") return false;
  }
  if (header.alg !== "HS256") return false;
  return !Object.hasOwn(header, "typ") ||
    (typeof header.typ === "string" && header.typ.toUpperCase() === "JWT");
}

/** A numeric-date claim: absent, or a finite number; else invalid. */
function numericDate(
  claims: Record<string, unknown>,
  name: string,
): number | null | "invalid" {
  if (!Object.hasOwn(claims, name)) return null;
  const v = claims[name];
  return typeof v === "number" && Number.isFinite(v) ? v : "invalid";
}

/** Verifies HS256 tokens against one secret and a set of tenants. */
export class JwtVerifier {
  private constructor(
    private readonly key: CryptoKey,
    private readonly tenantClaim: string,
    private readonly isTenant: (name: string) => boolean,
    private readonly leewaySeconds: number,
  ) {}

  /** Imports the HMAC key once. */
  static async create(
    config: JwtConfig,
    isTenant: (name: string) => boolean,
    leewaySeconds = JWT_LEEWAY_SECONDS,
  ): Promise<JwtVerifier> {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(config.hs256Secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    return new JwtVerifier(key, config.tenantClaim, isTenant, leewaySeconds);
  }

  /** Verifies `token` at wall-clock time `nowMs`; never throws. */
  async verify(token: string, nowMs: number): Promise<JwtResult> {
    if (!looksLikeJwt(token)) return { ok: false, reason: "malformed" };
    const [h, p, s] = token.split(".");
    const header = parseJsonObject(h);
    if (header === null) return { ok: false, reason: "malformed" };
    if (!headerIsPinned(header)) {
      return { ok: false, reason: "unsupported_alg" };
    }
    const signature = decodeBase64Url(s);
    if (signature === null) return { ok: false, reason: "malformed" };
    const signed = new TextEncoder().encode(`${h}.${p}`);
    const valid = await crypto.subtle.verify(
      "HMAC",
      this.key,
      signature as Uint8Array<ArrayBuffer>,
      signed,
    );
    if (!valid) return { ok: false, reason: "bad_signature" };
    const claims = parseJsonObject(p);
    if (claims === null) return { ok: false, reason: "malformed" };
    return this.#checkClaims(claims, nowMs / 1000);
  }

  #checkClaims(claims: Record<string, unknown>, nowSec: number): JwtResult {
    const exp = numericDate(claims, "exp");
    const nbf = numericDate(claims, "nbf");
    if (exp === "invalid" || nbf === "invalid") {
      return { ok: false, reason: "bad_claims" };
    }
    // RFC 7519 §4.1.4: the current time must be before exp.
    if (exp !== null && nowSec >= exp + this.leewaySeconds) {
      return { ok: false, reason: "expired" };
    }
    if (nbf !== null && nowSec + this.leewaySeconds < nbf) {
      return { ok: false, reason: "not_yet_valid" };
    }
    const tenant = Object.hasOwn(claims, this.tenantClaim)
      ? claims[this.tenantClaim]
      : undefined;
    if (typeof tenant !== "string") return { ok: false, reason: "bad_claims" };
    if (!this.isTenant(tenant)) return { ok: false, reason: "unknown_tenant" };
    return { ok: true, tenant };
  }
}
