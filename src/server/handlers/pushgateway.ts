/**
 * The Pushgateway push API: `PUT|POST|DELETE /metrics/job/<job>{/<l>/<v>}`.
 * Answers as the Pushgateway (with its consistency check on): 200 with an
 * empty body for a successful PUT/POST, 202 for DELETE, 400 for a bad
 * path, body, or inconsistent push. Text format 0.0.4 only: the delimited
 * protobuf content type is refused with 415. Bodies may be gzip-encoded.
 * @module
 */
import type { Handler, RequestContext } from "../context.ts";
import { readBody, readStream } from "../http/body.ts";
import { badData, HttpError } from "../http/errors.ts";
import { ExpositionError, parseExposition } from "../../ingest/exposition.ts";
import {
  GroupingKeyError,
  parseGroupingPath,
} from "../../ingest/pushgateway/grouping.ts";
import {
  PushgatewayStore,
  PushRejectedError,
} from "../../ingest/pushgateway/store.ts";

export { PushgatewayStore };

/**
 * The handler over `store`. The router passes the raw (undecoded) path
 * after `/metrics/` as `ctx.params.path`.
 */
export function createPushgatewayHandler(store: PushgatewayStore): Handler {
  return async (req: Request, ctx: RequestContext): Promise<Response> => {
    let key;
    try {
      key = parseGroupingPath(ctx.params.path ?? "");
    } catch (e) {
      if (e instanceof GroupingKeyError) throw badData(e.message);
      throw e;
    }
    const call = { storage: ctx.db, now: ctx.now() };
    if (req.method === "DELETE") {
      await req.body?.cancel();
      await store.delete(ctx.tenant, key, call);
      return new Response(null, { status: 202 });
    }
    if (req.method !== "PUT" && req.method !== "POST") {
      throw new HttpError(405, "bad_data", `method ${req.method} not allowed`, {
        allow: "PUT, POST, DELETE",
      });
    }
    if (isProtobuf(req.headers.get("content-type"))) {
      await req.body?.cancel();
      throw new HttpError(
        415,
        "unsupported_media_type",
        "the delimited protobuf format is not accepted; push the text format (version 0.0.4)",
      );
    }
    const body = await decodedBody(req, ctx);
    let families;
    try {
      families = parseExposition(body);
    } catch (e) {
      if (e instanceof ExpositionError) throw badData(e.message);
      throw e;
    }
    try {
      await store.push(ctx.tenant, key, families, req.method === "PUT", call);
    } catch (e) {
      if (e instanceof PushRejectedError) throw badData(e.message);
      throw e;
    }
    return new Response(null, { status: 200 });
  };
}

function isProtobuf(contentType: string | null): boolean {
  const media = contentType?.split(";")[0].trim().toLowerCase();
  return media === "application/vnd.google.protobuf";
}

/** The body, gunzipped when `Content-Encoding: gzip` (bounded by maxDecodedBytes). */
async function decodedBody(
  req: Request,
  ctx: RequestContext,
): Promise<Uint8Array> {
  const encoding = (req.headers.get("content-encoding") ?? "identity")
    .trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "" && encoding !== "gzip") {
    await req.body?.cancel();
    throw new HttpError(
      415,
      "unsupported_media_type",
      `content encoding ${
        JSON.stringify(encoding)
      } is not supported (use gzip or none)`,
    );
  }
  const raw = await readBody(req, ctx.limits.maxBodyBytes);
  return encoding === "gzip"
    ? await gunzip(raw, ctx.limits.maxDecodedBytes)
    : raw;
}

async function gunzip(raw: Uint8Array, limit: number): Promise<Uint8Array> {
  const stream = new Blob([raw as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  try {
    return await readStream(stream, limit, "decompressed body");
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw badData("request body is not valid gzip");
  }
}
