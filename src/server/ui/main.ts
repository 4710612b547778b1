/**
 * The query page's entry (bundled to build/ui/app.js): reads the state
 * from the URL, runs queries through the API client, draws the table,
 * the chart and the raw-data report, and keeps history and links.
 * @module
 */
import { ApiClient } from "./api.ts";
import { promptForToken } from "./auth_prompt.ts";
import { type Engine, loadEngine } from "../../bindings/engine.ts";
import { renderRawReport, runRawPath } from "./decode_panel.ts";
import { byId, h } from "./dom.ts";
import { clearError, showError } from "./error_view.ts";
import { renderDefinitions } from "./definitions.ts";
import { loadMetrics, renderExplorer } from "./explorer.ts";
import { createMetricsPanel } from "./mapi_panel.ts";
import { listDefinitions } from "./metrics_api.ts";
import { seriesName } from "./format.ts";
import { loadHistory, remember } from "./history.ts";
import { renderChart } from "./chart.ts";
import { type MatrixSeries, matrixToRaw } from "./raw_json.ts";
import { analyse, LOOKBACK_MS } from "./selectors.ts";
import {
  apiTime,
  effectiveStep,
  formatDuration,
  fromSearch,
  parseDuration,
  type QueryState,
  toSearch,
  windowOf,
} from "./state.ts";
import {
  type QueryData,
  renderInstantTable,
  renderRangeTable,
} from "./table.ts";

const ui = {
  form: byId("query-form", HTMLFormElement),
  expr: byId("expr", HTMLTextAreaElement),
  history: byId("history", HTMLSelectElement),
  range: byId("range", HTMLInputElement),
  end: byId("end", HTMLInputElement),
  step: byId("step", HTMLInputElement),
  permalink: byId("permalink", HTMLAnchorElement),
  error: byId("error", HTMLElement),
  status: byId("status", HTMLElement),
  graph: byId("graph-section", HTMLElement),
  chart: byId("chart", HTMLElement),
  decode: byId("decode-panel", HTMLElement),
  table: byId("table", HTMLElement),
  explorer: byId("explorer-list", HTMLElement),
  explorerFilter: byId("explorer-filter", HTMLInputElement),
  definitions: byId("metric-definitions", HTMLElement),
  signOut: byId("sign-out", HTMLButtonElement),
};

const api = new ApiClient(sessionStorage, async (reason) => {
  const token = await promptForToken(reason);
  ui.signOut.hidden = token === null && api.token === null;
  return token;
});

const metricsPanel = createMetricsPanel(api, () => readForm().endMs);

let enginePromise: Promise<Engine> | null = null;
/** engine.wasm, loaded once on first use (streaming compile). */
const engine = () =>
  enginePromise ??= loadEngine(new URL("/engine.wasm", location.href));

let redraw: (() => void) | null = null;
new ResizeObserver(() => redraw?.()).observe(ui.chart);

function readForm(): QueryState {
  const mode = (ui.form.elements.namedItem("mode") as RadioNodeList).value;
  const endText = ui.end.value;
  return {
    expr: ui.expr.value.trim(),
    mode: mode === "instant" ? "instant" : "range",
    rangeMs: parseDuration(ui.range.value) ?? 3_600_000,
    endMs: endText === "" ? null : new Date(endText).getTime(),
    stepMs: parseDuration(ui.step.value),
  };
}

function writeForm(state: QueryState): void {
  ui.expr.value = state.expr;
  for (const r of ui.form.querySelectorAll<HTMLInputElement>("[name=mode]")) {
    r.checked = r.value === state.mode;
  }
  ui.range.value = formatDuration(state.rangeMs);
  ui.step.value = state.stepMs === null ? "" : formatDuration(state.stepMs);
  ui.end.value = state.endMs === null ? "" : toLocalInput(state.endMs);
}

/** A datetime-local value (local time, seconds) for ms since the epoch. */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

function showHistory(list: string[]): void {
  ui.history.replaceChildren(
    h(
      "option",
      { value: "" },
      list.length ? "Recent expressions…" : "No history yet",
    ),
    ...list.map((e) => h("option", { value: e }, e)),
  );
}

function setStatus(text: string): void {
  ui.status.textContent = text;
}

let runId = 0;

/** Runs the state's query and renders everything. */
async function run(state: QueryState, push: boolean): Promise<void> {
  const id = ++runId;
  const search = toSearch(state);
  ui.permalink.href = `${location.pathname}${search}`;
  if (push && search !== location.search) {
    history.pushState(null, "", search || location.pathname);
  }
  clearError(ui.error, ui.expr);
  if (state.expr === "") return;
  showHistory(remember(localStorage, state.expr));
  document.body.dataset.state = "running";
  setStatus("Running query…");
  try {
    if (state.mode === "instant") await runInstant(state, id);
    else await runRange(state, id);
    if (id === runId) document.body.dataset.state = "done";
  } catch (e) {
    if (id !== runId) return;
    showError(ui.error, ui.expr, state.expr, e);
    setStatus("Query failed.");
    document.body.dataset.state = "error";
  }
}

async function runInstant(state: QueryState, id: number): Promise<void> {
  const { end } = windowOf(state, Date.now());
  const res = await api.prom<QueryData>("/api/v1/query", {
    query: state.expr,
    time: apiTime(end),
  });
  if (id !== runId) return;
  ui.graph.hidden = true;
  ui.decode.hidden = true;
  renderInstantTable(ui.table, res.data);
  setStatus(
    `Instant query: ${res.data.resultType}, ${res.bytes} bytes of JSON.`,
  );
}

async function runRange(state: QueryState, id: number): Promise<void> {
  const { start, end } = windowOf(state, Date.now());
  const step = effectiveStep(state);
  const res = await api.prom<{ result: MatrixSeries[] }>(
    "/api/v1/query_range",
    {
      query: state.expr,
      start: apiTime(start),
      end: apiTime(end),
      step: String(step / 1000),
    },
  );
  if (id !== runId) return;
  renderRangeTable(ui.table, res.data.result);
  const analysis = analyse(state.expr, start, end);
  const raw = analysis.reads.length > 0
    ? await runRawPath(api, engine, analysis.reads)
    : null;
  if (id !== runId) return;
  if (raw) renderRawReport(ui.decode, raw, analysis.reads);
  else ui.decode.hidden = true;
  // A plain selector is drawn from its raw samples; anything else from
  // the evaluated range query.
  const fromRaw = analysis.plainSelector && raw !== null;
  const series = fromRaw
    ? raw.series[0].map((s) => ({ name: seriesName(s.labels), ...s }))
    : matrixToRaw(res.data.result).map((s) => ({
      name: seriesName(s.labels),
      ...s,
    }));
  ui.graph.hidden = false;
  ui.graph.dataset.source = fromRaw ? "raw" : "query_range";
  redraw = renderChart(ui.chart, {
    series,
    start,
    end,
    gapMs: fromRaw ? LOOKBACK_MS : step * 1.5,
    title: `${state.expr}: ${series.length} series, ${
      fromRaw ? "raw samples" : `evaluated every ${formatDuration(step)}`
    }`,
  });
  const notes = analysis.notes.length
    ? ` Note: ${analysis.notes.join("; ")}.`
    : "";
  setStatus(
    `Range query: ${res.data.result.length} series, ${res.bytes} bytes of JSON; chart from ${
      fromRaw ? "raw samples" : "query_range"
    }.${notes}`,
  );
}

async function loadExplorer(): Promise<void> {
  try {
    const rows = await loadMetrics(api);
    const show = () => {
      const f = ui.explorerFilter.value.trim().toLowerCase();
      renderExplorer(
        ui.explorer,
        rows.filter((r) => r.name.toLowerCase().includes(f)),
        (name) => {
          ui.expr.value = name;
          void run(readForm(), true);
          ui.expr.focus();
        },
      );
    };
    ui.explorerFilter.oninput = show;
    show();
  } catch (e) {
    ui.explorer.replaceChildren(
      h("p", { class: "error-message" }, String((e as Error).message)),
    );
  }
  try {
    const defs = await listDefinitions(api);
    renderDefinitions(ui.definitions, defs, (d) => metricsPanel.show(d));
  } catch (e) {
    ui.definitions.replaceChildren(
      h("p", { class: "error-message" }, String((e as Error).message)),
    );
  }
}

ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  void run(readForm(), true);
});
ui.expr.addEventListener("keydown", (e) => {
  // Enter runs; Shift+Enter adds a line.
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    ui.form.requestSubmit();
  }
});
ui.history.addEventListener("change", () => {
  if (ui.history.value === "") return;
  ui.expr.value = ui.history.value;
  ui.history.value = "";
  ui.expr.focus();
});
ui.signOut.addEventListener("click", () => {
  api.signOut();
  ui.signOut.hidden = true;
  setStatus("Signed out: the token was removed from this session.");
});
addEventListener("popstate", () => {
  const state = fromSearch(location.search);
  writeForm(state);
  void run(state, false);
});

const initial = fromSearch(location.search);
writeForm(initial);
showHistory(loadHistory(localStorage));
ui.signOut.hidden = api.token === null;
ui.permalink.href = `${location.pathname}${toSearch(initial)}`;
document.body.dataset.ready = "true";
void (async () => {
  await run(initial, false);
  await loadExplorer();
  ui.signOut.hidden = api.token === null;
})();
