/**
 * Resolves a request's `Authorization` header to a tenant. Without an auth
 * file every request is tenant "default". With one, three forms are
 * accepted: `Bearer <static token>`, `Bearer <HS256 JWT>` and
 * `Basic base64(<tenant>:<token>)`; everything else is a 401 carrying a
 * `WWW-Authenticate` challenge.
 * @module
 */
import { HttpError } from "../http/errors.ts";
import type { AuthConfig } from "./auth_file.ts";
import { decodeBase64, decodeUtf8 } from "./base64.ts";
import { JwtVerifier, looksLikeJwt } from "./jwt.ts";
import type { JwtRejection } from "./jwt.ts";
import { TokenTable } from "./token_table.ts";

/** The tenant of requests when there is no auth file. */
export const DEFAULT_TENANT = "default";

/**
 * The 401 challenge. Bearer first (RFC 6750 clients); the Basic challenge
 * lets a browser prompt for tenant (user) and token (password). Prometheus
 * ignores challenges and always sends its configured credentials.
 */
export const WWW_AUTHENTICATE =
  'Bearer realm="tidemark", Basic realm="tidemark", charset="UTF-8"';

/** Longest Authorization header examined; longer ones are refused unread. */
const MAX_HEADER_LENGTH = 16384;

/** A 401 with the challenge header. */
export function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, {
    "WWW-Authenticate": WWW_AUTHENTICATE,
  });
}

const INVALID = "invalid credentials";

const JWT_MESSAGES: Record<JwtRejection, string> = {
  malformed: "malformed bearer token",
  unsupported_alg: "unsupported JWT header (only alg HS256 is accepted)",
  bad_signature: INVALID,
  // Only reachable with a valid signature, so safe to be specific.
  expired: "token expired",
  not_yet_valid: "token not yet valid (nbf)",
  bad_claims: "token claims invalid (exp/nbf must be numbers, tenant a string)",
  unknown_tenant: "token's tenant is not configured",
};

/** The authenticated identity. */
export interface Principal {
  readonly tenant: string;
}

/** Maps Authorization headers to tenants; build once per server. */
export class Authenticator {
  private constructor(
    private readonly config: AuthConfig | null,
    private readonly tokens: TokenTable | null,
    private readonly jwt: JwtVerifier | null,
  ) {}

  /** Prepares the token table and the JWT key (null config: no auth). */
  static async create(config: AuthConfig | null): Promise<Authenticator> {
    if (config === null) return new Authenticator(null, null, null);
    const pairs: [string, string][] = [];
    for (const [tenant, t] of config.tenants) {
      for (const token of t.tokens) pairs.push([tenant, token]);
    }
    const tokens = await TokenTable.create(pairs);
    const jwt = config.jwt
      ? await JwtVerifier.create(config.jwt, (n) => config.tenants.has(n))
      : null;
    return new Authenticator(config, tokens, jwt);
  }

  /** Whether credentials are required at all. */
  get enabled(): boolean {
    return this.config !== null;
  }

  /**
   * The tenant of a request with this `Authorization` header at wall-clock
   * `nowMs`. Throws HttpError 401 (never anything else) on failure.
   */
  async authenticate(
    authorization: string | null,
    nowMs: number,
  ): Promise<Principal> {
    if (this.tokens === null) return { tenant: DEFAULT_TENANT };
    const header = (authorization ?? "").trim();
    if (header === "") {
      throw unauthorized(
        "authentication required: send Authorization: Bearer <token> or Basic base64(<tenant>:<token>)",
      );
    }
    if (header.length > MAX_HEADER_LENGTH) throw unauthorized(INVALID);
    const m = /^([A-Za-z]+)[ \t]+(\S+)$/.exec(header);
    const scheme = m?.[1].toLowerCase();
    if (!m || (scheme !== "bearer" && scheme !== "basic")) {
      throw unauthorized(
        "unsupported Authorization header (use Bearer <token> or Basic)",
      );
    }
    return scheme === "bearer"
      ? await this.#bearer(this.tokens, m[2], nowMs)
      : await this.#basic(this.tokens, m[2]);
  }

  async #bearer(
    tokens: TokenTable,
    token: string,
    nowMs: number,
  ): Promise<Principal> {
    const tenant = await tokens.lookup(token);
    if (tenant !== null) return { tenant };
    if (this.jwt === null || !looksLikeJwt(token)) {
      throw unauthorized(INVALID);
    }
    const r = await this.jwt.verify(token, nowMs);
    if (!r.ok) throw unauthorized(JWT_MESSAGES[r.reason]);
    return { tenant: r.tenant };
  }

  async #basic(tokens: TokenTable, encoded: string): Promise<Principal> {
    const bytes = decodeBase64(encoded);
    const text = bytes && decodeUtf8(bytes);
    const colon = text?.indexOf(":") ?? -1;
    if (text == null || colon <= 0) {
      throw unauthorized(
        "malformed Basic credentials (expected base64 of <tenant>:<token>)",
      );
    }
    const claimed = text.slice(0, colon);
    // Always look the token up, so a wrong tenant costs the same as a wrong token.
    const owner = await tokens.lookup(text.slice(colon + 1));
    if (owner === null || owner !== claimed) throw unauthorized(INVALID);
    return { tenant: owner };
  }
}
