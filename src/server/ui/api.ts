/**
 * The page's HTTP client: every call carries the session's bearer token
 * (if any), a 401 asks the user for a token and retries, and each answer
 * reports the bytes it transferred (for the JSON vs chunks comparison).
 * The token lives only in sessionStorage.
 * @module
 */

/** The sessionStorage key of the bearer token. */
export const TOKEN_KEY = "tidemark.token";

/** A Prometheus API error with the server's text (which holds `line:col`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** One answer and what it cost on the wire. */
export interface Fetched<T> {
  data: T;
  /** Response body bytes as received. */
  bytes: number;
  /** Request body bytes sent. */
  sentBytes: number;
}

/**
 * Asks the user for a token; resolves null when they cancel. `reason` is
 * the server's message (e.g. "invalid token").
 */
export type TokenPrompt = (reason: string) => Promise<string | null>;

/** HTTP client bound to the page's origin, session storage and prompt. */
export class ApiClient {
  #pendingPrompt: Promise<string | null> | null = null;

  constructor(
    private readonly storage: Storage,
    private readonly prompt: TokenPrompt,
    private readonly base = "",
  ) {}

  /** The token of this session, or null. */
  get token(): string | null {
    return this.storage.getItem(TOKEN_KEY);
  }

  /** Forgets the session's token. */
  signOut(): void {
    this.storage.removeItem(TOKEN_KEY);
  }

  /**
   * Sends a request, asking for a token on 401 until one is accepted or
   * the user cancels (then the 401 is thrown as an ApiError).
   */
  async send(path: string, init: RequestInit = {}): Promise<Response> {
    for (;;) {
      const headers = new Headers(init.headers);
      const token = this.token;
      if (token) headers.set("authorization", `Bearer ${token}`);
      const res = await fetch(this.base + path, { ...init, headers });
      if (res.status !== 401) return res;
      const reason = await errorText(res);
      const next = await this.#askToken(
        token ? `The server refused the token: ${reason}` : reason,
        token,
      );
      if (next === null) throw new ApiError(401, "unauthorized", reason);
    }
  }

  /** One prompt at a time; concurrent 401s share it. */
  #askToken(reason: string, rejected: string | null): Promise<string | null> {
    // Another request may have obtained a new token meanwhile.
    if (this.token !== rejected) return Promise.resolve(this.token);
    this.#pendingPrompt ??= this.prompt(reason).then((t) => {
      this.#pendingPrompt = null;
      if (t === null || t.trim() === "") return null;
      this.storage.setItem(TOKEN_KEY, t.trim());
      return t.trim();
    });
    return this.#pendingPrompt;
  }

  /**
   * Calls a Prometheus API route (POST form-encoded) and unwraps the
   * envelope; errors become ApiError with the server's message.
   */
  async prom<T>(
    path: string,
    params: Record<string, string | string[]>,
    method: "GET" | "POST" = "POST",
  ): Promise<Fetched<T>> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
    }
    const body = form.toString();
    const res = method === "POST"
      ? await this.send(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      })
      : await this.send(body === "" ? path : `${path}?${body}`);
    const raw = new Uint8Array(await res.arrayBuffer());
    let env: { status?: string; data?: T; errorType?: string; error?: string };
    try {
      env = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      throw new ApiError(res.status, "bad_response", `HTTP ${res.status}`);
    }
    if (!res.ok || env.status !== "success") {
      throw new ApiError(
        res.status,
        env.errorType ?? "error",
        env.error ?? `HTTP ${res.status}`,
      );
    }
    return {
      data: env.data as T,
      bytes: raw.length,
      sentBytes: method === "POST" ? body.length : 0,
    };
  }
}

/** The error message of a response, from a Prometheus envelope or its text. */
async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const env = JSON.parse(text) as { error?: unknown };
    if (typeof env.error === "string") return env.error;
    const nested = env.error as { message?: unknown } | undefined;
    if (typeof nested?.message === "string") return nested.message;
  } catch {
    // not JSON
  }
  return text.trim() || `HTTP ${res.status}`;
}
