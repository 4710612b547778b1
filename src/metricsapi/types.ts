/**
 * The Metrics API's vocabulary: metric types, one accepted observation and
 * one event as they are logged, and the error codes of the API.
 * @module
 */

/** Types a client may send. */
export const METRIC_TYPES = [
  "gauge",
  "counter",
  "distribution",
  "set",
] as const;
/** A metric type as sent by clients. */
export type ClientMetricType = typeof METRIC_TYPES[number];
/** A series' type: a client type, or `event` for the series of an event name. */
export type MetricType = ClientMetricType | "event";

/** Tags of a series: string values by key. */
export type Tags = Readonly<Record<string, string>>;

/** One accepted metric observation (logged as is; the value of a set is a string). */
export interface Observation {
  readonly name: string;
  readonly type: ClientMetricType;
  readonly value: number | string;
  /** Milliseconds since the epoch. */
  readonly t: number;
  readonly tags: Tags;
}

/** One accepted event. */
export interface EventRecord {
  readonly name: string;
  /** null when the client sent no value. */
  readonly value: number | null;
  readonly t: number;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Machine codes of Metrics API errors. */
export type ApiErrorCode =
  | "missing_name"
  | "invalid_type"
  | "invalid_value"
  | "invalid_json"
  | "invalid_body"
  | "batch_too_large"
  | "invalid_aggregation"
  | "invalid_interval"
  | "invalid_time"
  | "not_found";

/** Why one item of a write was refused. */
export interface ItemError {
  readonly index: number;
  readonly code: ApiErrorCode;
  readonly message: string;
}
