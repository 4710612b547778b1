// An in-process Tidemark server on a free loopback port over a temp data
// dir, for tests that speak HTTP to it.
import { openPolicies } from "../src/server/policies.ts";
import { TidemarkServer } from "../src/server/server.ts";

export interface TestServer {
  readonly base: string;
  readonly server: TidemarkServer;
  readonly dataDir: string;
  /** Stops the server; removes the data dir unless `keep`. */
  close(keep?: boolean): Promise<void>;
}

/** Starts a server and waits until it is ready. */
export async function startTestServer(
  opts: { authFile?: string; dataDir?: string; queryTimeoutMs?: number } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "tm-srv-" });
  const policies = await openPolicies(opts.authFile);
  const server = TidemarkServer.start({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    authFile: opts.authFile,
    retention: 15 * 86_400_000,
    oooWindow: 3600_000,
  }, { policies, queryTimeoutMs: opts.queryTimeoutMs, log: () => {} });
  await server.ready;
  return {
    base: `http://127.0.0.1:${server.port}`,
    server,
    dataDir,
    close: async (keep = false) => {
      await server.close();
      if (!keep) await Deno.remove(dataDir, { recursive: true });
    },
  };
}
