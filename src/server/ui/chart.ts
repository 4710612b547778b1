/**
 * The line chart: plain SVG drawn by the page (no chart library). One
 * path per series with gaps where data is missing, y and time axes, a
 * legend whose entries toggle series, and a crosshair with the values at
 * the nearest sample — by pointer or by keyboard (←/→ on the focused
 * chart, Home/End, Escape to leave).
 * @module
 */
import { axisTime, formatTime, formatValue } from "./format.ts";
import { h, s } from "./dom.ts";
import {
  extent,
  formatTick,
  nearestIndex,
  niceTicks,
  timeTicks,
} from "./scale.ts";

/** One line of the chart. */
export interface ChartSeries {
  name: string;
  timestamps: Float64Array;
  values: Float64Array;
}

/** What to draw. */
export interface ChartInput {
  series: ChartSeries[];
  start: number;
  end: number;
  /** Consecutive samples further apart than this are not joined. */
  gapMs: number;
  /** Accessible description of the chart. */
  title: string;
}

/** A distinguishable palette (Okabe–Ito plus a few). */
export const PALETTE = [
  "#0072b2",
  "#e69f00",
  "#009e73",
  "#cc79a7",
  "#d55e00",
  "#56b4e9",
  "#7a6c00",
  "#6a3d9a",
  "#b15928",
  "#1f78b4",
];

const HEIGHT = 320;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

/** Draws `input` into `host` (replacing its content); returns a re-render function. */
export function renderChart(host: HTMLElement, input: ChartInput): () => void {
  const hidden = new Set<number>();
  const figure = h("figure", { class: "chart" });
  const plot = h("div", { class: "chart-plot" });
  const tooltip = h("div", {
    class: "chart-tooltip",
    role: "status",
    "aria-live": "polite",
    hidden: true,
  });
  const legend = h("ul", { class: "legend", "aria-label": "Series" });
  figure.append(plot, tooltip, legend);
  host.replaceChildren(figure);

  let cursor = -1; // time of the crosshair, -1 for none
  const draw = () => {
    const width = Math.max(280, plot.clientWidth || 800);
    plot.replaceChildren(
      drawSvg(input, hidden, width, (t) => {
        cursor = t;
        showCursor(t);
      }),
    );
    if (cursor >= 0) showCursor(cursor);
  };

  const showCursor = (t: number) => {
    const svg = plot.querySelector("svg");
    const line = svg?.querySelector<SVGLineElement>(".crosshair");
    if (!svg || !line) return;
    if (t < 0) {
      line.setAttribute("visibility", "hidden");
      tooltip.hidden = true;
      return;
    }
    const x = xOf(t, input, Number(svg.dataset.width));
    line.setAttribute("x1", String(x));
    line.setAttribute("x2", String(x));
    line.setAttribute("visibility", "visible");
    const rows = input.series.flatMap((ser, i) => {
      if (hidden.has(i)) return [];
      const k = nearestIndex(ser.timestamps, t);
      if (k < 0 || Math.abs(ser.timestamps[k] - t) > input.gapMs) return [];
      return [h(
        "li",
        {},
        h("span", {
          class: "swatch",
          style: `background:${PALETTE[i % PALETTE.length]}`,
        }),
        `${ser.name}: `,
        h("strong", {}, formatValue(ser.values[k])),
      )];
    });
    tooltip.replaceChildren(
      h("div", { class: "tooltip-time" }, formatTime(t)),
      h("ul", {}, ...rows),
    );
    tooltip.hidden = false;
    tooltip.style.left = `${
      Math.min(x + 12, Math.max(0, plot.clientWidth - 260))
    }px`;
  };

  input.series.forEach((ser, i) => {
    const button = h(
      "button",
      { type: "button", "aria-pressed": "true", class: "legend-item" },
      h("span", {
        class: "swatch",
        style: `background:${PALETTE[i % PALETTE.length]}`,
        "aria-hidden": "true",
      }),
      ser.name,
    );
    button.addEventListener("click", () => {
      if (hidden.has(i)) hidden.delete(i);
      else hidden.add(i);
      button.setAttribute("aria-pressed", String(!hidden.has(i)));
      draw();
    });
    legend.append(h("li", {}, button));
  });

  draw();
  return draw;
}

function xOf(t: number, input: ChartInput, width: number): number {
  const span = Math.max(1, input.end - input.start);
  return PAD.left + (t - input.start) / span * (width - PAD.left - PAD.right);
}

/** The union of all sample times (for keyboard stepping), sorted. */
function allTimes(series: ChartSeries[]): Float64Array {
  const set = new Set<number>();
  for (const ser of series) for (const t of ser.timestamps) set.add(t);
  return Float64Array.from([...set].sort((a, b) => a - b));
}

function drawSvg(
  input: ChartInput,
  hidden: Set<number>,
  width: number,
  onCursor: (t: number) => void,
): SVGSVGElement {
  const visible = input.series.filter((_, i) => !hidden.has(i));
  const ext = extent(visible.map((v) => v.values)) ?? { min: 0, max: 1 };
  const yTicks = niceTicks(ext.min, ext.max);
  const lo = Math.min(ext.min, yTicks[0]);
  const hi = Math.max(ext.max, yTicks[yTicks.length - 1]);
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) =>
    PAD.top + (hi === lo ? innerH / 2 : (hi - v) / (hi - lo) * innerH);
  const x = (t: number) => xOf(t, input, width);

  const svg = s("svg", {
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: "img",
    tabindex: 0,
    "aria-label":
      `${input.title}. Use the left and right arrow keys to read values.`,
    "data-width": width,
  });
  const axes = s("g", { class: "axes" });
  for (const v of yTicks) {
    axes.append(
      s("line", {
        x1: PAD.left,
        x2: width - PAD.right,
        y1: y(v),
        y2: y(v),
        class: "grid",
      }),
      s(
        "text",
        { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" },
        formatTick(v),
      ),
    );
  }
  const span = input.end - input.start;
  for (
    const t of timeTicks(
      input.start,
      input.end,
      Math.max(2, Math.floor(width / 110)),
    )
  ) {
    axes.append(
      s("line", {
        x1: x(t),
        x2: x(t),
        y1: PAD.top,
        y2: HEIGHT - PAD.bottom,
        class: "grid",
      }),
      s(
        "text",
        { x: x(t), y: HEIGHT - 8, "text-anchor": "middle" },
        axisTime(t, span),
      ),
    );
  }
  svg.append(axes);

  input.series.forEach((ser, i) => {
    if (hidden.has(i)) return;
    const d = pathData(ser, input.gapMs, x, y);
    if (d === "") return;
    svg.append(s("path", {
      d,
      class: "series",
      "data-series": i,
      stroke: PALETTE[i % PALETTE.length],
      fill: "none",
      "stroke-width": 1.5,
      "vector-effect": "non-scaling-stroke",
    }));
  });
  svg.append(s("line", {
    class: "crosshair",
    y1: PAD.top,
    y2: HEIGHT - PAD.bottom,
    visibility: "hidden",
  }));

  const toTime = (clientX: number) => {
    const r = svg.getBoundingClientRect();
    const px = (clientX - r.left) * (width / Math.max(1, r.width));
    const frac = (px - PAD.left) / (width - PAD.left - PAD.right);
    return input.start + Math.min(1, Math.max(0, frac)) * span;
  };
  const times = allTimes(visible);
  const snap = (t: number) => {
    const k = nearestIndex(times, t);
    return k < 0 ? t : times[k];
  };
  svg.addEventListener("pointermove", (e) => onCursor(snap(toTime(e.clientX))));
  svg.addEventListener("pointerleave", () => onCursor(-1));
  let kb = -1;
  svg.addEventListener("keydown", (e) => {
    if (times.length === 0) return;
    if (e.key === "ArrowRight") kb = Math.min(times.length - 1, kb + 1);
    else if (e.key === "ArrowLeft") {
      kb = kb < 0 ? times.length - 1 : Math.max(0, kb - 1);
    } else if (e.key === "Home") kb = 0;
    else if (e.key === "End") kb = times.length - 1;
    else if (e.key === "Escape") kb = -1;
    else return;
    e.preventDefault();
    onCursor(kb < 0 ? -1 : times[kb]);
  });
  return svg;
}

/** SVG path data of one series; gaps on missing data and non-finite values. */
export function pathData(
  ser: ChartSeries,
  gapMs: number,
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  const parts: string[] = [];
  let prevT = -Infinity;
  let pen = false;
  for (let i = 0; i < ser.timestamps.length; i++) {
    const t = ser.timestamps[i];
    const v = ser.values[i];
    if (!Number.isFinite(v)) {
      pen = false;
      continue;
    }
    const cmd = pen && t - prevT <= gapMs ? "L" : "M";
    parts.push(`${cmd}${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    // A lone point still shows: a zero-length segment with round caps.
    if (cmd === "M") parts.push(`h0.01`);
    pen = true;
    prevT = t;
  }
  return parts.join("");
}
