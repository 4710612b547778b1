/**
 * Appends a decoded remote-write batch and accounts for every sample:
 * written, or refused with a reason. Refusals come from the request
 * (invalid label set, no timestamp, native histograms) and from the store
 * (out of order, out of bounds, duplicate, too many series); the valid
 * samples are kept either way, as Prometheus does.
 * @module
 */
import type { Labels } from "../model/labels.ts";
import type { Appender } from "../storage/interface.ts";
import type { DecodedBatch } from "./remote_write_batch.ts";
import { describeLabels } from "./remote_write_labels.ts";

/** What became of a request's samples. */
export interface WriteOutcome {
  /** Float samples stored (identical resends included). */
  samplesWritten: number;
  /** Of those, identical resends (no-ops). */
  samplesDeduplicated: number;
  histogramsWritten: number;
  exemplarsWritten: number;
  /** Float samples refused. */
  samplesRejected: number;
  histogramsRejected: number;
  exemplarsRejected: number;
  /** Refusals by reason. */
  reasonCounts: Record<string, number>;
  /** The first few refusals, readable. */
  firstReasons: string[];
}

/** How a batch is applied. */
export interface ApplyOptions {
  /**
   * Append a zero sample at a series' created timestamp when it precedes
   * the series' first sample (Prometheus' created-timestamp zero
   * ingestion); refusals of these synthetic samples are not reported.
   */
  createdTimestampZero: boolean;
  /** Exemplars are refused (2.0, which reports them) or dropped silently (1.0, as Prometheus). */
  refuseExemplars: boolean;
  /** How many refusals are described in `firstReasons`. */
  maxReasons: number;
}

const ZERO = new Float64Array(1);

/** Appends every valid sample of `batch`, commits, and accounts for all. */
export async function applyBatch(
  batch: DecodedBatch,
  app: Appender,
  opts: ApplyOptions,
): Promise<WriteOutcome> {
  const out: WriteOutcome = {
    samplesWritten: 0,
    samplesDeduplicated: 0,
    histogramsWritten: 0,
    exemplarsWritten: 0,
    samplesRejected: 0,
    histogramsRejected: 0,
    exemplarsRejected: 0,
    reasonCounts: {},
    firstReasons: [],
  };
  const refuse = (reason: string, detail: string, n = 1) => {
    out.reasonCounts[reason] = (out.reasonCounts[reason] ?? 0) + n;
    if (out.firstReasons.length < opts.maxReasons) {
      out.firstReasons.push(`${reason}: ${detail}`);
    }
  };
  // Appender index → series index (negative: a synthetic created-timestamp sample).
  const origin = new Int32Array(batch.samples + batch.series);
  let k = 0;
  const { ts, values } = batch;
  for (let s = 0; s < batch.series; s++) {
    const labels = batch.labels[s];
    const start = batch.start(s);
    const end = batch.end(s);
    if (labels === null) {
      if (end > start) {
        out.samplesRejected += end - start;
        refuse("invalid labels", batch.errors[s], end - start);
      }
      continue;
    }
    const ct = batch.created[s];
    if (
      opts.createdTimestampZero && ct !== 0 && end > start && ct < ts[start]
    ) {
      app.appendFrom(labels, ct, ZERO, 0);
      origin[k++] = -1 - s;
    }
    for (let i = start; i < end; i++) {
      const t = ts[i];
      if (t !== t) {
        out.samplesRejected++;
        refuse("sample without timestamp", describeLabels(labels));
        continue;
      }
      app.appendFrom(labels, t, values, i);
      origin[k++] = s;
    }
  }
  if (batch.histograms > 0) {
    out.histogramsRejected = batch.histograms;
    refuse(
      "native histograms are not supported",
      `${batch.histograms} histogram samples not written`,
      batch.histograms,
    );
  }
  if (batch.exemplars > 0 && opts.refuseExemplars) {
    out.exemplarsRejected = batch.exemplars;
    refuse(
      "exemplars are not stored",
      `${batch.exemplars} exemplars not written`,
      batch.exemplars,
    );
  }
  const res = await app.commit();
  let synthetic = 0;
  for (let i = 0; i < k; i++) if (origin[i] < 0) synthetic++;
  let syntheticRefused = 0;
  for (const r of res.rejected) {
    const s = origin[r.index];
    if (s < 0) {
      syntheticRefused++;
      continue;
    }
    out.samplesRejected++;
    // The store's message repeats its reason: keep what it adds.
    const detail = r.message.startsWith(r.reason)
      ? r.message.slice(r.reason.length).trim()
      : r.message;
    refuse(r.reason, `${describe(batch.labels[s])} ${detail}`);
  }
  out.samplesWritten = res.samplesAccepted + res.samplesDeduplicated -
    (synthetic - syntheticRefused);
  out.samplesDeduplicated = res.samplesDeduplicated;
  return out;
}

function describe(labels: Labels | null): string {
  return labels ? describeLabels(labels) : "{}";
}

/** A one-line account of the refusals, for a 400 answer. */
export function describeRefusals(o: WriteOutcome): string {
  const total = o.samplesRejected + o.histogramsRejected + o.exemplarsRejected;
  const counts = Object.entries(o.reasonCounts)
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
  return `${total} of the request's samples were not written (${counts}); ` +
    `${o.samplesWritten} samples were written; first: ${
      o.firstReasons.join("; ")
    }`;
}
