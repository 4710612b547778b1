/**
 * Label-set helpers for the evaluator: every result builds a new sorted
 * label set from an input one (drop the metric name, keep or drop names,
 * set one label).
 * @module
 */
import {
  compareStrings,
  type Label,
  type Labels,
  METRIC_NAME,
} from "../model/labels.ts";

/** `labels` without `__name__`. */
export function withoutName(labels: Labels): Labels {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i].name === METRIC_NAME) {
      return labels.slice(0, i).concat(labels.slice(i + 1));
    }
  }
  return labels;
}

/** Only the labels named in `names`. */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => names.has(l.name));
}

/** Every label except those named in `names`. */
export function dropLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => !names.has(l.name));
}

/** `labels` with `name` set to `value` ("" deletes it). */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = value === "";
  for (const l of labels) {
    if (l.name === name) continue;
    if (!placed && compareStrings(name, l.name) < 0) {
      out.push({ name, value });
      placed = true;
    }
    out.push(l);
  }
  if (!placed) out.push({ name, value });
  return out;
}

/** Orders label sets as Prometheus does (name by name, then value). */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i].name, b[i].name);
    if (c !== 0) return c;
    const d = compareStrings(a[i].value, b[i].value);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** A map key for a label set restricted by `on`/`ignoring`-style rules. */
export function signature(
  labels: Labels,
  on: boolean,
  names: ReadonlySet<string>,
): string {
  let key = "";
  for (const l of labels) {
    const listed = names.has(l.name);
    if (on ? !listed : (listed || l.name === METRIC_NAME)) continue;
    key += `${l.name.length}:${l.name}${l.value.length}:${l.value}`;
  }
  return key;
}
