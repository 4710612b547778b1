/**
 * A pushed group as series: each family turned into the samples the
 * Pushgateway would expose for it (grouping labels set on every metric,
 * histograms completed with `+Inf`, `_sum`, `_count`; `le`/`quantile`
 * formatted as Go formats floats), plus the checks that keep all groups
 * of a tenant consistent (the Pushgateway's gather-time checks).
 * @module
 */
import {
  type Labels,
  labelsFrom,
  labelsKey,
  METRIC_NAME,
} from "../../model/labels.ts";
import type { MetricFamily, MetricType } from "../exposition.ts";
import { formatGoFloat } from "../go_float.ts";
import type { GroupingKey } from "./grouping.ts";

/** One series of a group and its current value. */
export interface GroupSample {
  readonly labels: Labels;
  readonly value: number;
}

/** A family as stored in a group. */
export interface GroupFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help?: string;
  readonly samples: readonly GroupSample[];
}

/** A group: its key, its families, and the push bookkeeping (Unix seconds, 0: never). */
export interface Group {
  readonly key: GroupingKey;
  readonly families: ReadonlyMap<string, GroupFamily>;
  readonly pushTime: number;
  readonly failureTime: number;
}

/** The gauges the Pushgateway adds to every group. */
export const PUSH_TIME = "push_time_seconds";
export const PUSH_FAILURE_TIME = "push_failure_time_seconds";

/** A push that breaks the group's or the tenant's consistency (400). */
export class InconsistentPushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InconsistentPushError";
  }
}

/**
 * The series of one pushed family in `key`'s group. Grouping labels
 * override the metric's own labels, as the Pushgateway does; an empty
 * value (such as the `instance=""` the Pushgateway adds) means no label.
 */
export function familySamples(
  family: MetricFamily,
  key: GroupingKey,
): GroupFamily {
  const samples: GroupSample[] = [];
  const { name } = family;
  for (const metric of family.metrics) {
    const base = new Map<string, string>(metric.labels);
    for (const [n, v] of Object.entries(key.labels)) base.set(n, v);
    const add = (suffix: string, value: number, extra?: [string, number]) => {
      const pairs = new Map(base);
      pairs.set(METRIC_NAME, name + suffix);
      if (extra) {
        if (pairs.has(extra[0])) {
          throw new InconsistentPushError(
            `metric ${JSON.stringify(name)} must not have an explicit ${
              JSON.stringify(extra[0])
            } label`,
          );
        }
        pairs.set(extra[0], formatGoFloat(extra[1]));
      }
      samples.push({ labels: labelsFrom(pairs), value });
    };
    switch (family.type) {
      case "histogram": {
        let infSeen = false;
        for (const b of metric.buckets ?? []) {
          add("_bucket", b.count, ["le", b.le]);
          if (b.le === Infinity) infSeen = true;
        }
        if (!infSeen) add("_bucket", metric.count ?? 0, ["le", Infinity]);
        add("_sum", metric.sum ?? 0);
        add("_count", metric.count ?? 0);
        break;
      }
      case "summary":
        for (const qv of metric.quantiles ?? []) {
          add("", qv.value, ["quantile", qv.quantile]);
        }
        add("_sum", metric.sum ?? 0);
        add("_count", metric.count ?? 0);
        break;
      default:
        add("", metric.value ?? 0);
    }
  }
  const out: GroupFamily = { name, type: family.type, samples };
  return family.help === undefined ? out : { ...out, help: family.help };
}

/** Every series of a group, its push gauges included. */
export function groupSamples(group: Group): GroupSample[] {
  const out: GroupSample[] = [];
  for (const f of group.families.values()) out.push(...f.samples);
  for (const f of pushGauges(group)) out.push(...f.samples);
  return out;
}

/** push_time_seconds and push_failure_time_seconds of a group. */
export function pushGauges(group: Group): GroupFamily[] {
  const gauge = (name: string, value: number): GroupFamily => ({
    name,
    type: "gauge",
    samples: [{
      labels: labelsFrom({ ...group.key.labels, [METRIC_NAME]: name }),
      value,
    }],
  });
  return [
    gauge(PUSH_TIME, group.pushTime),
    gauge(PUSH_FAILURE_TIME, group.failureTime),
  ];
}

/**
 * Checks that the groups could be exposed together, as the Pushgateway
 * checks at push time: one type per family name across groups, no family
 * colliding with a histogram's or summary's `_bucket`/`_sum`/`_count`
 * series, and no series twice. Throws InconsistentPushError.
 */
export function checkConsistency(groups: Iterable<Group>): void {
  const types = new Map<string, MetricType>();
  const seen = new Set<string>();
  for (const group of groups) {
    const families = [...group.families.values(), ...pushGauges(group)];
    for (const f of families) {
      const prior = types.get(f.name);
      if (prior !== undefined && prior !== f.type) {
        throw new InconsistentPushError(
          `metric family ${
            JSON.stringify(f.name)
          } is a ${f.type} here but a ${prior} elsewhere`,
        );
      }
      types.set(f.name, f.type);
      for (const s of f.samples) {
        const k = labelsKey(s.labels);
        if (seen.has(k)) {
          throw new InconsistentPushError(
            `series ${describe(s.labels)} was pushed more than once`,
          );
        }
        seen.add(k);
      }
    }
  }
  for (const [name, type] of types) {
    if (type !== "histogram" && type !== "summary") continue;
    const suffixes = type === "histogram"
      ? ["_bucket", "_sum", "_count"]
      : ["_sum", "_count"];
    for (const s of suffixes) {
      if (types.has(name + s)) {
        throw new InconsistentPushError(
          `metric family ${JSON.stringify(name + s)} collides with ${type} ${
            JSON.stringify(name)
          }`,
        );
      }
    }
  }
}

function describe(labels: Labels): string {
  const name = labels.find((l) => l.name === METRIC_NAME)?.value ?? "";
  const rest = labels.filter((l) => l.name !== METRIC_NAME)
    .map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  return `${name}{${rest.join(",")}}`;
}
