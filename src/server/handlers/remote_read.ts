/**
 * `POST /api/v1/read`: Prometheus remote read. The body is a
 * snappy-compressed prometheus.ReadRequest; the answer is either SAMPLES (a
 * snappy-compressed ReadResponse, built in memory under a sample limit) or
 * STREAMED_XOR_CHUNKS (frames of ChunkedReadResponse produced lazily as the
 * client reads, stored XOR chunks shipped as they are). The request is
 * fully validated before anything is read, so every client mistake is a
 * 4xx and a streamed answer never starts on bad input.
 * @module
 */
import { STREAMED_CHUNKS_CONTENT_TYPE } from "../../codec/chunked_stream.ts";
import { ResponseType } from "../../codec/prompb.ts";
import type { Handler, RequestContext } from "../context.ts";
import { readBody } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { Gate, type Release } from "../remote_read/gate.ts";
import { parseReadRequest, type ReadPlan } from "../remote_read/request.ts";
import { encodeSamplesBody, readSamples } from "../remote_read/samples.ts";
import {
  chunkedFrames,
  DEFAULT_MAX_FRAME_BYTES,
} from "../remote_read/stream.ts";

/** Tuning of the remote read handler (Prometheus' flag defaults). */
export interface RemoteReadOptions {
  /**
   * Most samples in one SAMPLES answer, all queries together; more is a
   * 400 "exceeded sample limit" (--storage.remote.read-sample-limit,
   * default 5e7; 0: unlimited). Streamed answers are not limited: they
   * hold one series at a time.
   */
  maxSamples?: number;
  /** Frame size target of streamed answers (--storage.remote.read-max-bytes-in-frame, 1 MiB). */
  maxFrameBytes?: number;
  /** Remote reads served at once; more wait (--storage.remote.read-concurrent-limit, 10; 0: unlimited). */
  maxConcurrent?: number;
}

const SAMPLES_HEADERS = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
};

/** Builds a remote read handler; each handler has its own concurrency gate. */
export function createRemoteReadHandler(
  options: RemoteReadOptions = {},
): Handler {
  const maxSamples = options.maxSamples ?? 50_000_000;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const gate = new Gate(options.maxConcurrent ?? 10);

  return async (req: Request, ctx: RequestContext): Promise<Response> => {
    const body = await readBody(req, ctx.limits.maxBodyBytes);
    const plan = parseReadRequest(body, ctx.limits.maxDecodedBytes);
    let release: Release;
    try {
      release = await gate.acquire(ctx.signal);
    } catch {
      throw canceled();
    }
    if (plan.responseType === ResponseType.SAMPLES) {
      try {
        const results = readSamples(ctx.db, ctx.tenant, plan.queries, {
          maxSamples,
          signal: ctx.signal,
        });
        return new Response(encodeSamplesBody(results), {
          headers: SAMPLES_HEADERS,
        });
      } finally {
        release();
      }
    }
    return streamed(plan, ctx, maxFrameBytes, release);
  };
}

/** The handler with Prometheus' default limits. */
export const handleRemoteRead: Handler = createRemoteReadHandler();

/**
 * A streamed answer: each pull encodes the next frame; the gate slot, the
 * querier and the decoder are released when the stream ends, fails, is
 * cancelled by the client, or the request's signal aborts.
 */
function streamed(
  plan: ReadPlan,
  ctx: RequestContext,
  maxFrameBytes: number,
  release: Release,
): Response {
  const frames = chunkedFrames({
    store: ctx.db,
    engine: ctx.db.engine,
    tenant: ctx.tenant,
    queries: plan.queries,
    maxFrameBytes,
  });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    ctx.signal.removeEventListener("abort", finish);
    try {
      frames.return();
    } finally {
      release();
    }
  };
  ctx.signal.addEventListener("abort", finish, { once: true });
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (finished) {
        controller.close();
        return;
      }
      try {
        const next = frames.next();
        if (next.done) {
          finish();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (e) {
        finish();
        controller.error(e);
      }
    },
    cancel() {
      finish();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: { "content-type": STREAMED_CHUNKS_CONTENT_TYPE },
  });
}

function canceled(): HttpError {
  return new HttpError(
    499,
    "canceled",
    "remote read canceled: client went away",
  );
}
