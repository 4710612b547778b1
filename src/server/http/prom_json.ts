/**
 * Query results as Prometheus' HTTP API writes them: times as float unix
 * seconds, values as strings in Go's shortest 'f' formatting, label sets
 * as objects in label order. Built as text so a large matrix costs no
 * intermediate objects per point.
 * @module
 */
import type { Labels } from "../../model/labels.ts";
import { formatValue } from "../../promql/format_value.ts";
import type { QueryValue } from "../../promql/value.ts";

/** `{"name":"value",...}` for a label set. */
export function labelsJson(labels: Labels): string {
  let s = "{";
  for (let i = 0; i < labels.length; i++) {
    if (i) s += ",";
    s += JSON.stringify(labels[i].name) + ":" + JSON.stringify(labels[i].value);
  }
  return s + "}";
}

/** A timestamp in ms as Prometheus' float seconds. */
export function timeJson(ms: number): string {
  return String(ms / 1000);
}

function point(t: number, v: number): string {
  return `[${timeJson(t)},"${formatValue(v)}"]`;
}

/** The `data` member of a query answer: `{"resultType":…,"result":…}`. */
export function queryDataJson(value: QueryValue): string {
  switch (value.type) {
    case "scalar":
      return `{"resultType":"scalar","result":${point(value.t, value.v)}}`;
    case "string":
      return `{"resultType":"string","result":[${timeJson(value.t)},${
        JSON.stringify(value.v)
      }]}`;
    case "vector": {
      const parts: string[] = [];
      for (const s of value.samples) {
        parts.push(
          `{"metric":${labelsJson(s.metric)},"value":${point(s.t, s.v)}}`,
        );
      }
      return `{"resultType":"vector","result":[${parts.join(",")}]}`;
    }
    case "matrix": {
      const parts: string[] = [];
      for (const s of value.series) {
        const pts: string[] = new Array(s.ts.length);
        for (let i = 0; i < s.ts.length; i++) {
          pts[i] = point(s.ts[i], s.values[i]);
        }
        parts.push(
          `{"metric":${labelsJson(s.metric)},"values":[${pts.join(",")}]}`,
        );
      }
      return `{"resultType":"matrix","result":[${parts.join(",")}]}`;
    }
  }
}
