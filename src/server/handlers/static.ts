/**
 * The query page's static files, served from the build output (no build
 * at run time): `/` (build/ui/index.html), `/ui/app.js`, `/ui/style.css`
 * and `/engine.wasm` (the same module the server runs). Answers carry an
 * ETag (size + mtime) and `Cache-Control: no-cache`, so a rebuilt file is
 * picked up at once; the page gets a strict Content-Security-Policy.
 * @module
 */
import type { Handler } from "../context.ts";
import { HttpError } from "../http/errors.ts";

/** Where `npm run build` / `deno task build` write the page and the module. */
export const DEFAULT_BUILD_DIR: URL = new URL(
  "../../../build/",
  import.meta.url,
);

/** One served file. */
export interface StaticAsset {
  /** URL path. */
  readonly path: string;
  /** File under the build directory. */
  readonly file: string;
  readonly contentType: string;
}

/** Every path the page needs. */
export const STATIC_ASSETS: readonly StaticAsset[] = [
  { path: "/", file: "ui/index.html", contentType: "text/html; charset=utf-8" },
  {
    path: "/ui/app.js",
    file: "ui/app.js",
    contentType: "text/javascript; charset=utf-8",
  },
  {
    path: "/ui/style.css",
    file: "ui/style.css",
    contentType: "text/css; charset=utf-8",
  },
  {
    path: "/engine.wasm",
    file: "engine.wasm",
    contentType: "application/wasm",
  },
];

/**
 * The page's policy: only its own origin; WebAssembly compilation allowed;
 * inline style attributes (legend swatches) allowed, inline scripts not.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** A handler serving `asset` from `buildDir`. */
export function staticHandler(
  asset: StaticAsset,
  buildDir: URL = DEFAULT_BUILD_DIR,
): Handler {
  const url = new URL(asset.file, buildDir);
  return async (req) => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(url);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new HttpError(
        503,
        "unavailable",
        `${asset.file} is not built: run "npm run build" (or "deno task build")`,
      );
    }
    const etag = `"${info.size.toString(16)}-${
      Math.floor(info.mtime?.getTime() ?? 0).toString(16)
    }"`;
    const headers: Record<string, string> = {
      "content-type": asset.contentType,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      etag,
    };
    if (asset.contentType.startsWith("text/html")) {
      headers["content-security-policy"] = PAGE_CSP;
      headers["referrer-policy"] = "no-referrer";
    }
    if (req.headers.get("if-none-match") === etag) {
      return new Response(null, { status: 304, headers });
    }
    if (req.method === "HEAD") {
      headers["content-length"] = String(info.size);
      return new Response(null, { headers });
    }
    return new Response(await Deno.readFile(url), { headers });
  };
}
