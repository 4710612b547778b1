// Helpers for tests that run the engine in a real browser: a tiny static
// HTTP server on 127.0.0.1 and Debian's Chromium driven by playwright-core
// (never a downloaded browser), with a throwaway profile directory.
import {
  type BrowserContext,
  chromium,
  type ConsoleMessage,
  type Page,
} from "playwright-core";

/** Debian's Chromium; `.ci/run` installs it on CI. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, offline, headless Chromium in a container. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How long a graceful browser close may take before the process is killed. */
const CLOSE_TIMEOUT_MS = 5_000;

/** One file the static server answers with. */
export interface StaticFile {
  body: Uint8Array<ArrayBuffer> | string;
  contentType: string;
}

/** What the server answered to one request (for assertions on loading). */
export interface ServedRequest {
  path: string;
  status: number;
  contentType: string | null;
}

/** A running static server; `close` (or `await using`) shuts it down. */
export interface StaticServer extends AsyncDisposable {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Every request answered so far, in order. */
  readonly requests: readonly ServedRequest[];
  close(): Promise<void>;
}

/**
 * Serves a fixed map of paths (e.g. "/engine.wasm") from memory on
 * 127.0.0.1 and a free port; anything else is a 404. Bodies are held in
 * memory so no file handle stays open.
 */
export function serveStatic(files: Record<string, StaticFile>): StaticServer {
  const requests: ServedRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const path = new URL(req.url).pathname;
      const file = Object.hasOwn(files, path) ? files[path] : undefined;
      const res = file
        ? new Response(file.body, {
          headers: {
            "content-type": file.contentType,
            "cache-control": "no-store",
          },
        })
        : new Response("not found", { status: 404 });
      requests.push({
        path,
        status: res.status,
        contentType: file?.contentType ?? null,
      });
      return res;
    },
  );
  let closed: Promise<void> | null = null;
  const close = () => closed ??= server.shutdown();
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Fails with a clear message when Debian's Chromium is missing: browser
 * tests must not pass silently on a machine without it.
 */
export async function requireChromium(): Promise<string> {
  try {
    const info = await Deno.stat(CHROMIUM_PATH);
    if (info.isFile) return CHROMIUM_PATH;
  } catch {
    // reported below
  }
  throw new Error(
    `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium ` +
      "(apt-get install chromium; .ci/run does this on CI). Browser tests " +
      "never download a browser.",
  );
}

/** A headless Chromium with one page; `close` (or `await using`) ends it. */
export interface BrowserSession extends AsyncDisposable {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors, for failure messages. */
  readonly pageErrors: readonly string[];
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium with a fresh profile directory (removed on
 * close). If the browser does not close in time it is killed by pid.
 */
export async function launchChromium(): Promise<BrowserSession> {
  const executablePath = await requireChromium();
  const userDataDir = await Deno.makeTempDir({ prefix: "tidemark-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      chromiumSandbox: false,
      args: [...CHROMIUM_ARGS],
      timeout: 15_000,
    });
  } catch (e) {
    await killProcessesUsing(userDataDir);
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    throw e;
  }
  const pageErrors: string[] = [];
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e: Error) => pageErrors.push(`pageerror: ${e.stack}`));
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });

  let closed: Promise<void> | null = null;
  const close = () =>
    closed ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS);
      });
      const graceful = context.close().then(() => false, () => true);
      const mustKill = await Promise.race([graceful, timedOut]);
      clearTimeout(timer);
      if (mustKill) await killProcessesUsing(userDataDir);
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    })();
  return {
    context,
    page,
    pageErrors,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * SIGKILLs the processes whose command line names `userDataDir`: only the
 * Chromium we launched has that unique temp path (Linux /proc).
 */
async function killProcessesUsing(userDataDir: string): Promise<void> {
  const marker = `--user-data-dir=${userDataDir}`;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    let cmdline: string;
    try {
      cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    } catch {
      continue; // exited meanwhile
    }
    if (!cmdline.split("\0").includes(marker)) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
