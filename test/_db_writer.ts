// Child process for the crash test: opens the store in argv[0], appends
// deterministic batches forever and prints "ack <batch>" only after each
// commit resolved. The test kills it with SIGKILL at random moments.
import { labelsFrom } from "../src/model/labels.ts";
import { Db } from "../src/storage/db.ts";
import { batchSamples } from "./_db_batches.ts";

const [dir, firstArg] = Deno.args;
// Retention far away: this test is about durability, not expiry.
const db = await Db.open({ dataDir: dir, retention: 1e12 });
const encoder = new TextEncoder();
for (let batch = Number(firstArg);; batch++) {
  const app = db.appender(batch % 3 === 0 ? "acme" : "globex");
  for (const s of batchSamples(batch)) {
    app.appendSeries(labelsFrom(s.labels), s.ts, s.values);
  }
  const r = await app.commit();
  if (r.rejected.length > 0) {
    console.error(JSON.stringify(r.rejected.slice(0, 3)));
    Deno.exit(3);
  }
  await Deno.stdout.write(encoder.encode(`ack ${batch}\n`));
  if (batch % 40 === 0) await db.maintain();
}
