/**
 * Runs every benchmark suite, writes bench/results/<date>.json and
 * bench/results/latest.md (the table the README quotes).
 *
 * Usage: deno task bench [suite…]   (default: all suites)
 * @module
 */
import { machine, rate, type SuiteResult } from "./_harness.ts";

const suites: Record<string, () => Promise<{ run(): Promise<SuiteResult> }>> = {
  xor: () => import("./xor.bench.ts"),
  ddsketch: () => import("./ddsketch.bench.ts"),
  hll: () => import("./hll.bench.ts"),
  agg: () => import("./agg.bench.ts"),
  wal: () => import("./wal.bench.ts"),
  block: () => import("./block.bench.ts"),
  storage: () => import("./storage.bench.ts"),
  remote_write: () => import("./remote_write.ts"),
};

const wanted = Deno.args.length ? Deno.args : Object.keys(suites);
const results: SuiteResult[] = [];
for (const name of wanted) {
  const load = suites[name];
  if (!load) throw new Error(`unknown suite "${name}"`);
  results.push(await (await load()).run());
}

const date = new Date().toISOString();
// A partial run gets its own files, so it never replaces the full table.
const tag = Deno.args.length ? `-${wanted.join("-")}` : "";
const report = { date, machine: await machine(), results };
const dir = new URL("./results/", import.meta.url);
await Deno.mkdir(dir, { recursive: true });
await Deno.writeTextFile(
  new URL(`${date.slice(0, 10)}${tag}.json`, dir),
  JSON.stringify(report, null, 2) + "\n",
);

const m = report.machine;
const lines = [
  `Measured ${
    date.slice(0, 16).replace("T", " ")
  } UTC on ${m.cpu}, ${m.cores} cores, ` +
  `${m.memGiB} GiB, Deno ${m.deno} (V8 ${m.v8}); medians of benny runs.`,
  "",
  "| suite | case | rate | median per op |",
  "|---|---|---|---|",
];
for (const r of results) {
  for (const c of r.cases) {
    lines.push(
      `| ${r.suite} | ${c.name} | ${rate(c.itemsPerSec)} | ${
        c.medianMs.toFixed(3)
      } ms |`,
    );
  }
}
lines.push("", "| suite | figure | value |", "|---|---|---|");
for (const r of results) {
  for (const [k, v] of Object.entries(r.figures)) {
    lines.push(`| ${r.suite} | ${k} | ${Number(v.toPrecision(4))} |`);
  }
}
await Deno.writeTextFile(
  new URL(`latest${tag}.md`, dir),
  lines.join("\n") + "\n",
);
console.log(lines.join("\n"));
