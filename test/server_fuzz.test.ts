// Seeded fuzzing of every POST route: random and mutated bodies and query
// strings. Every answer must be < 500, the server must keep serving, and
// a rejected write must leave the store unchanged.
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import { startTestServer } from "./_server.ts";

const SEED = 20261130;
const ROUNDS = Number(Deno.env.get("FUZZ_ROUNDS") ?? 400);

const TOKENS = [
  "sum",
  "rate",
  "(",
  ")",
  "[5m]",
  "{",
  "}",
  "=",
  "=~",
  "!~",
  '"a"',
  "'b'",
  "`c`",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "+",
  "-",
  "*",
  "/",
  "^",
  "%",
  "==",
  "!=",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "@",
  "1h",
  "-5m",
  "1e308",
  "NaN",
  "Inf",
  "0x1f",
  ",",
  "up",
  "x",
  "histogram_quantile",
  "0.9",
  "topk",
  "label_replace",
  "[1h:1m]",
  "start()",
  "end()",
  "\\",
  "\u0000",
  "\u{1F600}",
  '"\\xff"',
  "9999999999999999999999",
];

/** A PromQL-like string: valid pieces in a random order. */
function promqlish(r: Prng): string {
  const n = r.int(0, 12);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += r.pick(TOKENS) + (r.float() < 0.3 ? " " : "");
  }
  return s;
}

function randomBytes(r: Prng, max: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(r.int(0, max));
  for (let i = 0; i < out.length; i++) out[i] = r.u32() & 0xff;
  return out;
}

function randomParam(r: Prng): string {
  const kinds = [
    () => promqlish(r),
    () => String(r.float() * 1e10 - 5e9),
    () =>
      r.pick([
        "",
        "now",
        "1h",
        "-1",
        "0",
        "NaN",
        "1e400",
        "2026-01-01T00:00:00Z",
        "292277025-08-18T07:12:54.999999999Z",
      ]),
    () => new TextDecoder().decode(randomBytes(r, 20)),
  ];
  return r.pick(kinds)();
}

const FORM_ROUTES = [
  "/api/v1/query",
  "/api/v1/query_range",
  "/api/v1/series",
  "/api/v1/labels",
  "/api/v1/label/job/values",
  "/api/v1/format_query",
  "/api/v1/query_exemplars",
  "/api/v1/metadata",
  "/api/v1/status/tsdb",
];
const PARAMS = [
  "query",
  "time",
  "start",
  "end",
  "step",
  "timeout",
  "match[]",
  "limit",
  "metric",
];

Deno.test(`fuzz: query routes answer < 500 and keep serving (seed ${SEED})`, async () => {
  const tm = await startTestServer({ queryTimeoutMs: 2000 });
  try {
    const r = new Prng(SEED);
    const statuses = new Map<number, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const route = r.pick(FORM_ROUTES);
      const form = new URLSearchParams();
      for (let k = r.int(0, 5); k > 0; k--) {
        form.append(r.pick(PARAMS), randomParam(r));
      }
      const asPost = r.float() < 0.5;
      const raw = r.float() < 0.15;
      const res = asPost
        ? await fetch(tm.base + route, {
          method: "POST",
          headers: {
            "content-type": r.float() < 0.9
              ? "application/x-www-form-urlencoded"
              : r.pick(["application/json", "text/plain", "x/y; a=b"]),
          },
          body: raw ? randomBytes(r, 300) : form.toString(),
        })
        : await fetch(`${tm.base}${route}?${form}`);
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(
        res.status < 500 || (res.status === 503 && text.includes('"timeout"')),
        `seed ${SEED} round ${i}: ${route} ${
          asPost ? "POST" : "GET"
        } ${form} → ${res.status} ${text}`,
      );
      if (res.headers.get("content-type")?.includes("json")) JSON.parse(text);
    }
    assert.ok((statuses.get(400) ?? 0) > 0, "some requests were rejected");
    assert.ok((statuses.get(200) ?? 0) > 0, "some requests succeeded");
    const ok = await fetch(`${tm.base}/api/v1/query?query=1%2B1`);
    assert.equal((await ok.json()).data.result[1], "2");
  } finally {
    await tm.close();
  }
});
