/**
 * Boundary validation of the Metrics API with zod: write bodies item by
 * item (so one bad item is refused alone, with the code of its first
 * problem) and the query strings of the read routes.
 * @module
 */
import { z } from "zod";
import { parseTimestamp } from "./time.ts";
import {
  type ApiErrorCode,
  type EventRecord,
  METRIC_TYPES,
  type Observation,
} from "./types.ts";

/** Longest metric or event name. */
export const MAX_NAME_LENGTH = 256;
/** Most tags on one observation. */
export const MAX_TAGS = 32;
/** Longest tag key, tag value or set member. */
export const MAX_STRING_LENGTH = 1024;
/** Tag keys the PromQL view needs for itself. */
const RESERVED_TAGS = new Set(["quantile"]);

const timestampField = z.union([z.string(), z.number()]).optional();

const metricItem = z.object({
  name: z.string().min(1).max(MAX_NAME_LENGTH),
  type: z.enum(METRIC_TYPES),
  value: z.union([z.number(), z.string()]),
  timestamp: timestampField,
  tags: z.record(z.string(), z.string()).optional(),
});

const eventItem = z.object({
  name: z.string().min(1).max(MAX_NAME_LENGTH),
  value: z.number().nullable().optional(),
  timestamp: timestampField,
  properties: z.record(z.string(), z.unknown()).optional(),
});

/** `{metrics:[...]}`: items stay unknown until checked one by one. */
export const batchBody = z.object({ metrics: z.array(z.unknown()) });
/** `{events?:[...], metrics?:[...]}`. */
export const fluxBody = z.object({
  events: z.array(z.unknown()).optional(),
  metrics: z.array(z.unknown()).optional(),
});

/** A refused item: its code and message (the index is the caller's). */
export interface Refusal {
  readonly code: ApiErrorCode;
  readonly message: string;
}

/** Either a valid value or why not. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: Refusal };

const refuse = <T>(code: ApiErrorCode, message: string): Checked<T> => ({
  ok: false,
  error: { code, message },
});

/** The code of a zod issue on an item: by the field it is about. */
function issueRefusal(error: z.ZodError): Refusal {
  const order = ["name", "type", "value", "timestamp", "tags", "properties"];
  const issues = [...error.issues].sort((a, b) =>
    rank(a.path[0]) - rank(b.path[0])
  );
  function rank(key: PropertyKey | undefined): number {
    const i = order.indexOf(String(key));
    return i < 0 ? order.length : i;
  }
  const issue = issues[0];
  const field = String(issue.path[0] ?? "item");
  const code: ApiErrorCode = field === "name"
    ? "missing_name"
    : field === "type"
    ? "invalid_type"
    : "invalid_value";
  const what = field === "name" && issue.code === "invalid_type"
    ? "name is required (a non-empty string)"
    : field === "type"
    ? `type must be one of ${METRIC_TYPES.join(", ")}`
    : `${issue.path.join(".") || "item"}: ${issue.message}`;
  return { code, message: what };
}

function checkTimestamp(
  raw: string | number | undefined,
  now: number,
): Checked<number> {
  if (raw === undefined) return { ok: true, value: now };
  const t = typeof raw === "number"
    ? (Number.isSafeInteger(raw) ? raw : null)
    : parseTimestamp(raw);
  if (t === null) {
    return refuse(
      "invalid_value",
      `timestamp ${JSON.stringify(raw)} is not ISO 8601 (or epoch ms)`,
    );
  }
  return { ok: true, value: t };
}

function checkName(name: string): Refusal | null {
  if (!name.isWellFormed()) {
    return { code: "invalid_value", message: "name is not valid UTF-8" };
  }
  return null;
}

function checkTags(
  tags: Record<string, string>,
  type: string,
): Refusal | null {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS) {
    return { code: "invalid_value", message: `more than ${MAX_TAGS} tags` };
  }
  for (const k of keys) {
    const v = tags[k];
    if (k === "" || k.startsWith("__")) {
      return {
        code: "invalid_value",
        message: `tag key ${JSON.stringify(k)} is empty or reserved (__)`,
      };
    }
    if (type === "distribution" && RESERVED_TAGS.has(k)) {
      return {
        code: "invalid_value",
        message: `tag key "${k}" is reserved for distributions`,
      };
    }
    if (
      k.length > MAX_STRING_LENGTH || v.length > MAX_STRING_LENGTH ||
      !k.isWellFormed() || !v.isWellFormed()
    ) {
      return {
        code: "invalid_value",
        message: `tag ${JSON.stringify(k)} is too long or not valid UTF-8`,
      };
    }
  }
  return null;
}

/** Validates one metric item; `now` is the default timestamp. */
export function checkMetric(item: unknown, now: number): Checked<Observation> {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return refuse("invalid_value", "a metric must be a JSON object");
  }
  const parsed = metricItem.safeParse(item);
  if (!parsed.success) return { ok: false, error: issueRefusal(parsed.error) };
  const m = parsed.data;
  const bad = checkName(m.name);
  if (bad) return { ok: false, error: bad };
  if (m.type === "set") {
    if (typeof m.value !== "string" || m.value.length > MAX_STRING_LENGTH) {
      return refuse(
        "invalid_value",
        "a set's value must be a string (at most 1024 characters)",
      );
    }
  } else if (typeof m.value !== "number" || !Number.isFinite(m.value)) {
    return refuse("invalid_value", `a ${m.type}'s value must be a number`);
  } else if (m.type === "counter" && m.value < 0) {
    return refuse(
      "invalid_value",
      "a counter's value is an increment and must not be negative",
    );
  }
  const t = checkTimestamp(m.timestamp, now);
  if (!t.ok) return t;
  const tags = m.tags ?? {};
  const badTags = checkTags(tags, m.type);
  if (badTags) return { ok: false, error: badTags };
  return {
    ok: true,
    value: { name: m.name, type: m.type, value: m.value, t: t.value, tags },
  };
}

/** Validates one event item. */
export function checkEvent(item: unknown, now: number): Checked<EventRecord> {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return refuse("invalid_value", "an event must be a JSON object");
  }
  const parsed = eventItem.safeParse(item);
  if (!parsed.success) return { ok: false, error: issueRefusal(parsed.error) };
  const e = parsed.data;
  const bad = checkName(e.name);
  if (bad) return { ok: false, error: bad };
  const t = checkTimestamp(e.timestamp, now);
  if (!t.ok) return t;
  return {
    ok: true,
    value: {
      name: e.name,
      value: e.value ?? null,
      t: t.value,
      properties: e.properties ?? {},
    },
  };
}

/** Query string of `GET /api/v1/metrics/<name>/query` (tags[k] apart). */
export const queryParams = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  aggregation: z.string().min(1).optional(),
  interval: z.string().optional(),
  group_by: z.string().regex(/^tags\..+$/, "group_by must be tags.<key>")
    .optional(),
});

/** Query string of `GET /api/v1/events`. */
export const eventParams = z.object({
  name: z.string().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.string().regex(/^\d{1,7}$/, "limit must be a positive integer")
    .optional(),
  cursor: z.string().optional(),
});
