/**
 * The metrics explorer: every metric name of the tenant with its series
 * count (from /api/v1/status/tsdb, completed by /api/v1/label/__name__/values
 * for names outside the stats' top list). Choosing a name puts it in the
 * expression box. (The Metrics API's definitions are `definitions.ts`.)
 * @module
 */
import type { ApiClient } from "./api.ts";
import { h } from "./dom.ts";

/** One row of the explorer. */
export interface MetricRow {
  name: string;
  /** Head series count, or null when the stats did not include it. */
  series: number | null;
}

/** Most names the stats route is asked to count. */
const STATS_LIMIT = 10_000;

/** Loads metric names with series counts, most series first. */
export async function loadMetrics(api: ApiClient): Promise<MetricRow[]> {
  const [stats, names] = await Promise.all([
    api.prom<{ seriesCountByMetricName: { name: string; value: number }[] }>(
      "/api/v1/status/tsdb",
      { limit: String(STATS_LIMIT) },
      "GET",
    ),
    api.prom<string[]>("/api/v1/label/__name__/values", {}, "GET"),
  ]);
  const counts = new Map(
    stats.data.seriesCountByMetricName.map((x) => [x.name, x.value]),
  );
  const all = new Set([...names.data, ...counts.keys()]);
  return [...all]
    .map((name) => ({ name, series: counts.get(name) ?? null }))
    .sort((a, b) =>
      (b.series ?? -1) - (a.series ?? -1) || (a.name < b.name ? -1 : 1)
    );
}

/** Renders the explorer list; `choose` is called with a picked name. */
export function renderExplorer(
  host: HTMLElement,
  rows: MetricRow[],
  choose: (name: string) => void,
): void {
  if (rows.length === 0) {
    host.replaceChildren(h("p", { class: "empty" }, "No metrics yet."));
    return;
  }
  const items = rows.map((r) => {
    const button = h(
      "button",
      { type: "button", class: "metric", "data-metric": r.name },
      h("span", { class: "metric-name" }, r.name),
      h(
        "span",
        { class: "metric-count", "aria-label": "series" },
        r.series === null ? "–" : String(r.series),
      ),
    );
    button.addEventListener("click", () => choose(r.name));
    return h("li", {}, button);
  });
  host.replaceChildren(h("ul", { class: "metric-list" }, ...items));
}
