/**
 * The table view: an instant query's result (vector, scalar, string or
 * matrix) or a range query's series with their last values.
 * @module
 */
import { h } from "./dom.ts";
import { formatTime, formatValue, seriesName } from "./format.ts";
import { type MatrixSeries, parseSampleValue } from "./raw_json.ts";

/** A Prometheus query result as JSON. */
export type QueryData =
  | {
    resultType: "vector";
    result: { metric: Record<string, string>; value: [number, string] }[];
  }
  | { resultType: "matrix"; result: MatrixSeries[] }
  | { resultType: "scalar" | "string"; result: [number, string] };

/** Renders an instant query's result into `host`. */
export function renderInstantTable(host: HTMLElement, data: QueryData): void {
  const rows: HTMLTableRowElement[] = [];
  if (data.resultType === "vector") {
    for (const s of data.result) {
      rows.push(row(seriesName(s.metric), s.value[1], s.value[0]));
    }
  } else if (data.resultType === "matrix") {
    for (const s of data.result) {
      const text = (s.values ?? [])
        .map(([t, v]) => `${v} @${t}`)
        .join("\n");
      rows.push(row(seriesName(s.metric), text, null));
    }
  } else {
    rows.push(row(data.resultType, data.result[1], data.result[0]));
  }
  host.replaceChildren(
    table(["Series", "Value", "Time"], rows, data.resultType),
  );
}

/** Renders a range query's series: sample count and last value each. */
export function renderRangeTable(
  host: HTMLElement,
  matrix: MatrixSeries[],
): void {
  const rows = matrix.map((s) => {
    const vals = s.values ?? [];
    const last = vals[vals.length - 1];
    return h(
      "tr",
      {},
      h("th", { scope: "row", class: "labels" }, seriesName(s.metric)),
      h("td", { class: "num" }, String(vals.length)),
      h(
        "td",
        { class: "num" },
        last ? formatValue(parseSampleValue(last[1])) : "",
      ),
      h("td", {}, last ? formatTime(last[0] * 1000) : ""),
    );
  });
  host.replaceChildren(
    table(["Series", "Points", "Last value", "Last time"], rows, "matrix"),
  );
}

function row(
  name: string,
  value: string,
  t: number | null,
): HTMLTableRowElement {
  return h(
    "tr",
    {},
    h("th", { scope: "row", class: "labels" }, name),
    h("td", { class: "num value" }, value),
    h("td", {}, t === null ? "" : formatTime(t * 1000)),
  );
}

function table(
  heads: string[],
  rows: HTMLTableRowElement[],
  kind: string,
): HTMLElement {
  if (rows.length === 0) {
    return h(
      "p",
      { class: "empty" },
      "No data: the query returned an empty result.",
    );
  }
  return h(
    "div",
    {
      class: "table-scroll",
      tabindex: 0,
      role: "region",
      "aria-label": "Result table",
    },
    h(
      "table",
      { class: "result", "data-result-type": kind },
      h("caption", { class: "visually-hidden" }, `${rows.length} result rows`),
      h(
        "thead",
        {},
        h("tr", {}, ...heads.map((x) => h("th", { scope: "col" }, x))),
      ),
      h("tbody", {}, ...rows),
    ),
  );
}
