/**
 * Every `eval` expression of Prometheus' own PromQL test files (read at test
 * time from ../shared/promql-testdata when present) must parse, and its
 * printed forms must parse back to an equal tree. Plus a seeded random
 * round-trip property test over generated expressions.
 */
import assert from "node:assert/strict";
import { format, parse, ParseError, pretty } from "../src/promql/mod.ts";
import type { Expr } from "../src/promql/ast.ts";
import { Prng } from "../src/util/prng.ts";
import { type EvalCase, evalCases, strip } from "./_promql_shape.ts";

const TESTDATA = new URL("../../shared/promql-testdata/", import.meta.url);

function readCases(): EvalCase[] | null {
  let names: string[];
  try {
    names = [...Deno.readDirSync(TESTDATA)].map((e) => e.name)
      .filter((n) => n.endsWith(".test")).sort();
  } catch {
    return null;
  }
  return names.flatMap((n) =>
    evalCases(n, Deno.readTextFileSync(new URL(n, TESTDATA)))
  );
}

Deno.test("promql: every eval expression of Prometheus' test files", () => {
  const cases = readCases();
  if (cases === null) {
    console.log("promql-testdata not found; skipped");
    return;
  }
  assert.ok(cases.length > 1000, `only ${cases.length} eval commands found`);
  const failures: string[] = [];
  let parsed = 0, skipped = 0, expectFail = 0, expectFailAtParse = 0;
  for (const c of cases) {
    if (c.expr.includes("{{")) { // native histogram literal: out of scope
      skipped++;
      continue;
    }
    if (c.expectFail) expectFail++;
    let e: Expr;
    try {
      e = parse(c.expr);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      if (c.expectFail) expectFailAtParse++;
      else failures.push(`${c.file}:${c.line} ${c.expr}: ${err.message}`);
      continue;
    }
    parsed++;
    const want = strip(e);
    assert.deepEqual(strip(parse(format(e))), want, `${c.file}:${c.line}`);
    assert.deepEqual(strip(parse(pretty(e))), want, `${c.file}:${c.line}`);
    assert.deepEqual(strip(parse(pretty(e, 20))), want, `${c.file}:${c.line}`);
  }
  console.log(
    `promql testdata: ${cases.length} eval commands, ${parsed} parsed, ` +
      `${skipped} skipped, ${expectFail} expect failure ` +
      `(${expectFailAtParse} of them at parse time)`,
  );
  assert.deepEqual(failures, []);
  // Upstream's expected failures in these files are all evaluation errors.
  assert.equal(expectFailAtParse, 0);
});

/** A random expression of the given type, as text. */
function gen(r: Prng, type: "scalar" | "vector", depth: number): string {
  const leaf = depth <= 0 || r.int(0, 3) === 0;
  if (type === "scalar") {
    if (leaf) {
      return r.pick([
        "1",
        "2.5",
        "0x10",
        "1e3",
        "5m",
        "Inf",
        "NaN",
        "-3",
        "time()",
        "pi()",
      ]);
    }
    switch (r.int(0, 3)) {
      case 0:
        return `${gen(r, "scalar", depth - 1)} ${
          r.pick(["+", "-", "*", "/", "%", "^", "atan2"])
        } ${gen(r, "scalar", depth - 1)}`;
      case 1:
        return `${gen(r, "scalar", depth - 1)} ${
          r.pick(["==", "!=", "<", ">", "<=", ">="])
        } bool ${gen(r, "scalar", depth - 1)}`;
      case 2:
        return `(${gen(r, "scalar", depth - 1)})`;
      default:
        return `-${gen(r, "scalar", depth - 1)}`;
    }
  }
  const sel = () =>
    r.pick([
      "foo",
      'bar{a="b"}',
      '{__name__=~"x.*",c!="d"}',
      'baz{"e.f"="g"}',
      "sum",
    ]) +
    r.pick(["", " offset 5m", " @ 100", " offset -1h @ start()"]);
  const range = () =>
    r.pick(["5m", "1h30m", "300", "5m * 2", "step() + 1s", "(1m)"]);
  if (leaf) return sel();
  switch (r.int(0, 7)) {
    // Vector operands are parenthesized so that precedence cannot regroup
    // them into an ill-typed tree (precedence has its own table test).
    case 0:
      return `(${gen(r, "vector", depth - 1)}) ${
        r.pick(["+", "-", "*", "/", "^", "and", "or", "unless", ">", "== bool"])
      } ${r.pick(["", "on (a) ", "ignoring (b, c) "])}(${
        gen(r, "vector", depth - 1)
      })`;
    case 1:
      return `(${gen(r, "vector", depth - 1)}) ${r.pick(["*", "+"])} on (a) ${
        r.pick(["group_left ()", "group_right (x)"])
      } (${gen(r, "vector", depth - 1)})`;
    case 2:
      return `(${gen(r, "vector", depth - 1)}) ${r.pick(["+", "<", "/"])} ${
        gen(r, "scalar", depth - 1)
      }`;
    case 3:
      return `${r.pick(["sum", "avg", "max", "count", "group"])} ${
        r.pick(["", "by (a) ", "without (b) "])
      }(${gen(r, "vector", depth - 1)})`;
    case 4:
      return `topk(${gen(r, "scalar", depth - 1)}, ${
        gen(r, "vector", depth - 1)
      })`;
    case 5:
      return `${r.pick(["rate", "max_over_time", "changes"])}(${
        sel().split(" ")[0]
      }[${range()}])`;
    case 6:
      return `${r.pick(["abs", "-", "sort", ""])}(${
        gen(r, "vector", depth - 1)
      })`;
    default:
      return `avg_over_time((${gen(r, "vector", depth - 1)})[${range()}:${
        r.pick(["", "1m", "step()"])
      }])`;
  }
}

Deno.test("promql: random expressions round-trip through format and pretty", () => {
  const seed = 0x5eed;
  const r = new Prng(seed);
  for (let i = 0; i < 3000; i++) {
    const q = gen(r, r.pick(["scalar", "vector"] as const), r.int(1, 5));
    let e: Expr;
    try {
      e = parse(q);
    } catch (err) {
      throw new Error(
        `seed ${seed} case ${i}: ${q}: ${(err as Error).message}`,
      );
    }
    const want = strip(e);
    const printed = format(e);
    assert.deepEqual(
      strip(parse(printed)),
      want,
      `seed ${seed} case ${i}: ${q} -> ${printed}`,
    );
    assert.equal(
      format(parse(printed)),
      printed,
      `seed ${seed} case ${i}: format is idempotent`,
    );
    assert.deepEqual(
      strip(parse(pretty(e, 30))),
      want,
      `seed ${seed} case ${i}: pretty`,
    );
  }
});
