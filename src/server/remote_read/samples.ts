/**
 * SAMPLES answers: every planned query's series with their samples within
 * the query's range, as a snappy-compressed prometheus.ReadResponse. Values
 * are copied as float64 bits, so -0, NaN payloads and stale markers reach
 * the client exactly as stored (Prometheus itself turns -0 into +0 here).
 *
 * The whole answer is built in memory, so it is bounded: past `maxSamples`
 * samples (over all queries of the request) the request is refused with 400
 * "exceeded sample limit", the status Prometheus' --storage.remote.read-sample-limit
 * answers with.
 * @module
 */
import type { QueryResult, TimeSeries } from "../../codec/prompb.ts";
import { snappyEncode } from "../../codec/snappy.ts";
import type {
  SampleIterator,
  Storage,
  TenantId,
} from "../../storage/interface.ts";
import { SampleLimitError } from "../../storage/limits.ts";
import { HttpError } from "../http/errors.ts";
import type { PlannedQuery } from "./request.ts";
import { encodeReadResponseFast } from "./samples_encoder.ts";

/** Limits of one SAMPLES answer. */
export interface SamplesOptions {
  /** Most samples in one answer, all queries together (0: unlimited). */
  maxSamples: number;
  /** Stops the work when aborted (the client went away). */
  signal?: AbortSignal;
}

/** Iterators of the store that can copy a value's exact bits. */
type BitExactIterator = SampleIterator & {
  valueInto?(dst: Float64Array, at: number): void;
};

const NONE = new Float64Array(0);

/** Reads every query; throws HttpError 400 past the sample limit. */
export function readSamples(
  store: Storage,
  tenant: TenantId,
  queries: readonly PlannedQuery[],
  options: SamplesOptions,
): QueryResult[] {
  const budget = {
    left: options.maxSamples > 0 ? options.maxSamples : Infinity,
  };
  return queries.map((q) => readQuery(store, tenant, q, options, budget));
}

/** The snappy-compressed ReadResponse body for `results`. */
export function encodeSamplesBody(
  results: QueryResult[],
): Uint8Array<ArrayBuffer> {
  return snappyEncode(encodeReadResponseFast(results));
}

function readQuery(
  store: Storage,
  tenant: TenantId,
  q: PlannedQuery,
  options: SamplesOptions,
  budget: { left: number },
): QueryResult {
  if (q.empty) return { timeseries: [] };
  const querier = store.querier(tenant, q.startMs, q.endMs);
  try {
    const timeseries: TimeSeries[] = [];
    for (const s of querier.select(q.matchers)) {
      if (options.signal?.aborted) throw canceled();
      const labels = s.labels.map((l) => ({ name: l.name, value: l.value }));
      if (q.seriesOnly) {
        timeseries.push({ labels, timestamps: NONE, values: NONE });
        continue;
      }
      const got = drain(s.iterator(), q.endMs, budget, options.maxSamples);
      if (got.timestamps.length > 0) timeseries.push({ labels, ...got });
    }
    return { timeseries };
  } finally {
    querier.close();
  }
}

/** Copies an iterator's samples (≤ endMs) into exact-length columns. */
function drain(
  it: BitExactIterator,
  endMs: number,
  budget: { left: number },
  limit: number,
): { timestamps: Float64Array; values: Float64Array } {
  let ts = new Float64Array(64);
  let vs = new Float64Array(64);
  let n = 0;
  while (it.next()) {
    if (it.t > endMs) break;
    if (--budget.left < 0) {
      throw new HttpError(400, "bad_data", `exceeded sample limit (${limit})`);
    }
    if (n === ts.length) {
      ts = grow(ts, n);
      vs = grow(vs, n);
    }
    ts[n] = it.t;
    if (it.valueInto) it.valueInto(vs, n);
    else vs[n] = it.v;
    n++;
  }
  const err = it.err();
  if (err instanceof SampleLimitError) {
    throw new HttpError(400, "bad_data", err.message);
  }
  if (err) throw err;
  return { timestamps: ts.slice(0, n), values: vs.slice(0, n) };
}

/** Doubles a column; typed-array copies keep every bit pattern. */
function grow(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n * 2);
  b.set(a);
  return b;
}

function canceled(): HttpError {
  return new HttpError(
    499,
    "canceled",
    "remote read canceled: client went away",
  );
}
