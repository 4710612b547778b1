/**
 * Remote read requests: from the bytes of a POST body to a validated plan
 * (response type, and per query its effective time range and matchers).
 * Every client mistake becomes an HttpError 400 (or 413 for a body that
 * inflates past the limit) before any data is read, so a streamed answer
 * never has to fail on bad input after its headers are sent.
 * @module
 */
import {
  decodeReadRequest,
  type LabelMatcher,
  type Query,
  type ReadRequest,
  ResponseType,
} from "../../codec/prompb.ts";
import { ProtoError } from "../../codec/protowire.ts";
import { snappyDecode, SnappyError } from "../../codec/snappy.ts";
import {
  type Matcher,
  MatcherError,
  type MatchType,
  newMatcher,
} from "../../model/matcher.ts";
import { HttpError } from "../http/errors.ts";

/** The response types this server speaks (prometheus.ReadRequest.ResponseType). */
export type ReadResponseType =
  | typeof ResponseType.SAMPLES
  | typeof ResponseType.STREAMED_XOR_CHUNKS;

/** One query, validated. Times are inclusive ms. */
export interface PlannedQuery {
  /** Position in the request (ChunkedReadResponse.query_index). */
  index: number;
  /** The range to read: the query's range narrowed by its hints. */
  startMs: number;
  endMs: number;
  /** True when the narrowed range is empty: the query selects nothing. */
  empty: boolean;
  matchers: Matcher[];
  /** hints.func == "series": labels only, no samples (SAMPLES answers). */
  seriesOnly: boolean;
}

/** A validated remote read request. */
export interface ReadPlan {
  responseType: ReadResponseType;
  queries: PlannedQuery[];
}

const MATCH_TYPES: readonly MatchType[] = ["=", "!=", "=~", "!~"];

/**
 * Decompresses and decodes a remote read body and validates it. Throws
 * HttpError: 413 when the snappy header announces more than
 * `maxDecodedBytes`, 400 for everything else that is wrong.
 */
export function parseReadRequest(
  body: Uint8Array,
  maxDecodedBytes: number,
): ReadPlan {
  const req = decodeBody(body, maxDecodedBytes);
  return {
    responseType: negotiate(req.acceptedResponseTypes),
    queries: req.queries.map(planQuery),
  };
}

function decodeBody(body: Uint8Array, maxDecodedBytes: number): ReadRequest {
  let raw: Uint8Array;
  try {
    raw = snappyDecode(body, maxDecodedBytes);
  } catch (e) {
    if (e instanceof SnappyError && e.kind === "too-large") {
      throw new HttpError(
        413,
        "payload_too_large",
        `remote read body decompresses past ${maxDecodedBytes} bytes`,
      );
    }
    if (e instanceof SnappyError) {
      throw bad(`remote read body is not snappy-compressed: ${e.message}`);
    }
    throw e;
  }
  try {
    return decodeReadRequest(raw);
  } catch (e) {
    if (e instanceof ProtoError) {
      throw bad(
        `remote read body is not a prometheus.ReadRequest: ${e.message}`,
      );
    }
    throw e;
  }
}

/**
 * Prometheus' negotiation: the first accepted type the server supports;
 * SAMPLES when the list is empty (what Prometheus 2.x clients send).
 */
function negotiate(accepted: readonly number[]): ReadResponseType {
  if (accepted.length === 0) return ResponseType.SAMPLES;
  for (const t of accepted) {
    if (t === ResponseType.SAMPLES || t === ResponseType.STREAMED_XOR_CHUNKS) {
      return t;
    }
  }
  throw bad(
    `server does not support any of the requested response types [${
      accepted.join(" ")
    }]; supported: SAMPLES (0), STREAMED_XOR_CHUNKS (1)`,
  );
}

function planQuery(q: Query, index: number): PlannedQuery {
  const where = `query ${index}`;
  if (q.startTimestampMs > q.endTimestampMs) {
    throw bad(
      `${where}: start ${q.startTimestampMs} is after end ${q.endTimestampMs}`,
    );
  }
  const matchers = q.matchers.map((m) => toMatcher(m, where));
  if (!matchers.some((m) => !m.matches(""))) {
    throw bad(
      `${where}: needs at least one matcher that does not match the empty string`,
    );
  }
  let startMs = q.startTimestampMs;
  let endMs = q.endTimestampMs;
  const h = q.hints;
  // Prometheus' TSDB reads [hints.start, hints.end] when hints are given;
  // we intersect with the query's range so hints can only narrow. Hints
  // left at zero (a client that sets none) do not narrow.
  if (h && (h.startMs !== 0 || h.endMs !== 0)) {
    startMs = Math.max(startMs, h.startMs);
    endMs = Math.min(endMs, h.endMs);
  }
  return {
    index,
    startMs,
    endMs,
    empty: startMs > endMs,
    matchers,
    seriesOnly: h?.func === "series",
  };
}

function toMatcher(m: LabelMatcher, where: string): Matcher {
  const type = MATCH_TYPES[m.type];
  if (type === undefined) {
    throw bad(
      `${where}: unknown matcher type ${m.type} for label ${
        JSON.stringify(m.name)
      } (EQ=0, NEQ=1, RE=2, NRE=3)`,
    );
  }
  try {
    return newMatcher(type, m.name, m.value);
  } catch (e) {
    if (e instanceof MatcherError) {
      throw bad(`${where}: ${e.message}`);
    }
    throw e;
  }
}

function bad(message: string): HttpError {
  return new HttpError(400, "bad_data", message);
}
