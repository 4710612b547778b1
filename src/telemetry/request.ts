/**
 * The telemetry request body, validated with zod at the boundary:
 * `{metric, tags?, start, end?, step}`. Every refusal is a 400 bad_data
 * whose message names the field (`invalid parameter "start": ...`).
 * @module
 */
import { z } from "zod";
import { HttpError } from "../server/http/errors.ts";
import { DateMathError, resolveTime } from "./date_math.ts";
import { parseStep, StepError } from "./step.ts";

/** Most buckets one request may ask for (as Prometheus' points per series). */
export const MAX_BUCKETS = 11_000;

/** A validated request, bounds resolved. */
export interface TelemetryQuery {
  metric: string;
  /** Tag label → accepted values, in request order (deduplicated values). */
  tags: [string, string[]][];
  /** First bucket's start (inclusive, ms). */
  start: number;
  /** End of the window (exclusive, ms); the last bucket is cut here. */
  end: number;
  /** Bucket width (ms). */
  step: number;
  /** Number of buckets: ceil((end - start) / step). */
  buckets: number;
  /** Both bounds were epoch ms: every bucket is listed, empty ones included. */
  fill: boolean;
}

const required = (what: string) => (iss: { input: unknown }) =>
  iss.input === undefined ? "is required" : `must be ${what}`;

const timeInput = z.union([z.string(), z.number()], {
  error: required("a date-math string or epoch milliseconds"),
});

const bodySchema = z.object({
  metric: z.string({ error: required("a string") }).min(1, "must not be empty"),
  tags: z.record(
    z.string(),
    z.array(
      z.string({ error: "tag values must be strings" }).min(
        1,
        "tag values must not be empty",
      ),
      { error: "must map each tag to an array of values" },
    ).min(
      1,
      "each tag needs at least one value",
    ),
    { error: "must be an object of tag → [values]" },
  ).refine((r) => !Object.hasOwn(r, ""), "tag names must not be empty")
    .optional(),
  start: timeInput,
  end: timeInput.optional(),
  step: z.union([z.string(), z.number()], {
    error: required('a duration like "1h" or milliseconds'),
  }),
});

function bad(field: string, message: string): HttpError {
  return new HttpError(
    400,
    "bad_data",
    `invalid parameter "${field}": ${message}`,
  );
}

/** Parses the body text into a TelemetryQuery, or throws HttpError 400. */
export function parseTelemetryRequest(
  text: string,
  nowMs: number,
): TelemetryQuery {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HttpError(
      400,
      "bad_data",
      `invalid JSON body: ${(e as Error).message}`,
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new HttpError(400, "bad_data", "the body must be a JSON object");
  }
  const r = bodySchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw bad(issue.path.map(String).join(".") || "body", issue.message);
  }
  const body = r.data;
  const start = resolveBound("start", body.start, nowMs);
  const end = body.end === undefined
    ? { ms: nowMs, epoch: false }
    : resolveBound("end", body.end, nowMs);
  let step: number;
  try {
    step = parseStep(body.step);
  } catch (e) {
    if (e instanceof StepError) throw bad("step", e.message);
    throw e;
  }
  if (end.ms < start.ms) {
    throw bad("end", `end (${end.ms}) must not be before start (${start.ms})`);
  }
  const buckets = Math.ceil((end.ms - start.ms) / step);
  if (buckets > MAX_BUCKETS) {
    throw bad(
      "step",
      `${buckets} buckets exceed the maximum of ${MAX_BUCKETS}; use a larger step or a shorter range`,
    );
  }
  const tags = Object.entries(body.tags ?? {}).map((
    [k, v],
  ): [string, string[]] => [k, [...new Set(v)]]);
  return {
    metric: body.metric,
    tags,
    start: start.ms,
    end: end.ms,
    step,
    buckets,
    fill: start.epoch && end.epoch,
  };
}

function resolveBound(field: string, input: string | number, nowMs: number) {
  try {
    return resolveTime(input, nowMs);
  } catch (e) {
    if (e instanceof DateMathError) throw bad(field, e.message);
    throw e;
  }
}
