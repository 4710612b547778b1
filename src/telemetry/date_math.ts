/**
 * Date math for telemetry bounds, in the style of Elasticsearch and
 * Grafana: an anchor (`now`, or nothing, which means now) followed by
 * operations applied left to right — `+N<unit>`, `-N<unit>` and `/<unit>`
 * (round down to the start of the unit). Units: s m h d w M y, all in UTC;
 * `M` and `y` are calendar-aware (adding a month to 31 January gives the
 * last day of February), `/w` rounds to Monday 00:00 UTC (ISO weeks).
 * An integer (a JSON number or a string of digits) is epoch milliseconds.
 * @module
 */

/** A parsed bound: its time and whether it was given as epoch milliseconds. */
export interface ResolvedTime {
  /** Milliseconds since the epoch (UTC). */
  ms: number;
  /** True when the input was an integer epoch, not date math. */
  epoch: boolean;
}

/** Why a date-math expression could not be parsed or evaluated. */
export class DateMathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DateMathError";
  }
}

/** A date-math unit. */
export type DateUnit = "s" | "m" | "h" | "d" | "w" | "M" | "y";

const FIXED_MS: Record<"s" | "m" | "h" | "d" | "w", number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** JavaScript Dates cover ±8.64e15 ms; nothing outside is a time we can do calendar math on. */
const LIMIT_MS = 8.64e15;
const EPOCH_TEXT = /^-?\d+$/;
const OPERATION = /([+-])(\d+)([smhdwMy])|\/([smhdwMy])/y;

/**
 * Resolves a bound given as epoch milliseconds (integer number or digit
 * string) or date math, relative to `nowMs`. Throws DateMathError.
 *
 * @example
 * ```ts
 * resolveTime("now-1d/d", Date.UTC(2024, 4, 15, 13)).ms; // Date.UTC(2024, 4, 14)
 * resolveTime(1700000000000, 0); // { ms: 1700000000000, epoch: true }
 * ```
 */
export function resolveTime(
  input: string | number,
  nowMs: number,
): ResolvedTime {
  if (typeof input === "number") return { ms: epochOf(input), epoch: true };
  if (EPOCH_TEXT.test(input)) {
    return { ms: epochOf(Number(input)), epoch: true };
  }
  return { ms: evalDateMath(input, nowMs), epoch: false };
}

function epochOf(n: number): number {
  if (!Number.isSafeInteger(n)) {
    throw new DateMathError("epoch milliseconds must be a safe integer");
  }
  if (Math.abs(n) > LIMIT_MS) throw new DateMathError("time out of range");
  return n;
}

/** Evaluates a date-math expression (not an epoch) relative to `nowMs`. */
export function evalDateMath(text: string, nowMs: number): number {
  let rest = 0;
  if (text.startsWith("now")) rest = 3;
  else if (!(text.startsWith("-") || text.startsWith("+"))) {
    throw new DateMathError(
      `cannot parse ${
        JSON.stringify(text)
      }: expected "now", an offset like "-1d", or epoch milliseconds`,
    );
  }
  let t = nowMs;
  while (rest < text.length) {
    OPERATION.lastIndex = rest;
    const m = OPERATION.exec(text);
    if (!m) {
      throw new DateMathError(
        `cannot parse ${
          JSON.stringify(text)
        } at offset ${rest}: expected +N<unit>, -N<unit> or /<unit> with unit one of s m h d w M y`,
      );
    }
    t = m[4] !== undefined
      ? roundDown(t, m[4] as DateUnit)
      : addUnits(t, (m[1] === "-" ? -1 : 1) * Number(m[2]), m[3] as DateUnit);
    if (!(Math.abs(t) <= LIMIT_MS)) {
      throw new DateMathError(`${JSON.stringify(text)} is out of range`);
    }
    rest = OPERATION.lastIndex;
  }
  return t;
}

/** `t` plus `n` units; months and years clamp the day to the target month's length. */
export function addUnits(t: number, n: number, unit: DateUnit): number {
  if (unit !== "M" && unit !== "y") return t + n * FIXED_MS[unit];
  const months = unit === "M" ? n : 12 * n;
  if (!Number.isSafeInteger(months) || Math.abs(months) > 4e6) return NaN;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return NaN;
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  const msOfDay = t - utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return utc(year, month, day) + msOfDay;
}

/** `t` rounded down to the start of its UTC second, minute, hour, day, ISO week, month or year. */
export function roundDown(t: number, unit: DateUnit): number {
  if (unit === "s" || unit === "m" || unit === "h" || unit === "d") {
    const u = FIXED_MS[unit];
    return Math.floor(t / u) * u;
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return NaN;
  const y = d.getUTCFullYear();
  if (unit === "y") return utc(y, 0, 1);
  if (unit === "M") return utc(y, d.getUTCMonth(), 1);
  const day = Math.floor(t / FIXED_MS.d) * FIXED_MS.d;
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return day - sinceMonday * FIXED_MS.d;
}

/** Date.UTC without the two-digit-year quirk (years 0-99 map to 1900-1999 there). */
function utc(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month + 1, 1) - FIXED_MS.d).getUTCDate();
}
