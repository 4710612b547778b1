// kill -9 at random moments must lose nothing that was acknowledged: a child
// process appends batches and prints each acknowledged one; after killing
// it, reopening the store must show every acknowledged batch, complete.
import assert from "node:assert/strict";
import { labelsFrom, labelsKey } from "../src/model/labels.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { Db } from "../src/storage/db.ts";
import { Prng } from "../src/util/prng.ts";
import { batchSamples } from "./_db_batches.ts";

async function runAndKill(
  dir: string,
  first: number,
  ms: number,
): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_db_writer.ts", import.meta.url).pathname,
      dir,
      String(first),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acked: number[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + ms;
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("ack ")) acked.push(Number(line.slice(4)));
      }
      if (Date.now() > deadline + 5000) break;
    }
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    const status = await child.status;
    const err = await new Response(child.stderr).text();
    assert.ok(
      status.signal === "SIGKILL",
      `writer ended on its own: ${status.code} ${err}`,
    );
  }
  return acked;
}

Deno.test("acknowledged samples survive kill -9, over repeated crashes", async () => {
  const dir = await Deno.makeTempDir();
  const rng = new Prng(99);
  const acked = new Set<number>();
  let next = 0;
  try {
    for (let round = 0; round < 6; round++) {
      const got = await runAndKill(dir, next, rng.int(800, 2500));
      for (const b of got) acked.add(b);
      next = Math.max(next, ...got) + 1; // continue where the acknowledgements stopped
      // Reopen and check every acknowledged batch is there, complete.
      const db = await Db.open({ dataDir: dir });
      try {
        for (const tenant of ["acme", "globex"]) {
          const q = db.querier(tenant, -Infinity, Infinity);
          const have = new Map<string, Map<number, number>>();
          for (
            const s of q.select([newMatcher("=", "__name__", "crash_test")])
          ) {
            const m = new Map<number, number>();
            const it = s.iterator();
            while (it.next()) m.set(it.t, it.v);
            have.set(labelsKey(s.labels), m);
          }
          q.close();
          for (const b of acked) {
            if ((b % 3 === 0 ? "acme" : "globex") !== tenant) continue;
            for (const s of batchSamples(b)) {
              const m = have.get(labelsKey(labelsFrom(s.labels)));
              if (!m || !s.ts.every((t) => m.has(t))) {
                console.error(debugListing(dir));
              }
              assert.ok(m, `round ${round}: batch ${b}: series missing`);
              s.ts.forEach((t, j) => {
                assert.equal(
                  m.get(t),
                  s.values[j],
                  `round ${round}: batch ${b} sample ${t}`,
                );
              });
            }
          }
        }
      } finally {
        await db.close();
      }
    }
    assert.ok(acked.size > 300, `only ${acked.size} batches acknowledged`);
    // Enough time went by for blocks to be written and the WAL truncated.
    const blocks = [...Deno.readDirSync(`${dir}/tenants`)].length;
    assert.ok(blocks > 0, "no block was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The blocks on disk, for a failure message. */
function debugListing(dir: string): string {
  const lines: string[] = [];
  try {
    for (const t of Deno.readDirSync(`${dir}/tenants`)) {
      for (const b of Deno.readDirSync(`${dir}/tenants/${t.name}/blocks`)) {
        try {
          const meta = JSON.parse(
            Deno.readTextFileSync(
              `${dir}/tenants/${t.name}/blocks/${b.name}/meta.json`,
            ),
          );
          lines.push(
            `${t.name} ${b.name} [${meta.minTime}, ${meta.maxTime}) level ${meta.level} parents ${meta.parents}`,
          );
        } catch (e) {
          lines.push(`${t.name} ${b.name}: ${(e as Error).message}`);
        }
      }
    }
    lines.push(
      [...Deno.readDirSync(`${dir}/wal`)].map((e) => e.name).sort().join(" "),
    );
  } catch (e) {
    lines.push(String(e));
  }
  return lines.join("\n");
}
