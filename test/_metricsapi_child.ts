// A Metrics API server in a child process, for the kill -9 test: serves on
// a free port over the data dir given as argument and prints its base URL.
import { startMetricsApi } from "./_metricsapi.ts";

const srv = await startMetricsApi({ dataDir: Deno.args[0] });
console.log(srv.base);
await new Promise(() => {}); // until killed
