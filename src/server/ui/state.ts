/**
 * The page's query state and its URL form: everything a link needs to
 * reproduce a view (`?q=…&mode=range&range=1h&end=…&step=…&tab=graph`).
 * Pure functions, so Deno tests them without a browser.
 * @module
 */

/** Instant (table) or range (graph) evaluation. */
export type QueryMode = "instant" | "range";

/** What the page shows and how it was asked for. */
export interface QueryState {
  expr: string;
  mode: QueryMode;
  /** Length of the graph window in ms. */
  rangeMs: number;
  /** End of the window (ms since the epoch), or null for "now". */
  endMs: number | null;
  /** Resolution in ms, or null to derive it from the range. */
  stepMs: number | null;
}

/** The state of a fresh page. */
export const DEFAULT_STATE: QueryState = {
  expr: "",
  mode: "range",
  rangeMs: 3_600_000,
  endMs: null,
  stepMs: null,
};

/** Points a range query aims for when no step is given. */
export const TARGET_POINTS = 250;

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/**
 * Parses a Prometheus-style duration (`90s`, `1h30m`, `500ms`) into ms;
 * null when it is not one or is zero.
 */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]];
    at = re.lastIndex;
  }
  return total > 0 && Number.isSafeInteger(total) ? total : null;
}

/** Formats ms as the shortest exact duration (`3600000` → `1h`). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "0s";
  let left = Math.round(ms);
  let out = "";
  for (const unit of ["y", "w", "d", "h", "m", "s", "ms"]) {
    const size = UNITS[unit];
    if (left >= size) {
      out += `${Math.floor(left / size)}${unit}`;
      left %= size;
    }
  }
  return out;
}

/** The step a range query uses: the chosen one or range / TARGET_POINTS (at least 1 s). */
export function effectiveStep(state: QueryState): number {
  if (state.stepMs !== null) return state.stepMs;
  const raw = Math.max(1000, Math.ceil(state.rangeMs / TARGET_POINTS));
  return Math.ceil(raw / 1000) * 1000;
}

/** The window [start, end] in ms for `state`, with `now` for an open end. */
export function windowOf(
  state: QueryState,
  now: number,
): { start: number; end: number } {
  const end = state.endMs ?? now;
  return { start: end - state.rangeMs, end };
}

/** Encodes the state as URL search parameters (defaults omitted). */
export function toSearch(state: QueryState): string {
  const p = new URLSearchParams();
  if (state.expr !== "") p.set("q", state.expr);
  if (state.mode !== DEFAULT_STATE.mode) p.set("mode", state.mode);
  if (state.rangeMs !== DEFAULT_STATE.rangeMs) {
    p.set("range", formatDuration(state.rangeMs));
  }
  if (state.endMs !== null) p.set("end", new Date(state.endMs).toISOString());
  if (state.stepMs !== null) p.set("step", formatDuration(state.stepMs));
  const s = p.toString();
  return s === "" ? "" : `?${s}`;
}

/**
 * Reads a state from URL search parameters; unknown or bad values fall
 * back to the defaults (a shared link never breaks the page).
 */
export function fromSearch(search: string): QueryState {
  const p = new URLSearchParams(search);
  const mode = p.get("mode");
  const end = p.get("end");
  const endMs = end === null ? null : parseEnd(end);
  return {
    expr: p.get("q") ?? p.get("g0.expr") ?? "",
    mode: mode === "instant" || mode === "range" ? mode : DEFAULT_STATE.mode,
    rangeMs: parseDuration(p.get("range") ?? "") ?? DEFAULT_STATE.rangeMs,
    endMs,
    stepMs: parseDuration(p.get("step") ?? ""),
  };
}

/** An end time as ISO 8601 or unix seconds; null when neither. */
export function parseEnd(text: string): number | null {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

/** Milliseconds as the API's seconds parameter (exact to the ms). */
export function apiTime(ms: number): string {
  return (ms / 1000).toFixed(3);
}
