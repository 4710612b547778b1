/**
 * The log record of one accepted write (one request) and its compact JSON
 * form: observations as `[name, type, value, t, tags?]` and events as
 * `[name, value, t, properties?]` arrays, to keep the log small.
 * @module
 */
import {
  type ClientMetricType,
  type EventRecord,
  METRIC_TYPES,
  type Observation,
} from "./types.ts";

/** One accepted write of one tenant. */
export interface WriteRecord {
  readonly tenant: string;
  readonly observations: readonly Observation[];
  readonly events: readonly EventRecord[];
}

type ObsJson = [
  string,
  number,
  number | string,
  number,
  Record<string, string>?,
];
type EventJson = [string, number | null, number, Record<string, unknown>?];

/** The JSON form written to the log. */
export function encodeRecord(r: WriteRecord): unknown {
  const m: ObsJson[] = r.observations.map((o) => {
    const row: ObsJson = [o.name, METRIC_TYPES.indexOf(o.type), o.value, o.t];
    if (Object.keys(o.tags).length > 0) row.push({ ...o.tags });
    return row;
  });
  const e: EventJson[] = r.events.map((ev) => {
    const row: EventJson = [ev.name, ev.value, ev.t];
    if (Object.keys(ev.properties).length > 0) row.push({ ...ev.properties });
    return row;
  });
  return { tn: r.tenant, m, e };
}

/** Reads a logged record back; throws on a shape the log never writes. */
export function decodeRecord(json: unknown): WriteRecord {
  const r = json as { tn: string; m: ObsJson[]; e: EventJson[] };
  if (typeof r?.tn !== "string" || !Array.isArray(r.m) || !Array.isArray(r.e)) {
    throw new Error("metrics log: record of an unknown shape");
  }
  return {
    tenant: r.tn,
    observations: r.m.map(([name, type, value, t, tags]) => ({
      name,
      type: METRIC_TYPES[type] as ClientMetricType,
      value,
      t,
      tags: tags ?? {},
    })),
    events: r.e.map(([name, value, t, properties]) => ({
      name,
      value,
      t,
      properties: properties ?? {},
    })),
  };
}
