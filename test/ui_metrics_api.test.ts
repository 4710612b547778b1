// The query page's Metrics API part in headless Chromium against a live
// test server: typed metrics written through the API by the test, the
// definitions list, the aggregations offered per type, and charts of
// gauge max / grouped avg, counter rate, distribution count and p90 and
// set count whose drawn points and values are checked against values the
// test computes from what it wrote; a 400 shows the API's message.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ALLOWED } from "../src/metricsapi/aggregation.ts";
import { Prng } from "../src/util/prng.ts";
import { launchChromium } from "./_browser.ts";
import { startTestServer } from "./_server.ts";
import { postTyped, screenshot, type TypedItem } from "./_ui.ts";

const SEED = 0x3a91;
const MIN = 60_000;
const HOUR = 3_600_000;

/** Runs `action` and waits for the Metrics API panel to finish drawing. */
async function act(page: Page, action: () => Promise<unknown>) {
  await page.evaluate(() =>
    delete document.getElementById("mapi-section")!.dataset.state
  );
  await action();
  await page.waitForFunction(() => {
    const s = document.getElementById("mapi-section")!.dataset.state;
    return s === "done" || s === "error";
  });
  return await page.$eval(
    "#mapi-section",
    (el) => (el as HTMLElement).dataset.state,
  );
}

/** The values table: header names and rows of cell texts. */
function valuesTable(page: Page) {
  return page.$eval("#mapi-table table", (t) => ({
    head: [...t.querySelectorAll("thead th")].map((c) => c.textContent),
    rows: [...t.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.children].map((c) => c.textContent ?? "")
    ),
  }));
}

/** Every drawn path's vertices as [x, y]. */
async function drawnPoints(page: Page): Promise<[number, number][][]> {
  const ds = await page.$$eval(
    "#mapi-chart path.series",
    (ps) => ps.map((p) => p.getAttribute("d") ?? ""),
  );
  return ds.map((d) =>
    [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((
      m,
    ) => [Number(m[1]), Number(m[2])])
  );
}

/** Expected points: per interval of the window, `agg` of its observations. */
function expectPoints(
  obs: { t: number; v: number }[],
  from: number,
  to: number,
  interval: number,
  agg: (vs: number[]) => number | null,
): { t: number; v: number | null }[] {
  const first = Math.floor(from / interval) * interval;
  const n = Math.ceil((to - first) / interval);
  const out = [];
  for (let k = 0; k < n; k++) {
    const start = first + k * interval;
    const vs = obs
      .filter((o) => Math.floor(o.t / interval) * interval === start)
      .map((o) => o.v);
    out.push({ t: start, v: agg(vs) });
  }
  return out;
}

/**
 * Checks that the drawn vertices are the expected non-null points under
 * one affine time and value scale (±0.15 px: coordinates have one decimal).
 */
function assertDrawn(
  drawn: [number, number][][],
  expected: { t: number; v: number | null }[][],
  msg: string,
): void {
  assert.equal(drawn.length, expected.length, `${msg}: series drawn`);
  const pairs = expected.flatMap((pts, i) => {
    const kept = pts.filter((p) => p.v !== null);
    assert.equal(drawn[i].length, kept.length, `${msg}: vertices of ${i}`);
    return kept.map((p, k) => ({ t: p.t, v: p.v!, xy: drawn[i][k] }));
  });
  const byT = [...pairs].sort((a, b) => a.t - b.t);
  const byV = [...pairs].sort((a, b) => a.v - b.v);
  const fit = (
    a: { x: number; px: number },
    b: { x: number; px: number },
  ) =>
  (x: number) =>
    a.x === b.x ? a.px : a.px + (x - a.x) * (b.px - a.px) / (b.x - a.x);
  const lo = byT[0], hi = byT[byT.length - 1];
  const xOf = fit({ x: lo.t, px: lo.xy[0] }, { x: hi.t, px: hi.xy[0] });
  const vlo = byV[0], vhi = byV[byV.length - 1];
  const yOf = fit({ x: vlo.v, px: vlo.xy[1] }, { x: vhi.v, px: vhi.xy[1] });
  for (const p of pairs) {
    assert.ok(
      Math.abs(xOf(p.t) - p.xy[0]) <= 0.15 &&
        Math.abs(yOf(p.v) - p.xy[1]) <= 0.15,
      `${msg}: point t=${p.t} v=${p.v} drawn at ${p.xy}, seed ${SEED}`,
    );
  }
}

const text = (v: number | null) => (v === null ? "–" : String(v));
const maxOf = (vs: number[]) => (vs.length ? Math.max(...vs) : null);
const sumOf = (vs: number[]) => vs.reduce((a, b) => a + b, 0);
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("query page: Metrics API definitions and aggregation charts", async (t) => {
  const tm = await startTestServer();
  try {
    const end = Math.floor(Date.now() / MIN) * MIN;
    const rng = new Prng(SEED);
    const items: TypedItem[] = [];
    const t0 = end - 55 * MIN;
    for (let t = t0; t < end; t += 20_000) {
      for (const host of ["a", "b"]) {
        const v = rng.int(-400, 400) / 4;
        items.push({
          name: "ui.temp",
          type: "gauge",
          value: v,
          timestamp: t,
          tags: { host },
        });
      }
      items.push({
        name: "ui.latency",
        type: "distribution",
        value: rng.int(1, 5000),
        timestamp: t + 5_000,
      });
      items.push({
        name: "ui.users",
        type: "set",
        value: `u${rng.int(0, 30)}`,
        timestamp: t + 7_000,
        tags: { plan: rng.pick(["free", "pro"]) },
      });
    }
    for (let t = t0; t < end; t += 30_000) {
      for (const endpoint of ["/a", "/b"]) {
        items.push({
          name: "ui.requests",
          type: "counter",
          value: rng.int(0, 50),
          timestamp: t + 1_000,
          tags: { endpoint, region: "eu" },
        });
      }
    }
    await postTyped(tm.base, items);
    const of = (name: string, where: (i: TypedItem) => boolean = () => true) =>
      items.filter((i) => i.name === name && where(i)).map((i) => ({
        t: i.timestamp,
        v: i.value as number,
      }));

    await using browser = await launchChromium();
    const { page } = browser;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${tm.base}/?end=${iso(end)}`);
    await page.waitForSelector("#metric-definitions .definition");
    const from = end - HOUR; // the 1 hour range, ending at the page's End

    await t.step("the definitions list: name, type, tags, seen", async () => {
      const shown = await page.$$eval(
        "#metric-definitions .definition",
        (bs) =>
          bs.map((b) => ({
            name: b.querySelector(".metric-name")?.textContent,
            type: b.querySelector(".badge")?.textContent,
            tags: b.querySelector(".definition-tags")?.textContent,
            first: b.querySelector(".first-seen")?.getAttribute("datetime"),
            last: b.querySelector(".last-seen")?.getAttribute("datetime"),
          })),
      );
      const expected = [
        ...new Set(items.map((i) => i.name)),
      ].sort().map((name) => {
        const mine = items.filter((i) => i.name === name);
        const ts = mine.map((i) => i.timestamp);
        const keys = [
          ...new Set(mine.flatMap((i) => Object.keys(i.tags ?? {}))),
        ].sort();
        return {
          name,
          type: mine[0].type,
          tags: keys.length ? `tags: ${keys.join(", ")}` : "no tags",
          first: iso(Math.min(...ts)),
          last: iso(Math.max(...ts)),
        };
      });
      assert.deepEqual(shown, expected);
    });

    await t.step("each type offers its aggregations", async () => {
      for (
        const [name, type] of [
          ["ui.latency", "distribution"],
          ["ui.requests", "counter"],
          ["ui.users", "set"],
          ["ui.temp", "gauge"],
        ] as const
      ) {
        assert.equal(
          await act(
            page,
            () => page.click(`.definition[data-metric="${name}"]`),
          ),
          "done",
        );
        const offered = await page.$$eval(
          "#mapi-aggregation option",
          (os) => os.map((o) => (o as HTMLOptionElement).value),
        );
        assert.deepEqual(offered, [...ALLOWED[type]], type);
        const groups = await page.$$eval(
          "#mapi-group option",
          (os) => os.map((o) => (o as HTMLOptionElement).value),
        );
        const keys = [
          ...new Set(
            items.filter((i) => i.name === name).flatMap((i) =>
              Object.keys(i.tags ?? {})
            ),
          ),
        ].sort();
        assert.deepEqual(groups, ["", ...keys], `${name} group-by keys`);
      }
      assert.deepEqual(ALLOWED.gauge, ["last", "avg", "min", "max"]);
      assert.deepEqual(ALLOWED.counter, ["sum", "rate"]);
      assert.deepEqual(ALLOWED.set, ["count"]);
    });

    await t.step(
      "a gauge's max per 5 minutes, chosen by keyboard",
      async () => {
        // ui.temp is open (last clicked); choose it again by keyboard.
        await page.focus('.definition[data-metric="ui.temp"]');
        assert.equal(
          await act(page, () => page.keyboard.press("Enter")),
          "done",
        );
        assert.equal(
          await page.evaluate(() => document.activeElement?.id),
          "mapi-heading",
          "focus moves to the chart's heading",
        );
        await act(page, () => page.selectOption("#mapi-range", String(HOUR)));
        await page.fill("#mapi-interval", "5m");
        await act(page, () => page.press("#mapi-interval", "Enter"));
        assert.equal(
          await act(page, () => page.selectOption("#mapi-aggregation", "max")),
          "done",
        );
        const section = await page.$eval(
          "#mapi-section",
          (el) => ({ ...(el as HTMLElement).dataset }),
        );
        assert.deepEqual([section.from, section.to], [
          String(from),
          String(end),
        ]);
        const expected = expectPoints(of("ui.temp"), from, end, 5 * MIN, maxOf);
        const table = await valuesTable(page);
        assert.deepEqual(table.head, ["Interval start", "ui.temp max"]);
        assert.deepEqual(
          table.rows.map((r) => [r[0], r[1]]),
          expected.map((p) => [iso(p.t).replace(".000Z", "Z"), text(p.v)]),
          `seed ${SEED}`,
        );
        assert.ok(expected.some((p) => p.v === null), "an empty interval");
        assertDrawn(await drawnPoints(page), [expected], "gauge max");
        await screenshot(page, "ui_mapi_gauge_max");
      },
    );

    await t.step("grouped by a tag: one line per host", async () => {
      await act(page, () => page.selectOption("#mapi-aggregation", "avg"));
      assert.equal(
        await act(page, () => page.selectOption("#mapi-group", "host")),
        "done",
      );
      const avg = (vs: number[]) => (vs.length ? sumOf(vs) / vs.length : null);
      const expected = ["a", "b"].map((host) =>
        expectPoints(
          of("ui.temp", (i) => i.tags?.host === host),
          from,
          end,
          5 * MIN,
          avg,
        )
      );
      const table = await valuesTable(page);
      assert.deepEqual(table.head, ["Interval start", "host=a", "host=b"]);
      assert.deepEqual(
        table.rows.map((r) => r.slice(1)),
        expected[0].map((p, k) => [text(p.v), text(expected[1][k].v)]),
        `seed ${SEED}`,
      );
      assertDrawn(await drawnPoints(page), expected, "gauge avg by host");
      const legend = await page.$$eval(
        "#mapi-chart .legend-item",
        (bs) => bs.map((b) => b.textContent),
      );
      assert.deepEqual(legend, ["host=a", "host=b"]);
      // The chart reads out by keyboard: End shows the last interval.
      await page.focus("#mapi-chart svg");
      await page.keyboard.press("End");
      const tip = (await page.textContent("#mapi-chart .chart-tooltip")) ?? "";
      const lastA = expected[0].findLast((p) => p.v !== null)!;
      assert.ok(tip.includes(`host=a: ${lastA.v}`), `tooltip: ${tip}`);
      await screenshot(page, "ui_mapi_gauge_by_host");
    });

    await t.step("a counter's rate per second of 10 minutes", async () => {
      await act(
        page,
        () => page.click('.definition[data-metric="ui.requests"]'),
      );
      await page.fill("#mapi-interval", "10m");
      await act(page, () => page.press("#mapi-interval", "Enter"));
      assert.equal(
        await act(page, () => page.selectOption("#mapi-aggregation", "rate")),
        "done",
      );
      const expected = expectPoints(
        of("ui.requests"),
        from,
        end,
        10 * MIN,
        (vs) => sumOf(vs) / 600,
      );
      const table = await valuesTable(page);
      assert.deepEqual(
        table.rows.map((r) => r[1]),
        expected.map((p) => text(p.v)),
        `seed ${SEED}`,
      );
      assertDrawn(await drawnPoints(page), [expected], "counter rate");
    });

    await t.step("a distribution's count and p90", async () => {
      await act(
        page,
        () => page.click('.definition[data-metric="ui.latency"]'),
      );
      await page.fill("#mapi-interval", "15m");
      await act(page, () => page.press("#mapi-interval", "Enter"));
      await act(page, () => page.selectOption("#mapi-aggregation", "count"));
      const obs = of("ui.latency");
      const counts = expectPoints(obs, from, end, 15 * MIN, (vs) => vs.length);
      assert.deepEqual(
        (await valuesTable(page)).rows.map((r) => r[1]),
        counts.map((p) => text(p.v)),
      );
      assertDrawn(await drawnPoints(page), [counts], "distribution count");
      await act(page, () => page.selectOption("#mapi-aggregation", "p90"));
      // The lower quantile (rank ⌊0.9(n−1)⌋) within DDSketch's 1%.
      const p90 = expectPoints(obs, from, end, 15 * MIN, (vs) => {
        if (!vs.length) return null;
        const sorted = [...vs].sort((a, b) => a - b);
        return sorted[Math.floor(0.9 * (sorted.length - 1))];
      });
      const shown = (await valuesTable(page)).rows.map((r) => r[1]);
      assert.equal(shown.length, p90.length);
      p90.forEach((p, k) => {
        if (p.v === null) return assert.equal(shown[k], "–");
        const got = Number(shown[k]);
        assert.ok(
          Math.abs(got - p.v) <= 0.01 * p.v,
          `p90 of interval ${k}: ${got} vs ${p.v}, seed ${SEED}`,
        );
      });
    });

    await t.step("a set's distinct count", async () => {
      await act(page, () => page.click('.definition[data-metric="ui.users"]'));
      await page.fill("#mapi-interval", "5m");
      assert.equal(
        await act(page, () => page.press("#mapi-interval", "Enter")),
        "done",
      );
      const members = items.filter((i) => i.name === "ui.users");
      const first = Math.floor(from / (5 * MIN)) * 5 * MIN;
      const n = Math.ceil((end - first) / (5 * MIN));
      const expected = Array.from({ length: n }, (_, k) => {
        const start = first + k * 5 * MIN;
        const inIt = members.filter((m) =>
          Math.floor(m.timestamp / (5 * MIN)) * 5 * MIN === start
        );
        return { t: start, v: new Set(inIt.map((m) => m.value)).size };
      });
      assert.deepEqual(
        (await valuesTable(page)).rows.map((r) => r[1]),
        expected.map((p) => String(p.v)),
        `seed ${SEED}`,
      );
      assertDrawn(await drawnPoints(page), [expected], "set count");
    });

    await t.step("a 400 shows the API's message", async () => {
      await page.fill("#mapi-interval", "30s");
      assert.equal(
        await act(page, () => page.press("#mapi-interval", "Enter")),
        "error",
      );
      const url =
        `${tm.base}/api/v1/metrics/ui.users/query?from=${from}&to=${end}` +
        `&aggregation=count&interval=30s`;
      const res = await fetch(url);
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(
        await page.textContent("#mapi-error .error-message"),
        body.error.message,
      );
      assert.equal(
        await page.textContent("#mapi-error .error-code"),
        `${body.error.code} (HTTP 400)`,
      );
      assert.equal(await page.isVisible("#mapi-error"), true);
      assert.equal(await page.locator("#mapi-chart svg").count(), 0);
      assert.equal(
        await page.getAttribute("#mapi-interval", "aria-invalid"),
        "true",
      );
      await screenshot(page, "ui_mapi_error");
      await page.fill("#mapi-interval", "");
      assert.equal(
        await act(page, () => page.press("#mapi-interval", "Enter")),
        "done",
      );
      assert.equal(await page.isHidden("#mapi-error"), true);
      assert.equal(
        await page.getAttribute("#mapi-interval", "aria-invalid"),
        null,
      );
    });

    await t.step("readable on a phone", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await act(page, () => page.click('.definition[data-metric="ui.temp"]'));
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - innerWidth
      );
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      const w = (await page.locator("#mapi-chart svg").boundingBox())!.width;
      assert.ok(w <= 390 && w > 250, `chart ${w}px wide`);
      await screenshot(page, "ui_mapi_phone");
    });

    assert.deepEqual(
      browser.pageErrors.filter((e) =>
        !/Failed to load resource: .* status of 400/.test(e)
      ),
      [],
      "errors in the page",
    );
  } finally {
    await tm.close();
  }
});
