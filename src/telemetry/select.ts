/**
 * Series selection for telemetry: the metric name, and per tag label an
 * exact set of accepted values (OR within a label, AND across labels).
 * @module
 */
import { getLabel, type Labels, METRIC_NAME } from "../model/labels.ts";
import { type Matcher, newMatcher } from "../model/matcher.ts";

const REGEX_META = /[\\.+*?()|[\]{}^$]/g;

/** `s` as an RE2 pattern matching exactly `s`. */
export function escapeRegex(s: string): string {
  return s.replace(REGEX_META, "\\$&");
}

/**
 * Matchers selecting `metric` with, for each tag, one of its values. A
 * single value is an `=` matcher; several are an `=~` alternation of
 * escaped literals, which the matcher recognises as an exact value set.
 */
export function telemetryMatchers(
  metric: string,
  tags: readonly (readonly [string, readonly string[]])[],
): Matcher[] {
  const out: Matcher[] = [newMatcher("=", METRIC_NAME, metric)];
  for (const [name, values] of tags) {
    out.push(
      values.length === 1
        ? newMatcher("=", name, values[0])
        : newMatcher("=~", name, values.map(escapeRegex).join("|")),
    );
  }
  return out;
}

/** The bucket key of a series: its values of `tagNames` joined by ",", or "total" without tags. */
export function bucketKey(labels: Labels, tagNames: readonly string[]): string {
  if (tagNames.length === 0) return "total";
  return tagNames.map((n) => getLabel(labels, n)).join(",");
}
