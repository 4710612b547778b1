// The query page in headless Chromium against a live test server with
// data written by the test: table values, a drawn chart, the WASM decode
// path of STREAMED_XOR_CHUNKS checked against the JSON API and against
// what was written, errors with the parser's position, links, history,
// the metrics explorer, keyboard use and a phone-sized layout.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium } from "./_browser.ts";
import { startTestServer } from "./_server.ts";
import {
  readAsSamples,
  screenshot,
  waitForRun,
  watchApi,
  writeSeries,
  type WrittenSeries,
} from "./_ui.ts";

const SEED = 0x0a9e;
const STEP = 15_000;
const COUNT = 300; // 75 min of samples; the page shows the last hour

/** Types `expr` into the box and runs it with Enter. */
async function runExpr(page: Page, expr: string): Promise<string> {
  await page.evaluate(() => delete document.body.dataset.state);
  await page.fill("#expr", expr);
  await page.press("#expr", "Enter");
  return await waitForRun(page);
}

/** The page's table as rows of cell texts. */
function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval(
    "#table tbody tr",
    (trs) =>
      trs.map((tr) =>
        [...tr.children].map((c) => (c.textContent ?? "").trim())
      ),
  );
}

/** The decode panel's data-* numbers, its text and visibility. */
async function decodePanel(page: Page): Promise<Record<string, string>> {
  return await page.$eval("#decode-panel", (el) => {
    const e = el as HTMLElement;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.dataset)) out[k] = v ?? "";
    out.text = e.textContent ?? "";
    out.hidden = String(e.hidden);
    return out;
  });
}

/** Browser errors other than the expected 404 (Metrics API hook) and 400 (bad query). */
function unexpected(errors: readonly string[]): string[] {
  return errors.filter((e) =>
    !/Failed to load resource: .* status of 40[04]/.test(e)
  );
}

Deno.test("query page: table, chart and the WASM decode path", async (t) => {
  const tm = await startTestServer();
  try {
    const end = Math.floor(Date.now() / STEP) * STEP;
    const start = end - 3_600_000;
    const written = await writeSeries(
      tm,
      "default",
      [
        { __name__: "ui_temp", room: "a" },
        { __name__: "ui_temp", room: "b" },
        { __name__: "ui_other", job: "x" },
      ],
      end,
      COUNT,
      STEP,
      SEED,
    );
    const temp = written.filter((s) => s.labels.__name__ === "ui_temp");
    const inWindow = (s: WrittenSeries) =>
      s.ts.filter((ts) => ts >= start && ts <= end).length;
    const last = (s: WrittenSeries) => s.values[s.values.length - 1];

    await using browser = await launchChromium();
    const { page } = browser;
    await page.setViewportSize({ width: 1280, height: 900 });
    const watch = watchApi(page);
    const wasmLoads: number[] = [];
    page.on("response", (r) => {
      if (new URL(r.url()).pathname === "/engine.wasm") {
        wasmLoads.push(r.status());
      }
    });
    const endIso = new Date(end).toISOString();
    await page.goto(`${tm.base}/?range=1h&end=${endIso}`);
    await page.waitForSelector("body[data-ready]");

    await t.step("a plain selector: table values as written", async () => {
      assert.equal(await runExpr(page, "ui_temp"), "done");
      const rows = await tableRows(page);
      assert.deepEqual(
        rows.map((r) => r.slice(0, 3)),
        temp.map((s) => [
          `ui_temp{room="${s.labels.room}"}`,
          String(inWindow(s)),
          String(last(s)),
        ]),
        `seed ${SEED}`,
      );
    });

    await t.step(
      "the chart is drawn from the decoded raw samples",
      async () => {
        assert.equal(
          await page.getAttribute("#graph-section", "data-source"),
          "raw",
        );
        const paths = await page.$$eval(
          "#chart path.series",
          (ps) => ps.map((p) => p.getAttribute("d") ?? ""),
        );
        assert.equal(paths.length, 2);
        for (const [i, d] of paths.entries()) {
          // One vertex per raw sample in the window (samples are 15 s apart:
          // no gaps).
          const vertices = (d.match(/[ML]/g) ?? []).length;
          assert.equal(
            vertices,
            inWindow(temp[i]),
            `path ${i}: ${d.slice(0, 80)}`,
          );
        }
        const box = await page.locator("#chart svg").boundingBox();
        assert.ok(box && box.width > 500 && box.height > 200, "chart size");
        const legend = await page.$$eval(
          ".legend-item",
          (bs) => bs.map((b) => b.textContent),
        );
        assert.deepEqual(legend, ['ui_temp{room="a"}', 'ui_temp{room="b"}']);
        await screenshot(page, "ui_selector_graph");
      },
    );

    await t.step(
      "the server's remote read chunks, decoded by engine.wasm, match JSON",
      async () => {
        await watch.settled();
        const panel = await decodePanel(page);
        const expected = temp.reduce((n, s) => n + inWindow(s), 0);
        assert.equal(panel.hidden, "false");
        assert.equal(panel.path, "STREAMED_XOR_CHUNKS");
        assert.equal(panel.match, "true", "decoded samples differ from JSON");
        assert.equal(Number(panel.samples), expected, `seed ${SEED}`);
        // The request the page sent to the server: snappy, chunks, the window.
        assert.equal(watch.reads.length, 1);
        const ex = watch.reads[0];
        assert.equal(ex.status, 200);
        assert.match(ex.contentType ?? "", /^application\/x-streamed-protobuf/);
        assert.deepEqual(ex.request.acceptedResponseTypes, [1]);
        assert.equal(ex.contentEncoding, "snappy");
        assert.equal(ex.request.queries[0].startTimestampMs, start);
        assert.equal(ex.request.queries[0].endTimestampMs, end);
        assert.deepEqual(ex.request.queries[0].matchers, [
          { type: 0, name: "__name__", value: "ui_temp" },
        ]);
        // Bytes shown are the bytes on the wire: chunks vs the JSON reads.
        assert.equal(Number(panel.chunkBytes), ex.responseBytes);
        assert.deepEqual(watch.queryBytes.length, 1, "one raw JSON read");
        assert.equal(Number(panel.jsonBytes), watch.queryBytes[0]);
        assert.ok(
          ex.responseBytes < watch.queryBytes[0],
          `chunks ${ex.responseBytes} B vs JSON ${watch.queryBytes[0]} B`,
        );
        assert.match(panel.text, /as chunks vs .* as JSON/);
        // Oracle: the same request as SAMPLES, decoded in Deno, holds
        // exactly what was written (and what the page decoded).
        const oracle = await readAsSamples(tm.base, ex);
        const got = oracle.results[0].timeseries.map((ts) => ({
          room: ts.labels.find((l) => l.name === "room")?.value,
          ts: [...ts.timestamps],
          values: [...ts.values],
        }));
        assert.deepEqual(
          got,
          temp.map((s) => {
            const keep = s.ts.map((x) => x >= start && x <= end);
            return {
              room: s.labels.room,
              ts: s.ts.filter((_, i) => keep[i]),
              values: s.values.filter((_, i) => keep[i]),
            };
          }),
          `seed ${SEED}`,
        );
        assert.deepEqual(
          wasmLoads,
          [200],
          "engine.wasm served once by the server",
        );
      },
    );

    await t.step("hover and keyboard read values off the chart", async () => {
      const svg = page.locator("#chart svg");
      await svg.focus();
      await page.keyboard.press("End");
      const tip = await page.textContent(".chart-tooltip");
      assert.ok(tip?.includes(String(last(temp[0]))), `tooltip: ${tip}`);
      assert.ok(tip?.includes(String(last(temp[1]))), `tooltip: ${tip}`);
      await page.keyboard.press("Escape");
      assert.equal(await page.isHidden(".chart-tooltip"), true);
      const box = (await svg.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      assert.equal(await page.isVisible(".chart-tooltip"), true);
      // The legend toggles a series by keyboard.
      await page.focus(".legend-item >> nth=1");
      await page.keyboard.press("Enter");
      assert.equal(await page.locator("#chart path.series").count(), 1);
      await page.keyboard.press("Enter");
      assert.equal(await page.locator("#chart path.series").count(), 2);
    });

    await t.step(
      "an expression: query_range chart, selectors decoded",
      async () => {
        await watch.settled();
        watch.clear();
        assert.equal(await runExpr(page, "sum(ui_temp) * 2"), "done");
        assert.equal(
          await page.getAttribute("#graph-section", "data-source"),
          "query_range",
        );
        const rows = await tableRows(page);
        assert.equal(rows.length, 1);
        assert.equal(rows[0][2], String((last(temp[0]) + last(temp[1])) * 2));
        const d = await page.getAttribute("#chart path.series", "d");
        assert.ok(d && (d.match(/L/g) ?? []).length > 100, "range chart path");
        const panel = await decodePanel(page);
        assert.equal(panel.path, "STREAMED_XOR_CHUNKS");
        assert.equal(panel.match, "true");
        await watch.settled();
        assert.equal(watch.reads.length, 1);
        assert.equal(Number(panel.chunkBytes), watch.reads[0].responseBytes);
        // The selector is read back by the 5 min lookback too.
        const q = watch.reads[0].request.queries[0];
        assert.equal(q.startTimestampMs, start - 300_000);
        const lookbackSamples = temp.reduce(
          (n, s) =>
            n + s.ts.filter((x) => x >= start - 300_000 && x <= end).length,
          0,
        );
        assert.equal(Number(panel.samples), lookbackSamples);
        await screenshot(page, "ui_expression_graph");
      },
    );

    await t.step("instant mode: the table of an instant query", async () => {
      await page.check("input[name=mode][value=instant]");
      assert.equal(await runExpr(page, 'ui_temp{room="b"} - 1'), "done");
      assert.equal(await page.isHidden("#graph-section"), true);
      const rows = await tableRows(page);
      assert.deepEqual(rows.map((r) => r.slice(0, 2)), [
        ['{room="b"}', String(last(temp[1]) - 1)],
      ]);
    });

    await t.step("a parse error shows the server's position", async () => {
      const expr = "sum(rate(ui_temp[5m]) by (room)";
      const api = await fetch(
        `${tm.base}/api/v1/query?query=${encodeURIComponent(expr)}`,
      ).then((r) => r.json());
      const [, line, col] = /(\d+):(\d+): parse error/.exec(api.error)!;
      assert.equal(await runExpr(page, expr), "error");
      const text = await page.textContent("#error .error-message");
      assert.equal(text, api.error);
      const ctx = await page.$eval("#error .error-context", (el) => ({
        line: (el as HTMLElement).dataset.line,
        column: (el as HTMLElement).dataset.column,
        text: el.textContent,
      }));
      assert.deepEqual([ctx.line, ctx.column], [line, col]);
      assert.equal(ctx.text, `${expr}\n${" ".repeat(Number(col) - 1)}^`);
      assert.equal(await page.getAttribute("#expr", "aria-invalid"), "true");
      const caret = await page.$eval(
        "#expr",
        (el) => (el as HTMLTextAreaElement).selectionStart,
      );
      assert.equal(caret, Number(col) - 1);
      await screenshot(page, "ui_parse_error");
    });

    await t.step("links encode the query and load from it", async () => {
      await page.check("input[name=mode][value=range]");
      assert.equal(await runExpr(page, 'ui_temp{room="a"}'), "done");
      const href = await page.getAttribute("#permalink", "href");
      const url = new URL(href!, tm.base);
      assert.equal(url.searchParams.get("q"), 'ui_temp{room="a"}');
      assert.equal(new Date(url.searchParams.get("end")!).getTime(), end);
      assert.equal(page.url(), url.href, "the address bar holds the link");
      const fresh = await browser.context.newPage();
      await fresh.goto(url.href);
      assert.equal(await waitForRun(fresh), "done");
      assert.equal(await fresh.inputValue("#expr"), 'ui_temp{room="a"}');
      const rows = await tableRows(fresh);
      assert.deepEqual(rows.map((r) => r[2]), [String(last(temp[0]))]);
      await fresh.close();
    });

    await t.step("history is kept in localStorage", async () => {
      const stored = await page.evaluate(() =>
        JSON.parse(localStorage.getItem("tidemark.history") ?? "[]")
      );
      assert.deepEqual(stored.slice(0, 3), [
        'ui_temp{room="a"}',
        "sum(rate(ui_temp[5m]) by (room)",
        'ui_temp{room="b"} - 1',
      ]);
      await page.selectOption("#history", "sum(ui_temp) * 2");
      assert.equal(await page.inputValue("#expr"), "sum(ui_temp) * 2");
    });

    await t.step(
      "the metrics explorer lists names with series counts",
      async () => {
        await page.waitForSelector("#explorer-list .metric");
        const items = await page.$$eval(
          "#explorer-list .metric",
          (bs) =>
            bs.map((b) => [
              b.querySelector(".metric-name")?.textContent,
              b.querySelector(".metric-count")?.textContent,
            ]),
        );
        assert.deepEqual(items, [["ui_temp", "2"], ["ui_other", "1"]]);
        await page.fill("#explorer-filter", "oth");
        assert.equal(await page.locator("#explorer-list .metric").count(), 1);
        await page.evaluate(() => delete document.body.dataset.state);
        await page.click("#explorer-list .metric");
        assert.equal(await waitForRun(page), "done");
        assert.equal(await page.inputValue("#expr"), "ui_other");
        // The Metrics API answers, with no typed metrics in this test.
        assert.equal(
          await page.textContent("#metric-definitions"),
          "No typed metrics yet.",
        );
      },
    );

    await t.step("readable on a phone", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      assert.equal(await runExpr(page, "ui_temp"), "done");
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - innerWidth
      );
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      const svgWidth = (await page.locator("#chart svg").boundingBox())!.width;
      assert.ok(svgWidth <= 390 && svgWidth > 250, `chart ${svgWidth}px wide`);
      await screenshot(page, "ui_phone");
    });

    assert.deepEqual(unexpected(browser.pageErrors), [], "errors in the page");
  } finally {
    await tm.close();
  }
});

Deno.test("query page: falls back to JSON when remote read answers 404", async () => {
  const tm = await startTestServer();
  try {
    const end = Math.floor(Date.now() / STEP) * STEP;
    const written = await writeSeries(
      tm,
      "default",
      [
        { __name__: "ui_fb", k: "v" },
      ],
      end,
      100,
      STEP,
      SEED + 1,
    );
    await using browser = await launchChromium();
    const { page } = browser;
    // Only here: a server without remote read (e.g. behind a proxy that
    // does not pass it on) answers 404.
    let refused = 0;
    await page.route("**/api/v1/read", (route) => {
      refused++;
      return route.fulfill({ status: 404, body: "404 page not found" });
    });
    await page.goto(
      `${tm.base}/?q=ui_fb&range=30m&end=${new Date(end).toISOString()}`,
    );
    assert.equal(await waitForRun(page), "done");
    assert.equal(refused, 1);
    const panel = await decodePanel(page);
    const samples = written[0].ts.filter((x) => x >= end - 1_800_000).length;
    assert.equal(Number(panel.samples), samples);
    assert.equal(panel.path, "json-fallback");
    assert.equal(panel.match, "n/a");
    assert.match(panel.text, /remote read not available \(HTTP 404\)/);
    const d = await page.getAttribute("#chart path.series", "d");
    assert.equal((d?.match(/[ML]/g) ?? []).length, samples);
    await screenshot(page, "ui_fallback");
    assert.deepEqual(unexpected(browser.pageErrors), []);
  } finally {
    await tm.close();
  }
});
