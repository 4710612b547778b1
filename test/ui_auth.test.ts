// The query page with an auth file: the API's 401 opens a token dialog,
// a wrong token is refused with the server's reason, the right one is
// kept in sessionStorage only and sent as a Bearer token on every call
// (query, JSON, remote read, explorer); the page never shows another
// tenant's data; signing out forgets the token.
import assert from "node:assert/strict";
import type { Request } from "playwright-core";
import { launchChromium } from "./_browser.ts";
import { startTestServer } from "./_server.ts";
import {
  readAsSamples,
  screenshot,
  waitForRun,
  watchApi,
  writeSeries,
} from "./_ui.ts";

const TOKEN = "sk_ui_acme_1";
const SEED = 0xa17;

Deno.test("query page: token prompt, session-only token, Bearer on every call", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tm-ui-auth-" });
  const authFile = `${dir}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({
      tenants: {
        acme: { tokens: [TOKEN], limits: { queryPerMinute: 0 } },
        globex: { tokens: ["sk_ui_globex_1"] },
      },
    }),
  );
  const tm = await startTestServer({ authFile });
  try {
    const end = Math.floor(Date.now() / 15_000) * 15_000;
    const [acme] = await writeSeries(
      tm,
      "acme",
      [
        { __name__: "ui_auth", site: "acme" },
      ],
      end,
      200,
      15_000,
      SEED,
    );
    await writeSeries(
      tm,
      "globex",
      [
        { __name__: "ui_auth", site: "globex" },
      ],
      end,
      200,
      15_000,
      SEED + 1,
    );

    await using browser = await launchChromium();
    const { page } = browser;
    const watch = watchApi(page);
    const apiCalls: { path: string; auth: string | null }[] = [];
    page.on("request", (r: Request) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith("/api/")) {
        apiCalls.push({ path, auth: r.headers()["authorization"] ?? null });
      }
    });

    await page.goto(
      `${tm.base}/?q=ui_auth&range=30m&end=${new Date(end).toISOString()}`,
    );

    await t.step("a 401 opens the token dialog", async () => {
      await page.waitForSelector("#token-dialog[open]");
      assert.match(
        (await page.textContent("#token-reason")) ?? "",
        /credentials|authorization|unauthorized/i,
      );
      // The field has focus: the user can type at once.
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        "token-input",
      );
      await screenshot(page, "ui_auth_prompt");
    });

    await t.step(
      "a wrong token is refused with the server's reason",
      async () => {
        await page.keyboard.type("sk_wrong");
        await page.keyboard.press("Enter");
        await page.waitForFunction(() =>
          /refused/.test(
            document.getElementById("token-reason")?.textContent ?? "",
          )
        );
        assert.equal(await page.isVisible("#token-dialog"), true);
      },
    );

    await t.step(
      "the right token: results, stored in the session only",
      async () => {
        await page.fill("#token-input", TOKEN);
        await page.press("#token-input", "Enter");
        assert.equal(await waitForRun(page), "done");
        const rows = await page.$$eval(
          "#table tbody tr",
          (trs) => trs.map((tr) => tr.children[0].textContent),
        );
        assert.deepEqual(rows, ['ui_auth{site="acme"}'], "only acme's series");
        const panel = await page.$eval(
          "#decode-panel",
          (
            el,
          ) => [
            (el as HTMLElement).dataset.path,
            (el as HTMLElement).dataset.match,
          ],
        );
        assert.deepEqual(panel, ["STREAMED_XOR_CHUNKS", "true"]);
        const lastValue = await page.textContent(
          "#table tbody tr td:nth-child(3)",
        );
        assert.equal(lastValue, String(acme.values[acme.values.length - 1]));
        const storage = await page.evaluate(() => ({
          session: sessionStorage.getItem("tidemark.token"),
          local: JSON.stringify({ ...localStorage }),
          cookie: document.cookie,
        }));
        assert.equal(storage.session, TOKEN);
        assert.ok(
          !storage.local.includes(TOKEN),
          "token leaked to localStorage",
        );
        assert.equal(storage.cookie, "");
        await screenshot(page, "ui_auth_signed_in");
      },
    );

    await t.step(
      "every call after sign-in carries the Bearer token",
      async () => {
        await page.waitForSelector("#explorer-list .metric");
        const firstOk = apiCalls.findIndex((c) => c.auth === `Bearer ${TOKEN}`);
        assert.ok(firstOk >= 0);
        const after = apiCalls.slice(firstOk);
        const paths = new Set(after.map((c) => c.path));
        for (
          const p of [
            "/api/v1/query_range",
            "/api/v1/query",
            "/api/v1/read",
            "/api/v1/status/tsdb",
            "/api/v1/label/__name__/values",
          ]
        ) assert.ok(paths.has(p), `no call to ${p}`);
        assert.deepEqual(
          after.filter((c) => c.auth !== `Bearer ${TOKEN}`),
          [],
          "a call without the token",
        );
        await watch.settled();
        const ok = watch.reads.filter((r) => r.status === 200);
        assert.ok(ok.length >= 1, "a remote read answered 200");
        assert.ok(ok.every((r) => r.authorization === `Bearer ${TOKEN}`));
        // The server's remote read is tenant-scoped: acme's series only,
        // checked by replaying the page's request as SAMPLES.
        const oracle = await readAsSamples(tm.base, ok[0], `Bearer ${TOKEN}`);
        assert.deepEqual(
          oracle.results[0].timeseries.map((ts) =>
            ts.labels.find((l) => l.name === "site")?.value
          ),
          ["acme"],
        );
        const counts = await page.$$eval(
          "#explorer-list .metric-count",
          (els) => els.map((e) => e.textContent),
        );
        assert.deepEqual(counts, ["1"], "globex's series are not counted");
      },
    );

    await t.step("the token survives a reload, not a new session", async () => {
      await page.reload();
      assert.equal(await waitForRun(page), "done");
      assert.equal(await page.isVisible("#token-dialog"), false);
      // sessionStorage is per tab: a new tab starts without the token.
      const fresh = await browser.context.newPage();
      await fresh.goto(`${tm.base}/?q=ui_auth`);
      await fresh.waitForSelector("#token-dialog[open]");
      await fresh.click("#token-cancel");
      assert.equal(await waitForRun(fresh), "error");
      assert.match((await fresh.textContent("#error")) ?? "", /.+/);
      await fresh.close();
    });

    await t.step("signing out forgets the token", async () => {
      await page.click("#sign-out");
      assert.equal(
        await page.evaluate(() => sessionStorage.getItem("tidemark.token")),
        null,
      );
      await page.evaluate(() => delete document.body.dataset.state);
      await page.click("#run");
      await page.waitForSelector("#token-dialog[open]");
    });

    assert.deepEqual(
      browser.pageErrors.filter((e) =>
        !/Failed to load resource: .* status of 40[14]/.test(e)
      ),
      [],
    );
  } finally {
    await tm.close();
    await Deno.remove(dir, { recursive: true });
  }
});
