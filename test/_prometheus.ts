// Starts Debian's Prometheus as a peer for tests: a temp TSDB, a free
// loopback port, the given config and flags; stop() kills it.
export interface PrometheusProcess {
  readonly base: string;
  readonly port: number;
  stop(): Promise<void>;
  log(): Promise<string>;
}

/** A loopback port nothing listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts prometheus and waits for /-/ready. The config may depend on the
 * port Prometheus will listen on (to scrape itself).
 */
export async function startPrometheus(
  root: string,
  configYaml: string | ((port: number) => string),
  flags: string[] = [],
): Promise<PrometheusProcess> {
  const config = `${root}/prometheus.yml`;
  const port = freePort();
  await Deno.writeTextFile(
    config,
    typeof configYaml === "string" ? configYaml : configYaml(port),
  );
  const logPath = `${root}/prometheus.log`;
  const logFile = await Deno.open(logPath, { write: true, create: true });
  const proc = new Deno.Command("/usr/bin/prometheus", {
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${root}/prom-data`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...flags,
    ],
    stdout: logFile.writable ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  const pump = (s: ReadableStream<Uint8Array>) =>
    s.pipeTo(
      new WritableStream({
        write: (chunk) => void logFile.writeSync(chunk),
      }),
    ).catch(() => {});
  const pumps = [pump(proc.stdout), pump(proc.stderr)];
  const base = `http://127.0.0.1:${port}`;
  let exited = false;
  const status = proc.status.then(() => exited = true);
  const stop = async () => {
    if (!exited) {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await Promise.all(pumps);
    try {
      logFile.close();
    } catch { /* closed */ }
  };
  const log = () => Deno.readTextFile(logPath).catch(() => "");
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`prometheus exited:\n${await log()}`);
    try {
      const r = await fetch(`${base}/-/ready`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready:\n${await log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, port, stop, log };
}
