/**
 * The Metrics API chart: for a chosen definition, a select of the
 * aggregations its type allows, a range, an interval and an optional
 * group-by tag; draws `GET /api/v1/metrics/<name>/query` as a line chart
 * with a table of the values, and shows the API's message on a refusal.
 * The section's data-* attributes carry the window and state for tests.
 * @module
 */
import type { ApiClient } from "./api.ts";
import { renderChart } from "./chart.ts";
import { byId, h } from "./dom.ts";
import { formatBytes, formatTime, formatValue } from "./format.ts";
import {
  AGGREGATIONS,
  type Definition,
  type IntervalAnswer,
  MetricsApiError,
  queryInterval,
  toSeries,
} from "./metrics_api.ts";

/** The Metrics API panel: `show` opens a definition and draws it. */
export interface MetricsPanel {
  show(def: Definition): void;
}

/**
 * Wires the panel's markup (`#mapi-*` in index.html). `endOf` gives the
 * range's end (the page's End field), null for now.
 */
export function createMetricsPanel(
  api: ApiClient,
  endOf: () => number | null,
): MetricsPanel {
  const ui = {
    section: byId("mapi-section", HTMLElement),
    heading: byId("mapi-heading", HTMLElement),
    summary: byId("mapi-summary", HTMLElement),
    form: byId("mapi-form", HTMLFormElement),
    aggregation: byId("mapi-aggregation", HTMLSelectElement),
    range: byId("mapi-range", HTMLSelectElement),
    interval: byId("mapi-interval", HTMLInputElement),
    group: byId("mapi-group", HTMLSelectElement),
    status: byId("mapi-status", HTMLElement),
    error: byId("mapi-error", HTMLElement),
    chart: byId("mapi-chart", HTMLElement),
    table: byId("mapi-table", HTMLElement),
    values: byId("mapi-values", HTMLElement),
  };
  let current: Definition | null = null;
  let redraw: (() => void) | null = null;
  let drawId = 0;
  new ResizeObserver(() => redraw?.()).observe(ui.chart);

  const options = (select: HTMLSelectElement, list: [string, string][]) =>
    select.replaceChildren(
      ...list.map(([value, text]) => h("option", { value }, text)),
    );

  const draw = async () => {
    const def = current;
    if (!def) return;
    const id = ++drawId;
    const to = endOf() ?? Date.now();
    const from = to - Number(ui.range.value);
    const req = {
      name: def.name,
      aggregation: ui.aggregation.value,
      from,
      to,
      interval: ui.interval.value.trim(),
      groupBy: ui.group.value,
    };
    Object.assign(ui.section.dataset, {
      state: "running",
      from: String(from),
      to: String(to),
    });
    ui.status.textContent = "Querying the Metrics API…";
    try {
      const answer = await queryInterval(api, req);
      if (id !== drawId) return;
      ui.error.hidden = true;
      ui.values.hidden = false;
      ui.interval.removeAttribute("aria-invalid");
      redraw = renderAnswer(ui.chart, ui.table, def, req, answer);
      const points = answer.groups.reduce((n, g) => n + g.points.length, 0);
      ui.status.textContent =
        `${def.name} ${req.aggregation}: ${answer.groups.length} series, ${points} points, ${
          formatBytes(answer.bytes)
        } of JSON.`;
      ui.section.dataset.state = "done";
    } catch (e) {
      if (id !== drawId) return;
      const err = e instanceof MetricsApiError
        ? e
        : new MetricsApiError(0, "error", String((e as Error).message ?? e));
      ui.error.replaceChildren(
        h("p", { class: "error-message" }, err.message),
        h(
          "p",
          { class: "help error-code" },
          `${err.code}${err.status ? ` (HTTP ${err.status})` : ""}`,
        ),
      );
      ui.error.hidden = false;
      ui.values.hidden = true;
      if (err.code === "invalid_interval") {
        ui.interval.setAttribute("aria-invalid", "true");
      }
      ui.chart.replaceChildren();
      ui.table.replaceChildren();
      redraw = null;
      ui.status.textContent = "The Metrics API refused the query.";
      ui.section.dataset.state = "error";
    }
  };

  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void draw();
  });
  for (const el of [ui.aggregation, ui.range, ui.group]) {
    el.addEventListener("change", () => void draw());
  }

  return {
    show(def) {
      if (current?.name !== def.name || current.type !== def.type) {
        const aggs = AGGREGATIONS[def.type] ?? [];
        options(ui.aggregation, aggs.map((a) => [a, a]));
        options(ui.group, [
          ["", "(none)"],
          ...def.tags.map((t): [string, string] => [t, t]),
        ]);
      }
      current = def;
      ui.section.hidden = false;
      ui.section.dataset.metric = def.name;
      ui.heading.textContent = `Metrics API: ${def.name}`;
      ui.summary.textContent = `A ${def.type}${
        def.tags.length ? ` tagged ${def.tags.join(", ")}` : ""
      }, seen from ${formatTime(Date.parse(def.first_seen))} to ${
        formatTime(Date.parse(def.last_seen))
      }.`;
      ui.heading.focus();
      ui.section.scrollIntoView({ block: "nearest" });
      void draw();
    },
  };
}

/** Draws the chart and the values table; returns the chart's redraw. */
function renderAnswer(
  chartHost: HTMLElement,
  tableHost: HTMLElement,
  def: Definition,
  req: { aggregation: string; from: number; to: number; groupBy: string },
  answer: IntervalAnswer,
): () => void {
  const series = answer.groups.map((g) => ({
    name: answer.grouped
      ? `${req.groupBy}=${g.key === "" ? "(none)" : g.key}`
      : `${def.name} ${req.aggregation}`,
    ...toSeries(g.points),
  }));
  const ts = series[0]?.timestamps ?? new Float64Array();
  const interval = ts.length > 1 ? ts[1] - ts[0] : req.to - req.from;
  chartHost.dataset.interval = String(interval);
  const redraw = renderChart(chartHost, {
    series,
    start: Math.min(req.from, ts[0] ?? req.from),
    end: req.to,
    gapMs: interval * 1.5,
    title: `${def.name}, ${req.aggregation} per ${interval / 1000} s${
      answer.grouped ? ` by ${req.groupBy}` : ""
    }`,
  });
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, "Interval start"),
    ...series.map((s) => h("th", { scope: "col" }, s.name)),
  );
  const rows = [...ts].map((t, i) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, formatTime(t)),
      ...series.map((s) =>
        h(
          "td",
          { class: "num" },
          Number.isNaN(s.values[i]) ? "–" : formatValue(s.values[i]),
        )
      ),
    )
  );
  tableHost.replaceChildren(
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "result" },
        h("thead", {}, head),
        h("tbody", {}, ...rows),
      ),
    ),
  );
  return redraw;
}
