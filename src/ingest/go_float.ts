/**
 * Go's float and integer text syntax, as the Prometheus text parser
 * (expfmt) and writer see it: `strconv.ParseFloat` without hex floats or
 * underscores, `strconv.ParseInt(s, 10, 64)`, and the writer's shortest
 * `'g'` formatting with `+Inf`/`-Inf`/`NaN`.
 * @module
 */

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INFINITY = /^[+-]?(?:inf|infinity)$/i;

/**
 * Parses `s` as Go's ParseFloat does (decimal and the case-insensitive
 * names inf, infinity, nan; hex floats and underscores refused as expfmt
 * refuses them). Returns null for bad syntax and for values out of range
 * (Go answers ±Inf with ErrRange there; underflow to 0 is not an error).
 */
export function parseGoFloat(s: string): number | null {
  if (DECIMAL.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : null;
  }
  if (INFINITY.test(s)) return s[0] === "-" ? -Infinity : Infinity;
  if (s.length === 3 && s.toLowerCase() === "nan") return NaN;
  return null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a base-10 int64 as Go's ParseInt(s, 10, 64) does (optional sign,
 * ASCII digits only). Returns null on bad syntax or overflow. The result
 * is a number, exact up to 2^53.
 */
export function parseGoInt64(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return Number(v);
}

/**
 * Formats a float as the Prometheus text writer does: 1, 0, -1, NaN,
 * +Inf, -Inf specially, else Go's shortest `'g'` form (exponent notation
 * when the decimal exponent is below -4 or at least 6, with a sign and at
 * least two exponent digits: 1e+06, 1.5e-05).
 */
export function formatGoFloat(f: number): string {
  if (f === 1) return "1";
  if (f === 0) return "0";
  if (f === -1) return "-1";
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  // toExponential() without digits gives the shortest round-tripping digits.
  const [mant, expText] = f.toExponential().split("e");
  const negative = mant[0] === "-";
  const digits = mant.replace("-", "").replace(".", "");
  const exp = Number(expText);
  let out: string;
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    out = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") +
      "e" + (exp < 0 ? "-" : "+") + (abs < 10 ? "0" : "") + abs;
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    out = frac ? `${intPart}.${frac}` : intPart;
  } else {
    out = "0." + "0".repeat(-exp - 1) + digits;
  }
  return negative ? "-" + out : out;
}
