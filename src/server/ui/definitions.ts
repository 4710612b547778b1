/**
 * The Metrics API definitions in the explorer: one button per metric with
 * its name, type, tag keys and first/last seen times; choosing one opens
 * its chart.
 * @module
 */
import { h } from "./dom.ts";
import { formatTime } from "./format.ts";
import type { Definition } from "./metrics_api.ts";

/** Renders `defs` (null: the server has no Metrics API) into `host`. */
export function renderDefinitions(
  host: HTMLElement,
  defs: Definition[] | null,
  choose: (def: Definition) => void,
): void {
  if (defs === null) {
    host.replaceChildren(
      h("p", { class: "empty" }, "The Metrics API is not available here."),
    );
    return;
  }
  if (defs.length === 0) {
    host.replaceChildren(
      h("p", { class: "empty" }, "No typed metrics yet."),
    );
    return;
  }
  const items = defs.map((d) => {
    const button = h(
      "button",
      {
        type: "button",
        class: "definition",
        "data-metric": d.name,
        "data-type": d.type,
      },
      h(
        "span",
        { class: "definition-head" },
        h("span", { class: "metric-name" }, d.name),
        h("span", { class: `badge type-${d.type}` }, d.type),
      ),
      h(
        "span",
        { class: "definition-tags" },
        d.tags.length ? `tags: ${d.tags.join(", ")}` : "no tags",
      ),
      h(
        "span",
        { class: "definition-seen" },
        "seen ",
        timeEl(d.first_seen, "first-seen"),
        " – ",
        timeEl(d.last_seen, "last-seen"),
      ),
    );
    button.addEventListener("click", () => choose(d));
    return h("li", {}, button);
  });
  host.replaceChildren(h("ul", { class: "metric-list" }, ...items));
}

function timeEl(iso: string, cls: string): HTMLTimeElement {
  const ms = Date.parse(iso);
  return h(
    "time",
    { datetime: iso, class: cls },
    Number.isFinite(ms) ? formatTime(ms) : iso,
  );
}
