import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { replay } from "../src/storage/wal/mod.ts";
import { Prng } from "../src/util/prng.ts";
import { batchFor, batchIdOf } from "./_wal_writer.ts";

const ROUNDS = 20;
const WRITER = fileURLToPath(new URL("./_wal_writer.ts", import.meta.url));

/** Bit-for-bit equality of two typed arrays (fast: big batches are compared each round). */
function sameBits(
  a: Float64Array | Uint32Array,
  b: Float64Array | Uint32Array,
): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Int32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
  const y = new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Runs the writer until it has acknowledged `target` batches (plus a little), then SIGKILLs it. */
async function runAndKill(
  dir: string,
  first: number,
  target: number,
  extraMs: number,
): Promise<{ acked: number[]; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir, String(first)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acked: number[] = [];
  let finished = false;
  const reading = (async () => {
    let text = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
      const lines = text.split("\n");
      text = lines.pop()!; // an unterminated line is not an acknowledgement
      for (const l of lines) acked.push(Number(l));
    }
    finished = true;
  })();
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 15_000;
  while (acked.length < target && !finished && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
  }
  if (extraMs) await new Promise((r) => setTimeout(r, extraMs));
  if (finished) {
    assert.fail(`writer ended by itself: ${await stderr}`);
  }
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  await reading;
  return { acked, stderr: await stderr };
}

Deno.test("wal crash: SIGKILL at random moments loses no acknowledged batch", async () => {
  const seed = 20261130;
  const prng = new Prng(seed);
  const dir = await Deno.makeTempDir();
  try {
    const acked = new Set<number>();
    let next = 0;
    let totalPresent = 0;
    let tornTails = 0;
    const verified = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      const target = prng.pick([0, 1, 5, 50, 200, 400]);
      const extra = prng.int(0, 25);
      const run = await runAndKill(dir, next, target, extra);
      for (const id of run.acked) acked.add(id);

      const present = new Map<number, true>();
      const seriesIds = new Set<number>();
      const report = await replay(dir, (rec) => {
        if (rec.kind === "series") {
          for (const s of rec.series) {
            assert.deepEqual(s.labels, [{
              name: "batch",
              value: String(s.ref),
            }]);
            seriesIds.add(s.ref);
          }
          return;
        }
        assert.equal(rec.kind, "samples", `seed ${seed} round ${round}`);
        if (rec.kind !== "samples") return;
        const id = batchIdOf(rec.ts);
        const msg = `seed ${seed} round ${round} batch ${id}`;
        assert.ok(Number.isInteger(id) && id >= 0, msg);
        assert.ok(!present.has(id), `${msg}: logged once`);
        present.set(id, true);
        // Whole and exact: a batch is one record, all or nothing. (Checked
        // once; later rounds only need it present.)
        if (verified.has(id)) return;
        verified.add(id);
        const b = batchFor(id);
        assert.equal(rec.tenant, b.tenant, msg);
        assert.ok(sameBits(rec.refs, b.refs), `${msg}: refs`);
        assert.ok(sameBits(rec.ts, b.ts), `${msg}: timestamps`);
        assert.ok(sameBits(rec.values, b.values), `${msg}: values`);
      }, { log: false });

      const msg =
        `seed ${seed} round ${round} (target ${target}, +${extra} ms)`;
      for (const id of acked) {
        assert.ok(present.has(id), `${msg}: acknowledged batch ${id} lost`);
        if (id % 10 === 0) assert.ok(seriesIds.has(id), `${msg}: series ${id}`);
      }
      // Only a torn tail of the last segment may be found (and is cut off).
      if (report.problems.length) tornTails++;
      for (const p of report.problems) {
        assert.ok(p.truncated, `${msg}: ${p.kind} at ${p.file}:${p.offset}`);
      }
      assert.deepEqual(report.gaps, [], msg);
      assert.ok(present.size >= totalPresent, msg);
      totalPresent = present.size;
      next = Math.max(next, ...present.keys(), ...acked) + 1;
    }
    assert.ok(acked.size > 500, `acknowledged ${acked.size} batches`);
    console.log(
      `${ROUNDS} kills: ${acked.size} acknowledged batches, ${totalPresent} ` +
        `present, ${tornTails} torn tails repaired`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
