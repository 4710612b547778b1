/**
 * Typed HTTP errors. Handlers throw these for client mistakes and limits;
 * the router renders them in the envelope of the route's API family
 * (Prometheus `{"status":"error",...}` or Metrics API `{"error":{...}}`).
 * @module
 */

/** Prometheus' error types (errorType in the envelope). */
export type PromErrorType =
  | "bad_data"
  | "execution"
  | "timeout"
  | "canceled"
  | "unavailable"
  | "internal"
  | "not_found"
  | "unauthorized"
  | "too_many_requests"
  | "payload_too_large"
  | "unsupported_media_type";

/** An error with an HTTP status, a machine code and a message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** errorType (Prometheus routes) or error.code (Metrics API routes). */
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, WWW-Authenticate, ...). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** 400 bad_data. */
export function badData(message: string): HttpError {
  return new HttpError(400, "bad_data", message);
}
