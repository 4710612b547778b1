/**
 * POST /api/v1/tenant/telemetry: a histogram of a counter's increase over
 * time, keyed by tag values (see docs/design/telemetry.md). Reads only the
 * request's tenant through its querier.
 * @module
 */
import {
  computeTelemetry,
  TelemetryReadError,
} from "../../telemetry/histogram.ts";
import { LOOKBACK_MS } from "../../telemetry/increase.ts";
import { parseTelemetryRequest } from "../../telemetry/request.ts";
import type { Handler, RequestContext } from "../context.ts";
import { readText } from "../http/body.ts";
import { apiData } from "../http/envelope.ts";
import { HttpError } from "../http/errors.ts";

/** Throws 503 once the query deadline passes or the client goes away. */
function checkpointFor(ctx: RequestContext): () => void {
  const deadline = performance.now() + ctx.queryTimeoutMs;
  return () => {
    if (ctx.signal.aborted) {
      throw new HttpError(503, "canceled", "query was canceled");
    }
    if (performance.now() > deadline) {
      throw new HttpError(503, "timeout", "query timed out");
    }
  };
}

/** POST /api/v1/tenant/telemetry → `{"data":[{ts, bucket:{key:{count}}}]}`. */
export const handleTelemetry: Handler = async (req, ctx) => {
  const text = await readText(req, ctx.limits.maxBodyBytes);
  const q = parseTelemetryRequest(text, ctx.now());
  if (q.buckets === 0) return apiData([]);
  const querier = ctx.db.querier(ctx.tenant, q.start - LOOKBACK_MS, q.end - 1);
  try {
    return apiData(
      computeTelemetry(querier, q, { checkpoint: checkpointFor(ctx) }),
    );
  } catch (e) {
    if (e instanceof TelemetryReadError) {
      throw new HttpError(422, "execution", e.message);
    }
    throw e;
  } finally {
    querier.close();
  }
};
