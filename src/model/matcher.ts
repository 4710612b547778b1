/**
 * Label matchers (=, !=, =~, !~) with Prometheus' regular-expression
 * semantics. PLACEHOLDER: the full RE2 translation is being written.
 * @module
 */

/** The four matcher kinds. */
export type MatchType = "=" | "!=" | "=~" | "!~";

/** A label matcher. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Whether `value` (a label's value, "" when absent) satisfies the matcher. */
  matches(value: string): boolean;
}
