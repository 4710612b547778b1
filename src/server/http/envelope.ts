/**
 * The two response envelopes: Prometheus' `{"status","data",...}` and the
 * Metrics API's `{"data"}` / `{"error":{"code","message"}}`.
 * @module
 */
import type { HttpError } from "./errors.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/** A Prometheus success envelope. */
export function promSuccess(
  data: unknown,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): Response {
  const body: Record<string, unknown> = { status: "success", data };
  if (warnings.length) body.warnings = warnings;
  if (infos.length) body.infos = infos;
  return new Response(JSON.stringify(body), { headers: JSON_HEADERS });
}

/** A Prometheus success envelope whose data is already JSON text. */
export function promSuccessRaw(
  dataJson: string,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): Response {
  let body = `{"status":"success","data":${dataJson}`;
  if (warnings.length) body += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length) body += `,"infos":${JSON.stringify(infos)}`;
  return new Response(body + "}", { headers: JSON_HEADERS });
}

/** A Prometheus error envelope. */
export function promError(e: HttpError): Response {
  return new Response(
    JSON.stringify({ status: "error", errorType: e.code, error: e.message }),
    { status: e.status, headers: { ...JSON_HEADERS, ...e.headers } },
  );
}

/** A Metrics API success envelope. */
export function apiData(data: unknown, status = 200): Response {
  return new Response(JSON.stringify({ data }), {
    status,
    headers: JSON_HEADERS,
  });
}

/** A Metrics API error envelope. */
export function apiError(e: HttpError): Response {
  return new Response(
    JSON.stringify({ error: { code: e.code, message: e.message } }),
    { status: e.status, headers: { ...JSON_HEADERS, ...e.headers } },
  );
}
