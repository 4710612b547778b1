// How the server serves the query page (no browser): the built files
// with their types, the same engine.wasm as the build, no credentials
// needed even with an auth file, ETag revalidation, HEAD, and a clear
// 503 when the page was not built.
import assert from "node:assert/strict";
import {
  PAGE_CSP,
  STATIC_ASSETS,
  staticHandler,
} from "../src/server/handlers/static.ts";
import type { RequestContext } from "../src/server/context.ts";
import { startTestServer } from "./_server.ts";

const BUILD = new URL("../build/", import.meta.url);

Deno.test("static: the page, its assets and engine.wasm", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tm-ui-static-" });
  const authFile = `${dir}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({ tenants: { acme: { tokens: ["sk_static_1"] } } }),
  );
  const tm = await startTestServer({ authFile });
  try {
    await t.step("each asset: 200, type, bytes of the build", async () => {
      for (const a of STATIC_ASSETS) {
        const res = await fetch(`${tm.base}${a.path}`);
        const body = new Uint8Array(await res.arrayBuffer());
        assert.equal(res.status, 200, a.path);
        assert.equal(res.headers.get("content-type"), a.contentType);
        assert.equal(res.headers.get("cache-control"), "no-cache");
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
        assert.deepEqual(body, await Deno.readFile(new URL(a.file, BUILD)));
      }
    });

    await t.step("the page: CSP, its script and stylesheet", async () => {
      const res = await fetch(`${tm.base}/`);
      const html = await res.text();
      assert.equal(res.headers.get("content-security-policy"), PAGE_CSP);
      assert.match(html, /<script type="module" src="\/ui\/app\.js">/);
      assert.match(html, /href="\/ui\/style\.css"/);
      // Every form control has a label.
      for (const id of ["expr", "range", "end", "step", "history"]) {
        assert.ok(
          html.includes(`for="${id}"`) ||
            new RegExp(
              `<label[^>]*>\\s*<span>[^<]+</span>\\s*<[a-z]+ id="${id}"`,
            )
              .test(html),
          `#${id} has no label`,
        );
      }
    });

    await t.step("the bundle loads the module from /engine.wasm", async () => {
      const js = await (await fetch(`${tm.base}/ui/app.js`)).text();
      assert.ok(js.includes("/engine.wasm"));
      assert.ok(js.includes("xor_decode_range_f64t"), "XorDecoder is bundled");
      const wasm = await (await fetch(`${tm.base}/engine.wasm`)).arrayBuffer();
      const mod = await WebAssembly.compile(wasm);
      assert.deepEqual(WebAssembly.Module.imports(mod), []);
    });

    await t.step("ETag revalidation and HEAD", async () => {
      const first = await fetch(`${tm.base}/ui/app.js`);
      await first.body?.cancel();
      const etag = first.headers.get("etag");
      assert.ok(etag);
      const again = await fetch(`${tm.base}/ui/app.js`, {
        headers: { "if-none-match": etag },
      });
      assert.equal(again.status, 304);
      await again.body?.cancel();
      const head = await fetch(`${tm.base}/engine.wasm`, { method: "HEAD" });
      const size = (await Deno.stat(new URL("engine.wasm", BUILD))).size;
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(size));
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    await t.step("the data routes still need credentials", async () => {
      const res = await fetch(`${tm.base}/api/v1/query?query=1`);
      await res.body?.cancel();
      assert.equal(res.status, 401);
      const post = await fetch(`${tm.base}/`, { method: "POST" });
      await post.body?.cancel();
      assert.equal(post.status, 405);
      const other = await fetch(`${tm.base}/ui/missing.js`);
      await other.body?.cancel();
      assert.equal(other.status, 404);
    });
  } finally {
    await tm.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("static: an unbuilt page is a 503 that says how to build", async () => {
  const empty = await Deno.makeTempDir({ prefix: "tm-ui-nobuild-" });
  try {
    const handler = staticHandler(
      STATIC_ASSETS[0],
      new URL(`file://${empty}/`),
    );
    await assert.rejects(
      handler(new Request("http://x/"), {} as RequestContext),
      (e: Error & { status?: number }) =>
        e.status === 503 && /npm run build/.test(e.message),
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
