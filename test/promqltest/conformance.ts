/**
 * Runs Prometheus' PromQL test files (../shared/promql-testdata, outside
 * the repository) against the engine and prints
 * `conformance: N passed, M failed, K skipped`; failures go to
 * bench/results/promql_conformance.txt.
 * @module
 */
import { runScript } from "./runner.ts";
import type { Command } from "./parse.ts";
import { formatLabels, getLabel, type Labels } from "../../src/model/labels.ts";
import { type Expr, walk } from "../../src/promql/ast.ts";
import { parse } from "../../src/promql/parser.ts";

const DATA = new URL("../../../shared/promql-testdata/", import.meta.url);
const REPORT = new URL(
  "../../bench/results/promql_conformance.txt",
  import.meta.url,
);

/** Experimental features that are stretch goals (see the data's README). */
const STRETCH_FILES = new Set([
  "fill-modifier.test",
  "extended_vectors.test",
  "info.test",
  "type_and_unit.test",
  "start_timestamps.test",
]);

/** Experimental functions the engine does not implement yet. */
const UNSUPPORTED = new Set(["histogram_quantiles"]);

/**
 * Why a case is out of scope, or null: its expected output has a native
 * histogram, a selector of the query selects a native-histogram series of
 * the loaded data, or it calls an experimental function not implemented yet.
 */
function skipReason(
  cmd: Extract<Command, { type: "eval" }>,
  histogramSeries: readonly Labels[],
): string | null {
  if (cmd.histogram) return "native histogram in the expected output";
  let expr: Expr;
  try {
    expr = parse(cmd.query);
  } catch {
    return null; // the engine reports the parse error
  }
  let reason: string | null = null;
  walk(expr, (node) => {
    if (reason) return false;
    if (node.type === "Call" && UNSUPPORTED.has(node.func.name)) {
      reason = `${node.func.name} is not implemented yet (experimental)`;
    } else if (node.type === "VectorSelector") {
      const hit = histogramSeries.find((ls) =>
        node.matchers.every((m) => m.matches(getLabel(ls, m.name)))
      );
      if (hit) {
        reason = `selects native-histogram series ${formatLabels(hit)}`;
      }
    }
  });
  return reason;
}

const files = [...Deno.readDirSync(DATA)].filter((f) =>
  f.name.endsWith(".test")
).map((f) => f.name).sort();
let passed = 0;
let failed = 0;
let skipped = 0;
const lines: string[] = [];
const perFile: string[] = [];
const skips: string[] = [];
for (const name of files) {
  const text = Deno.readTextFileSync(new URL(name, DATA));
  if (STRETCH_FILES.has(name)) {
    const n = (text.match(/^eval/gm) ?? []).length;
    skipped += n;
    perFile.push(`${name}: skipped ${n} (experimental feature, stretch goal)`);
    continue;
  }
  let results;
  try {
    results = await runScript(text, { skip: skipReason });
  } catch (e) {
    const n = (text.match(/^eval/gm) ?? []).length;
    failed += n;
    perFile.push(`${name}: runner error ${(e as Error).message}`);
    lines.push(`${name}: runner error ${(e as Error).stack}`);
    continue;
  }
  let p = 0, f = 0, s = 0;
  for (const r of results) {
    if (r.status === "pass") p++;
    else if (r.status === "skip") {
      s++;
      skips.push(`${name}:${r.line}: ${r.query}\n    skipped: ${r.reason}`);
    } else {
      f++;
      lines.push(`${name}:${r.line}: ${r.query}\n    ${r.reason}`);
    }
  }
  passed += p;
  failed += f;
  skipped += s;
  perFile.push(`${name}: ${p} passed, ${f} failed, ${s} skipped`);
}
await Deno.mkdir(new URL(".", REPORT), { recursive: true });
await Deno.writeTextFile(
  REPORT,
  perFile.join("\n") + "\n\nFailures:\n" + lines.join("\n") +
    "\n\nSkipped:\n" + skips.join("\n") + "\n",
);
console.log(perFile.join("\n"));
for (const l of lines.slice(0, Number(Deno.env.get("SHOW") ?? 20))) {
  console.log(l);
}
console.log(
  `conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`,
);
