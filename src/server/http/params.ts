/**
 * Request parameters of the Prometheus HTTP API: the query string merged
 * with a form-encoded POST body (the body wins, as Go's FormValue), then
 * validated with zod schemas. Times follow Prometheus' `parseTime` (unix
 * seconds with decimals, or RFC 3339), durations its `parseDuration`
 * (float seconds, or `1h30m`-style).
 * @module
 */
import { z } from "zod";
import { HttpError } from "./errors.ts";
import { readText } from "./body.ts";

/** Largest form body accepted (queries are short; Grafana's are < 64 KiB). */
const MAX_FORM_BYTES = 4 << 20;

/** Every value of every parameter, in order. */
export type FormValues = Map<string, string[]>;

/** Reads query string and (for POST) an `application/x-www-form-urlencoded` body. */
export async function readForm(req: Request): Promise<FormValues> {
  const out: FormValues = new Map();
  const add = (p: URLSearchParams) => {
    for (const [k, v] of p) {
      const list = out.get(k);
      if (list) list.push(v);
      else out.set(k, [v]);
    }
  };
  if (req.method === "POST") {
    const type = req.headers.get("content-type") ?? "";
    if (type.startsWith("application/x-www-form-urlencoded")) {
      // Body values come first, as Go's r.Form lists PostForm before the URL's.
      add(new URLSearchParams(await readText(req, MAX_FORM_BYTES)));
    } else if (type !== "" && !type.startsWith("multipart/")) {
      await req.body?.cancel();
    }
  }
  add(new URL(req.url).searchParams);
  return out;
}

/** The first value of `name`, as FormValue gives it. */
export function first(form: FormValues, name: string): string | undefined {
  return form.get(name)?.[0];
}

/** Smallest and largest timestamps Prometheus clients send for "unbounded". */
export const MIN_TIME_MS = -9223372036854;
export const MAX_TIME_MS = 9223372036854;
const MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z";
const MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Prometheus' parseTime: ms since the epoch, or null when unparsable. */
export function parseTime(text: string): number | null {
  if (FLOAT.test(text)) {
    const s = Number(text);
    if (!Number.isFinite(s)) return null;
    const whole = Math.trunc(s);
    const ms = whole * 1000 + Math.round((s - whole) * 1000);
    return Number.isSafeInteger(ms) ? ms : null;
  }
  if (text === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (text === MAX_TIME_TEXT) return MAX_TIME_MS;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const ms = Date.parse(text.replace("t", "T").replace("z", "Z"));
  if (Number.isNaN(ms)) return null;
  // Date.parse keeps milliseconds; Prometheus truncates nanoseconds to ms.
  return ms;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};
const DURATION =
  /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus' parseDuration for API parameters: ms, or null. */
export function parseApiDuration(text: string): number | null {
  if (FLOAT.test(text)) {
    const s = Number(text);
    if (!Number.isFinite(s)) return null;
    const ms = s * 1000;
    // Go converts to int64 nanoseconds and rejects overflow.
    if (Math.abs(ms) > 9.2e15) return null;
    return Math.round(ms);
  }
  if (text === "" || text === "0") return text === "0" ? 0 : null;
  const m = DURATION.exec(text);
  if (!m) return null;
  const units = ["y", "w", "d", "h", "m", "s", "ms"];
  let total = 0;
  for (let i = 0; i < units.length; i++) {
    if (m[i + 1] !== undefined) {
      total += Number(m[i + 1]) * DURATION_UNITS[units[i]];
    }
  }
  return total;
}

/** A zod string → ms timestamp, with Prometheus' error text. */
export function timeParam(name: string) {
  return z.string().transform((s, ctx) => {
    const t = parseTime(s);
    if (t === null) {
      ctx.addIssue({
        code: "custom",
        message:
          `invalid parameter "${name}": cannot parse "${s}" to a valid timestamp`,
      });
      return z.NEVER;
    }
    return t;
  });
}

/** A zod string → ms duration, with Prometheus' error text. */
export function durationParam(name: string) {
  return z.string().transform((s, ctx) => {
    const d = parseApiDuration(s);
    if (d === null) {
      ctx.addIssue({
        code: "custom",
        message:
          `invalid parameter "${name}": cannot parse "${s}" to a valid duration`,
      });
      return z.NEVER;
    }
    return d;
  });
}

/** A zod string → non-negative integer limit (0: none), Prometheus' wording. */
export function limitParam() {
  return z.string().transform((s, ctx) => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isInteger(n)) {
      ctx.addIssue({
        code: "custom",
        message:
          `invalid parameter "limit": cannot parse "${s}" to a valid limit`,
      });
      return z.NEVER;
    }
    if (n < 0) {
      ctx.addIssue({
        code: "custom",
        message: `invalid parameter "limit": limit must be non-negative`,
      });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * Validates the first value of each named parameter with `schema` (an
 * object of optional/required string-based schemas); 400 bad_data with
 * the first issue's message when it fails.
 */
export function parseParams<S extends z.ZodType>(
  form: FormValues,
  schema: S,
): z.infer<S> {
  const raw: Record<string, string | undefined> = {};
  for (const [k, v] of form) raw[k] = v[0];
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const msg = issue.code === "custom"
      ? issue.message
      : `invalid parameter "${issue.path.join(".")}": ${issue.message}`;
    throw new HttpError(400, "bad_data", msg);
  }
  return r.data;
}
