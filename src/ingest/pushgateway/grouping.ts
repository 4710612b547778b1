/**
 * The Pushgateway grouping key from a URL path:
 * `job/<job>{/<label>/<value>}`, where `job` or any label name may carry
 * the `@base64` suffix to mark its value as base64url (RFC 4648 §5,
 * padding optional, `=` alone for the empty value).
 * @module
 */

/** A grouping key: label name → value (values may be empty; `job` never is). */
export interface GroupingKey {
  readonly labels: Readonly<Record<string, string>>;
  /** Canonical identity: equal label maps give equal ids. */
  readonly id: string;
}

/** Why a path is not a grouping key (answered with 400). */
export class GroupingKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GroupingKeyError";
  }
}

const BASE64_SUFFIX = "@base64";
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses the raw (still percent-encoded) path after `/metrics/`, e.g.
 * `job/foo/instance/bar` or `job@base64/Zm9v/path@base64/L3Zhcg`.
 * Segments are percent-decoded one by one, so an encoded `/` (`%2F`) is
 * part of a value (the Pushgateway splits on it; we do not). A later
 * label of the same name wins, and `job` from the head always wins, as
 * in the Pushgateway.
 */
export function parseGroupingPath(raw: string): GroupingKey {
  const parts = raw.split("/");
  const head = parts.shift();
  if (head !== "job" && head !== "job" + BASE64_SUFFIX) {
    throw new GroupingKeyError(
      "the path must be /metrics/job/<job>{/<label>/<value>}",
    );
  }
  // One trailing slash is tolerated (`job/x/`, `job/x/a/b/`).
  if (parts.length % 2 === 0 && parts.length > 0 && parts.at(-1) === "") {
    parts.pop();
  }
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) {
    throw new GroupingKeyError("job name is required");
  }
  const job = decodeValue(parts[0], head !== "job", "job name");
  if (job === "") throw new GroupingKeyError("job name is required");
  const rest = parts.slice(1);
  if (rest.length % 2 !== 0) {
    throw new GroupingKeyError(
      `odd number of components in label string ${JSON.stringify(raw)}`,
    );
  }
  const labels: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    let name = percentDecode(rest[i], "label name");
    const base64 = name.endsWith(BASE64_SUFFIX);
    if (base64) name = name.slice(0, -BASE64_SUFFIX.length);
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      throw new GroupingKeyError(
        `improper label name ${JSON.stringify(name)}`,
      );
    }
    labels[name] = decodeValue(rest[i + 1], base64, `label ${name}`);
  }
  labels.job = job;
  return groupingKey(labels);
}

/** Builds a key from a label map (used when reloading persisted groups). */
export function groupingKey(labels: Record<string, string>): GroupingKey {
  const sorted = Object.keys(labels).sort();
  const copy: Record<string, string> = {};
  for (const n of sorted) copy[n] = labels[n];
  return { labels: copy, id: JSON.stringify(sorted.map((n) => [n, copy[n]])) };
}

function decodeValue(segment: string, base64: boolean, what: string): string {
  const text = percentDecode(segment, what);
  return base64 ? decodeBase64Url(text, what) : text;
}

function percentDecode(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GroupingKeyError(
      `invalid percent-encoding in ${what} ${JSON.stringify(segment)}`,
    );
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** base64url without padding requirements; the result must be UTF-8. */
export function decodeBase64Url(text: string, what = "value"): string {
  const s = text.replace(/=+$/, "");
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new GroupingKeyError(
      `invalid base64 encoding for ${what}: ${JSON.stringify(text)}`,
    );
  }
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "===".slice((std.length + 3) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new GroupingKeyError(`${what} is not valid UTF-8 after base64`);
  }
}
