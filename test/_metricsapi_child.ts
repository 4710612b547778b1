// A Metrics API server in a child process, for the kill -9 tests: serves on
// a free port over the data dir given as argument and prints its base URL.
// MAPI_CHILD_OPTS (JSON, optional): `now` (the store's fixed clock, ms),
// store options `segmentBytes` and
// `snapshotEveryMs`, and `crashStep`/`crashAt`: the process kills itself
// (SIGKILL) at the crashAt-th time a snapshot reaches that step, after
// printing "crash <step>".
import { startMetricsApi } from "./_metricsapi.ts";

const opts = JSON.parse(Deno.env.get("MAPI_CHILD_OPTS") ?? "{}");
let seen = 0;
const srv = await startMetricsApi({
  dataDir: Deno.args[0],
  now: opts.now,
  store: {
    segmentBytes: opts.segmentBytes,
    snapshotEveryMs: opts.snapshotEveryMs,
    onSnapshotStep: opts.crashStep === undefined ? undefined : (step) => {
      if (step !== opts.crashStep || ++seen < opts.crashAt) return;
      console.log(`crash ${step}`);
      Deno.kill(Deno.pid, "SIGKILL");
      return new Promise(() => {}); // never resumes
    },
  },
});
console.log(srv.base);
await new Promise(() => {}); // until killed
