/**
 * Times and durations of the Metrics API: ISO 8601 timestamps (or epoch
 * milliseconds) in, ISO 8601 out; durations like `90s`, `5m`, `1h30m`, `1d`.
 * @module
 */
import { parseCompoundDuration, UNIT_MS } from "../model/duration.ts";

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** Largest |ms| a JS Date holds. */
const DATE_LIMIT = 8.64e15;

/**
 * Parses an ISO 8601 date-time (`2024-01-15T10:30:00Z`, offsets, fractions;
 * no zone means UTC) or a string of epoch milliseconds. Null when invalid.
 */
export function parseTimestamp(text: string): number | null {
  if (/^-?\d{1,16}$/.test(text)) {
    const ms = Number(text);
    return Math.abs(ms) <= DATE_LIMIT ? ms : null;
  }
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +h > 23 || +mi > 59 || +s > 59) {
    return null;
  }
  const z = zone === "z"
    ? "Z"
    : zone.length === 5
    ? `${zone.slice(0, 3)}:${zone.slice(3)}`
    : zone;
  const ms = frac ? frac.slice(1, 4).padEnd(3, "0") : "000";
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${z}`);
  if (!Number.isFinite(t)) return null;
  // Date.parse rolls 2024-02-31 over to March: refuse what did not round-trip.
  if (z === "Z" && new Date(t).getUTCDate() !== +d) return null;
  return t;
}

/** ISO 8601 in UTC with milliseconds. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses `90s`, `5m`, `1h30m`, `1d`, `2w` into ms; null when invalid. */
export function parseDuration(text: string): number | null {
  const total = parseCompoundDuration(text);
  return total !== null && Number.isSafeInteger(total) && total > 0
    ? total
    : null;
}

/** The shortest `1d2h`-style text for a duration in ms. */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"]) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || "0s";
}
