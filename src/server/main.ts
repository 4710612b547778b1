/**
 * Entry point: parses flags, opens the store, serves, and shuts down
 * cleanly. Only wiring lives here. Until the server issue lands it serves
 * the health routes; the store is opened so that WAL replay, block
 * maintenance and shutdown already run as they will.
 * @module
 */
import { Db } from "../storage/db.ts";
import { helpText, parseFlags } from "./flags.ts";

const config = parseFlags(Deno.args);
if (config === "help") {
  console.log(helpText());
  Deno.exit(0);
}
if ("error" in config) {
  console.error(`tidemark: ${config.error}`);
  Deno.exit(2);
}

let ready = false;
const started = performance.now();
const db = await Db.open({
  dataDir: config.dataDir,
  retention: config.retention,
  outOfOrderWindow: config.oooWindow,
});
ready = true;
console.log(JSON.stringify({
  msg: "store open",
  dataDir: config.dataDir,
  replayedSeries: db.replay.series,
  replayedSamples: db.replay.samples,
  seconds: (performance.now() - started) / 1000,
}));
if (!config.authFile) {
  console.warn(
    JSON.stringify({
      msg:
        'no --auth-file: every request is tenant "default", no credentials needed',
    }),
  );
}

const maintenance = setInterval(() => {
  db.maintain().catch((e) =>
    console.error(
      JSON.stringify({ msg: "maintenance failed", error: String(e) }),
    )
  );
}, 60_000);

const server = Deno.serve(
  {
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) =>
      console.log(JSON.stringify({ msg: "listening", hostname, port })),
  },
  (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/-/healthy") return new Response("Healthy.\n");
    if (path === "/-/ready") {
      return ready
        ? new Response("Ready.\n")
        : new Response("Service Unavailable\n", { status: 503 });
    }
    return new Response("not found\n", { status: 404 });
  },
);

async function shutdown(signal: string): Promise<void> {
  console.log(JSON.stringify({ msg: "shutting down", signal }));
  clearInterval(maintenance);
  await server.shutdown(); // stop accepting, finish in-flight requests
  await db.close(); // flush the WAL
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
