// Seeded fuzzing of every POST route: random and mutated bodies and query
// strings. Every answer must be < 500, the server must keep serving, and
// a rejected write must leave the store unchanged.
import assert from "node:assert/strict";
import { Prng } from "../src/util/prng.ts";
import { startTestServer } from "./_server.ts";

const SEED = 20261130;
const ROUNDS = Number(Deno.env.get("FUZZ_ROUNDS") ?? 1500);

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

/** Flips, truncates, splices or duplicates bytes of a valid body. */
function mutate(r: Prng, valid: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(valid);
  switch (r.int(0, 4)) {
    case 0:
      for (let k = r.int(1, 8); k > 0 && b.length; k--) {
        b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7);
      }
      return b;
    case 1:
      return b.slice(0, r.int(0, b.length));
    case 2: {
      const at = r.int(0, b.length);
      const junk = randomBytes(r, 16);
      const out = new Uint8Array(b.length + junk.length);
      out.set(b.subarray(0, at));
      out.set(junk, at);
      out.set(b.subarray(at), at + junk.length);
      return out;
    }
    case 3:
      return randomBytes(r, 200);
    default: {
      const out = new Uint8Array(b.length * 2);
      out.set(b);
      out.set(b, b.length);
      return out;
    }
  }
}

Deno.test(`fuzz: write and export routes answer < 500; rejected writes store nothing (seed ${SEED})`, async () => {
  const { encodeWriteRequest, encodeReadRequest } = await import(
    "../src/codec/prompb.ts"
  );
  const { snappyEncode } = await import("../src/codec/snappy.ts");
  const tm = await startTestServer();
  try {
    const r = new Prng(SEED + 1);
    const t0 = Date.now() - 600_000;
    const validWrite = snappyEncode(encodeWriteRequest({
      timeseries: [0, 1, 2].map((s) => ({
        labels: [{ name: "__name__", value: "fz_metric" }, {
          name: "s",
          value: String(s),
        }],
        timestamps: Float64Array.of(t0, t0 + 15_000),
        values: Float64Array.of(s, s + 1),
      })),
    }));
    const validRead = snappyEncode(encodeReadRequest({
      queries: [{
        startTimestampMs: t0 - 60_000,
        endTimestampMs: t0 + 60_000,
        matchers: [{ type: 0, name: "__name__", value: "fz_metric" }],
      }],
      acceptedResponseTypes: [r.pick([0, 1])],
    }));
    const enc = new TextEncoder();
    const validPush = enc.encode(
      '# TYPE fz_pushed gauge\nfz_pushed{a="b"} 1\n',
    );
    const validTele = enc.encode(JSON.stringify({
      metric: "fz_metric",
      tags: { s: ["0", "1"] },
      start: t0 - 60_000,
      end: t0 + 60_000,
      step: "1m",
    }));
    const fingerprint = async () => {
      const res = await fetch(
        `${tm.base}/api/v1/query?query=${
          encodeURIComponent('count_over_time({__name__=~"fz_metric"}[1h])')
        }&time=${(t0 + 60_000) / 1000}`,
      );
      return JSON.stringify((await res.json()).data.result);
    };
    const routes = [
      {
        path: "/api/v1/write",
        valid: validWrite,
        type: "application/x-protobuf",
        write: true,
      },
      {
        path: "/api/v1/read",
        valid: validRead,
        type: "application/x-protobuf",
        write: false,
      },
      {
        path: "/metrics/job/fz",
        valid: validPush,
        type: "text/plain",
        write: false,
      },
      {
        path: "/api/v1/tenant/telemetry",
        valid: validTele,
        type: "application/json",
        write: false,
      },
    ];
    const first = await fetch(`${tm.base}/api/v1/write`, {
      method: "POST",
      headers: {
        "content-type": "application/x-protobuf",
        "content-encoding": "snappy",
      },
      body: validWrite,
    });
    assert.equal(first.status, 204, await first.text());
    let before = await fingerprint();
    const statuses = new Map<string, number>();
    for (let i = 0; i < ROUNDS * 2; i++) {
      const route = r.pick(routes);
      const body = mutate(r, route.valid);
      const res = await fetch(tm.base + route.path, {
        method: route.path.startsWith("/metrics/")
          ? r.pick(["PUT", "POST"])
          : "POST",
        headers: {
          "content-type": route.type,
          ...(route.type.includes("protobuf")
            ? { "content-encoding": "snappy" }
            : {}),
        },
        body,
      });
      const text = await res.text();
      const key = `${route.path} ${res.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      assert.ok(
        res.status < 500,
        `seed ${SEED + 1} round ${i}: ${route.path} → ${res.status} ${
          text.slice(0, 300)
        }`,
      );
      if (route.write) {
        const after = await fingerprint();
        const written = Number(
          res.headers.get("x-prometheus-remote-write-samples-written") ?? 0,
        );
        if (res.status >= 400 && written === 0) {
          assert.equal(
            after,
            before,
            `seed ${SEED + 1} round ${i}: a rejected body wrote`,
          );
        }
        before = after;
      }
    }
    // Each route saw both acceptance and rejection.
    for (const route of routes) {
      const keys = [...statuses.keys()].filter((k) =>
        k.startsWith(route.path + " ")
      );
      assert.ok(keys.some((k) => / 4\d\d$/.test(k)), `${route.path}: ${keys}`);
    }
    const ok = await fetch(
      `${tm.base}/api/v1/query?query=fz_metric&time=${(t0 + 20_000) / 1000}`,
    );
    // Mutations may have made new valid series; the original three remain.
    const names = (await ok.json()).data.result.map((
      x: { metric: { s?: string } },
    ) => x.metric.s);
    for (const s of ["0", "1", "2"]) {
      assert.ok(names.includes(s), `series ${s}`);
    }
  } finally {
    await tm.close();
  }
});
