/**
 * Prometheus' JSON float strings: Go's `strconv.FormatFloat(v, 'f', -1, 64)`
 * (shortest round-tripping digits, never an exponent), with "NaN", "+Inf"
 * and "-Inf" for the special values.
 * @module
 */

/** Formats a sample value the way Prometheus' HTTP API does. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  // JavaScript switches to exponent form below 1e-6 and from 1e21 on.
  const negative = s[0] === "-";
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = dot < 0
    ? mantissa
    : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (pointAt <= 0) out = "0." + "0".repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) {
    out = digits + "0".repeat(pointAt - digits.length);
  } else out = digits.slice(0, pointAt) + "." + digits.slice(pointAt);
  return negative ? "-" + out : out;
}
