// Runs the real server process (src/server/main.ts) for tests that kill
// it: spawn on a free port, wait for readiness, kill -9 or SIGTERM.
const MAIN = new URL("../src/server/main.ts", import.meta.url).pathname;

export interface ServerProcess {
  readonly base: string;
  readonly pid: number;
  kill(signal: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts the server on `dataDir` and waits until /-/ready answers 200. */
export async function spawnServer(
  dataDir: string,
  extra: string[] = [],
): Promise<ServerProcess> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      ...extra,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/-/ready`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error("server never became ready");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    pid: child.pid,
    kill: async (signal) => {
      try {
        child.kill(signal);
      } catch { /* already exited */ }
      return await child.status;
    },
  };
}
