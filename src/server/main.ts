/**
 * Entry point: parses flags, builds the auth and limit policies, starts
 * the server and shuts it down cleanly on SIGTERM/SIGINT. Only wiring.
 * @module
 */
import { helpText, parseFlags } from "./flags.ts";
import { openPolicies } from "./policies.ts";
import { TidemarkServer } from "./server.ts";

const config = parseFlags(Deno.args);
if (config === "help") {
  console.log(helpText());
  Deno.exit(0);
}
if ("error" in config) {
  console.error(`tidemark: ${config.error}`);
  Deno.exit(2);
}

let policies;
try {
  policies = await openPolicies(config.authFile);
} catch (e) {
  console.error(`tidemark: ${(e as Error).message}`);
  Deno.exit(2);
}
if (!config.authFile) {
  console.warn(JSON.stringify({
    msg:
      'no --auth-file: every request is tenant "default", no credentials needed',
  }));
}

const server = TidemarkServer.start(config, { policies });
server.ready.catch((e) => {
  console.error(
    JSON.stringify({ msg: "store failed to open", error: String(e) }),
  );
  Deno.exit(1);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: "shutting down", signal }));
  await server.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
