// Tenants over HTTP: credentials of each form, 401s, rate limits and
// isolation on every read route of the Prometheus API.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { labelsFrom } from "../src/model/labels.ts";
import { startTestServer, type TestServer } from "./_server.ts";

const SECRET = "test-secret-for-jwt";

function b64url(s: string | Uint8Array): string {
  return Buffer.from(s).toString("base64url");
}

function jwt(payload: Record<string, unknown>, secret = SECRET): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(sig)}`;
}

async function withServer(fn: (tm: TestServer) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tm-tenants-" });
  const authFile = `${dir}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({
      tenants: {
        acme: { tokens: ["sk_acme_1"] },
        globex: { tokens: ["sk_globex_1"], limits: { queryPerMinute: 3 } },
        initech: { tokens: ["sk_initech_1"] },
      },
      jwt: { hs256Secret: SECRET, tenantClaim: "tenant" },
    }),
  );
  const tm = await startTestServer({ authFile, dataDir: `${dir}/data` });
  try {
    await fn(tm);
  } finally {
    await tm.close(true);
    await Deno.remove(dir, { recursive: true });
  }
}

const BEARER_ACME = { authorization: "Bearer sk_acme_1" };
const BEARER_GLOBEX = { authorization: "Bearer sk_globex_1" };
const BEARER_INITECH = { authorization: "Bearer sk_initech_1" };

Deno.test("credentials: tokens, basic, JWT; 401 otherwise; health is open", async () => {
  await withServer(async (tm) => {
    const q = `${tm.base}/api/v1/query?query=1`;
    const now = Math.floor(Date.now() / 1000);
    const good = [
      BEARER_ACME,
      { authorization: `Basic ${btoa("acme:sk_acme_1")}` },
      { authorization: `Bearer ${jwt({ tenant: "acme", exp: now + 60 })}` },
    ];
    for (const headers of good) {
      const r = await fetch(q, { headers });
      const text = await r.text();
      assert.equal(r.status, 200, `${headers.authorization}: ${text}`);
    }
    const bad: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: `Basic ${btoa("globex:sk_acme_1")}` },
      { authorization: `Bearer ${jwt({ tenant: "acme", exp: now - 3600 })}` },
      { authorization: `Bearer ${jwt({ tenant: "acme" }, "wrong")}` },
      { authorization: `Bearer ${jwt({ tenant: "umbrella" })}` },
    ];
    for (const headers of bad) {
      const r = await fetch(q, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.ok(r.headers.get("www-authenticate")?.includes("Bearer"));
      const body = await r.json();
      assert.equal(body.status, "error");
      assert.equal(body.errorType, "unauthorized");
    }
    for (const path of ["/-/healthy", "/-/ready", "/metrics"]) {
      const r = await fetch(tm.base + path);
      assert.equal(r.status, 200, path);
      await r.body?.cancel();
    }
  });
});

Deno.test("rate limit: 429 with Retry-After past the tenant's queryPerMinute", async () => {
  await withServer(async (tm) => {
    const statuses: number[] = [];
    let retryAfter = "";
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${tm.base}/api/v1/query?query=1`, {
        headers: BEARER_GLOBEX,
      });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get("retry-after") ?? "";
        assert.equal((await r.json()).errorType, "too_many_requests");
      } else await r.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    // 3 per minute refill one every 20 s.
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 20, retryAfter);
    // The other tenant is not affected (default 60/min).
    const r = await fetch(`${tm.base}/api/v1/query?query=1`, {
      headers: BEARER_ACME,
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  });
});

Deno.test("isolation: one tenant's series are invisible on every read route of another", async () => {
  await withServer(async (tm) => {
    const t = Date.now() - 60_000;
    const app = tm.server.db.appender("acme");
    app.append(labelsFrom({ __name__: "secret_metric", team: "red" }), t, 42);
    assert.equal((await app.commit()).rejected.length, 0);
    const routes = [
      "/api/v1/query?query=secret_metric",
      `/api/v1/query_range?query=secret_metric&start=${
        (t - 60_000) / 1000
      }&end=${(t + 60_000) / 1000}&step=15`,
      "/api/v1/series?match[]=secret_metric",
      "/api/v1/labels",
      "/api/v1/label/team/values",
      "/api/v1/label/__name__/values",
      "/api/v1/status/tsdb",
    ];
    for (const path of routes) {
      const [a, g] = await Promise.all(
        [BEARER_ACME, BEARER_INITECH].map(async (headers) => {
          const r = await fetch(tm.base + path, { headers });
          const text = await r.text();
          assert.equal(r.status, 200, `${path}: ${text}`);
          return JSON.stringify(JSON.parse(text).data);
        }),
      );
      assert.ok(
        a.includes("secret_metric") || a.includes("red") || a.includes("team"),
        `${path}: acme sees ${a}`,
      );
      assert.ok(
        !g.includes("secret_metric") && !g.includes("red") &&
          !g.includes("team"),
        `${path}: initech sees ${g}`,
      );
    }
  });
});
