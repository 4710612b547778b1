/**
 * Label sets: a series' identity. Names and values are any UTF-8 strings
 * (Prometheus 3). A label set is kept sorted by name with no duplicate
 * names and no empty values (an empty value means "no such label", as in
 * Prometheus).
 * @module
 */

/** One label. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A label set, sorted by name, names unique, values non-empty. */
export type Labels = readonly Label[];

/** The label holding the metric name. */
export const METRIC_NAME = "__name__";

/** Why a label set cannot name a series. */
export class LabelsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabelsError";
  }
}

/**
 * Builds a valid label set from pairs in any order: drops empty values,
 * sorts by name, and rejects duplicate names, empty names, and strings that
 * are not well-formed UTF-16 (lone surrogates cannot be UTF-8).
 */
export function labelsFrom(
  pairs: Iterable<readonly [string, string]> | Record<string, string>,
): Labels {
  const list: Label[] = [];
  const entries = Symbol.iterator in Object(pairs)
    ? pairs as Iterable<readonly [string, string]>
    : Object.entries(pairs as Record<string, string>);
  for (const [name, value] of entries) {
    if (name === "") throw new LabelsError("label name is empty");
    if (!name.isWellFormed() || !value.isWellFormed()) {
      throw new LabelsError(`label ${JSON.stringify(name)} is not valid UTF-8`);
    }
    if (value !== "") list.push({ name, value });
  }
  list.sort((a, b) => compareStrings(a.name, b.name));
  for (let i = 1; i < list.length; i++) {
    if (list[i].name === list[i - 1].name) {
      throw new LabelsError(
        `duplicate label name ${JSON.stringify(list[i].name)}`,
      );
    }
  }
  return list;
}

/** Byte-wise (UTF-8 order) comparison, as Prometheus sorts label strings. */
export function compareStrings(a: string, b: string): number {
  // For well-formed strings, UTF-16 code unit order equals UTF-8 byte order
  // except across the surrogate range; compare by code point to be exact.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const hx = x >= 0xd800 && x <= 0xdfff;
      const hy = y >= 0xd800 && y <= 0xdfff;
      if (hx === hy) return x - y;
      return hx ? 1 : -1; // a surrogate pair encodes a code point > 0xffff
    }
  }
  return a.length - b.length;
}

/** The value of `name`, or "" when absent. */
export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return "";
}

/**
 * A canonical string for a label set: equal sets give equal keys, and the
 * key can be parsed back (`labelsFromKey`). Each string is length-prefixed
 * (`<length>:<chars>`), so no character needs reserving as a separator.
 * Used as the series' identity in maps and in the WAL.
 */
export function labelsKey(labels: Labels): string {
  let key = "";
  for (const l of labels) {
    key += `${l.name.length}:${l.name}${l.value.length}:${l.value}`;
  }
  return key;
}

/** Parses a `labelsKey` back into a label set; throws LabelsError on a malformed key. */
export function labelsFromKey(key: string): Labels {
  const out: Label[] = [];
  let i = 0;
  const take = (): string => {
    const colon = key.indexOf(":", i);
    const len = Number(key.slice(i, colon));
    if (colon < 0 || !Number.isInteger(len) || colon + 1 + len > key.length) {
      throw new LabelsError(`malformed label key at ${i}`);
    }
    i = colon + 1 + len;
    return key.slice(colon + 1, i);
  };
  while (i < key.length) {
    const name = take();
    out.push({ name, value: take() });
  }
  return out;
}

/** Prometheus' text form: `name{a="b", …}` (quoted names where needed). */
export function formatLabels(labels: Labels): string {
  let name = "";
  const rest: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME) name = l.value;
    else rest.push(`${quoteName(l.name)}=${JSON.stringify(l.value)}`);
  }
  const metric = name === "" || /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)
    ? name
    : "";
  if (metric === "" && name !== "") rest.unshift(JSON.stringify(name));
  return `${metric}{${rest.join(", ")}}`;
}

function quoteName(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : JSON.stringify(name);
}

/**
 * A 30-bit hash of a label set, for lookups without building a key
 * string; 30 bits keep it a small integer, which Maps hash fastest. It
 * covers the values and the names' lengths only: names repeat across
 * series, so skipping their characters halves the work, and equal sets
 * still give equal hashes. Callers confirm a hit with `labelsEqual`.
 */
export function labelsHash(labels: Labels): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < labels.length; i++) {
    const { name, value } = labels[i];
    h = Math.imul(h ^ (name.length | (value.length << 16)), 0x9e3779b1);
    const n = value.length;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      h = Math.imul(
        h ^ (value.charCodeAt(j) | (value.charCodeAt(j + 1) << 16)),
        0x01000193,
      );
      h ^= h >>> 15;
    }
    if (j < n) h = Math.imul(h ^ value.charCodeAt(j), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 2;
}

/** True when two label sets are equal. */
export function labelsEqual(x: Labels, y: Labels): boolean {
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    if (x[i].name !== y[i].name || x[i].value !== y[i].value) return false;
  }
  return true;
}
