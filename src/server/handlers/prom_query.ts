/**
 * `/api/v1/query`, `/api/v1/query_range` and `/api/v1/format_query`.
 * Parameters are validated before the engine sees them; engine errors map
 * to Prometheus' statuses (bad_data 400, execution 422, timeout 503).
 * @module
 */
import { z } from "zod";
import type { Expr } from "../../promql/ast.ts";
import { ParseError } from "../../promql/errors.ts";
import { parse } from "../../promql/parser.ts";
import { pretty } from "../../promql/printer.ts";
import { QueryError } from "../../promql/value.ts";
import type { Handler, RequestContext } from "../context.ts";
import { promSuccess, promSuccessRaw } from "../http/envelope.ts";
import { HttpError } from "../http/errors.ts";
import {
  durationParam,
  parseParams,
  readForm,
  timeParam,
} from "../http/params.ts";
import { queryDataJson } from "../http/prom_json.ts";
import { evaluationGate } from "../query_gate.ts";

const queryText = z.string({
  error:
    'invalid parameter "query": 1:1: parse error: no expression found in input',
});

const instantSchema = z.object({
  query: queryText,
  time: timeParam("time").optional(),
  timeout: durationParam("timeout").optional(),
});

const rangeSchema = z.object({
  query: queryText,
  start: timeParam("start"),
  end: timeParam("end"),
  step: durationParam("step"),
  timeout: durationParam("timeout").optional(),
}).superRefine((p, ctx) => {
  if (p.end < p.start) {
    ctx.addIssue({
      code: "custom",
      message:
        'invalid parameter "end": end timestamp must not be before start time',
    });
  }
  if (p.step <= 0) {
    ctx.addIssue({
      code: "custom",
      message:
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
    });
  }
});

const MISSING: Record<string, string> = {
  start: 'invalid parameter "start": cannot parse "" to a valid timestamp',
  end: 'invalid parameter "end": cannot parse "" to a valid timestamp',
  step: 'invalid parameter "step": cannot parse "" to a valid duration',
};

/** Most points per series of a range query, as Prometheus. */
const MAX_POINTS = 11_000;

/** Parses the `query` parameter; syntax errors worded as Prometheus does. */
function parseQueryParam(query: string): Expr {
  try {
    return parse(query);
  } catch (e) {
    if (e instanceof ParseError) {
      throw new HttpError(
        400,
        "bad_data",
        `invalid parameter "query": ${e.message}`,
      );
    }
    throw e;
  }
}

/** Rejects what the engine would refuse, in Prometheus' words. */
function checkExpression(query: string, range: boolean): void {
  const type = parseQueryParam(query).valueType ?? "";
  if (range && type !== "scalar" && type !== "vector") {
    throw new HttpError(
      400,
      "bad_data",
      `invalid parameter "query": invalid expression type "${
        type === "matrix" ? "range vector" : type
      }" for range query, must be Scalar or instant Vector`,
    );
  }
}

/** Maps an engine error to the API's HttpError. */
export function queryHttpError(e: unknown): unknown {
  if (e instanceof QueryError) {
    switch (e.errorType) {
      case "bad_data":
        return new HttpError(400, "bad_data", e.message);
      case "execution":
        return new HttpError(422, "execution", e.message);
      case "timeout":
        return new HttpError(503, "timeout", e.message);
      case "canceled":
        return new HttpError(503, "canceled", e.message);
    }
  }
  return e;
}

function timeoutOf(ctx: RequestContext, requested: number | undefined): number {
  if (requested === undefined || requested <= 0) return ctx.queryTimeoutMs;
  return Math.min(requested, ctx.queryTimeoutMs);
}

/** GET|POST /api/v1/query */
export const handleQuery: Handler = async (req, ctx) => {
  const form = await readForm(req);
  const p = parseParams(form, instantSchema);
  checkExpression(p.query, false);
  const time = p.time ?? ctx.now();
  try {
    const r = await evaluationGate.run(
      () =>
        ctx.engine.instantQuery(ctx.tenant, p.query, time, {
          timeoutMs: timeoutOf(ctx, p.timeout),
          signal: ctx.signal,
        }),
      ctx.signal,
    );
    return promSuccessRaw(queryDataJson(r.value), r.warnings, r.infos);
  } catch (e) {
    throw queryHttpError(e);
  }
};

/** GET|POST /api/v1/query_range */
export const handleQueryRange: Handler = async (req, ctx) => {
  const form = await readForm(req);
  for (const name of ["start", "end", "step"]) {
    if (!form.has(name)) throw new HttpError(400, "bad_data", MISSING[name]);
  }
  const p = parseParams(form, rangeSchema);
  // Prometheus' own wording and check, before the expression is parsed.
  if ((p.end - p.start) / p.step > MAX_POINTS) {
    throw new HttpError(
      400,
      "bad_data",
      "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
  }
  checkExpression(p.query, true);
  try {
    const r = await evaluationGate.run(
      () =>
        ctx.engine.rangeQuery(ctx.tenant, p.query, p.start, p.end, p.step, {
          timeoutMs: timeoutOf(ctx, p.timeout),
          signal: ctx.signal,
        }),
      ctx.signal,
    );
    return promSuccessRaw(queryDataJson(r.value), r.warnings, r.infos);
  } catch (e) {
    throw queryHttpError(e);
  }
};

/** GET|POST /api/v1/format_query */
export const handleFormatQuery: Handler = async (req) => {
  const form = await readForm(req);
  const p = parseParams(form, z.object({ query: queryText }));
  return promSuccess(pretty(parseQueryParam(p.query)));
};
