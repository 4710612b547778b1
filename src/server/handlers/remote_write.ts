/**
 * `POST /api/v1/write` (and `/api/v1/prom/write`): remote write 1.0 and
 * 2.0. The body is read within the tenant's byte limit (413), negotiated
 * (415), Snappy-decoded within the decoded-size limit (413 before any
 * allocation), decoded whole (400 for a body that is not the protobuf:
 * nothing written), then appended: 204 when every sample was written, 400
 * naming the refusals when some were not (the others are kept). Answers
 * carry the 2.0 `X-Prometheus-Remote-Write-*-Written` headers.
 * @module
 */
import type { Handler, RequestContext } from "../context.ts";
import { HttpError } from "../http/errors.ts";
import { readBody } from "../http/body.ts";
import { snappyDecode, SnappyError } from "../../codec/snappy.ts";
import {
  type DecodedBatch,
  releaseBatch,
  takeBatch,
} from "../../ingest/remote_write_batch.ts";
import { decodeWriteRequestV1 } from "../../ingest/remote_write_decode.ts";
import { decodeWriteRequestV2 } from "../../ingest/rw2_decode.ts";
import { TenantLabelCaches } from "../../ingest/remote_write_labels.ts";
import { MetadataStore } from "../../ingest/remote_write_metadata.ts";
import { negotiateVersion } from "../../ingest/remote_write_negotiate.ts";
import { RemoteWriteFormatError } from "../../ingest/remote_write_wire.ts";
import {
  decoderFor,
  decodeWriteRequestV1Wasm,
  snappyDecodeWasm,
  WasmTenantLabelCaches,
} from "../../ingest/remote_write_wasm.ts";
import type { Engine } from "../../bindings/engine.ts";
import {
  applyBatch,
  describeRefusals,
  type WriteOutcome,
} from "../../ingest/remote_write_apply.ts";

/** What a remote-write handler shares between requests. */
export interface RemoteWriteOptions {
  /** Where received metadata goes (for /api/v1/metadata). */
  metadata: MetadataStore;
  /** Label-set caches per tenant. */
  labelCaches: TenantLabelCaches;
  /** Ingest 2.0 created timestamps as zero samples (default true). */
  createdTimestampZero: boolean;
  /**
   * Where 1.0 bodies are decoded: "wasm" (default; Snappy, the walk and the
   * label-bytes lookup in the engine module, ~3x the TS decoder's
   * throughput, see docs/design/remote-write.md) or "ts". 2.0 is TS.
   */
  v1Decoder: "wasm" | "ts";
  /** Told what every applied request did (self-monitoring). */
  onOutcome?(tenant: string, version: 1 | 2, outcome: WriteOutcome): void;
}

/** The metadata store the default handler fills (wire it to /api/v1/metadata). */
export const remoteWriteMetadata: MetadataStore = new MetadataStore();

/** A remote-write handler over the given shared state. */
export function createRemoteWriteHandler(
  opts: Partial<RemoteWriteOptions> = {},
): Handler {
  const metadata = opts.metadata ?? new MetadataStore();
  const caches = opts.labelCaches ?? new TenantLabelCaches();
  const createdTimestampZero = opts.createdTimestampZero ?? true;
  const useWasm = (opts.v1Decoder ?? "wasm") === "wasm";
  const wasmCaches = new WeakMap<Engine, WasmTenantLabelCaches>();
  const wasmCachesFor = (engine: Engine) => {
    let c = wasmCaches.get(engine);
    if (!c) {
      c = new WasmTenantLabelCaches(engine, caches.maxTenants, caches.limits);
      wasmCaches.set(engine, c);
    }
    return c;
  };
  return async (req: Request, ctx: RequestContext): Promise<Response> => {
    if (req.method !== "POST") {
      await req.body?.cancel();
      throw new HttpError(405, "bad_data", "remote write needs POST", {
        allow: "POST",
      });
    }
    let version: 1 | 2;
    try {
      version = negotiateVersion(req.headers);
    } catch (e) {
      await req.body?.cancel();
      throw e;
    }
    const body = await readBody(req, ctx.limits.maxBodyBytes);
    const batch = takeBatch();
    try {
      if (version === 1 && useWasm) {
        // Synchronous from Snappy to the filled batch: the engine-side
        // bytes are the shared decoder's until the next request.
        const engine = ctx.db.engine;
        const dec = decoderFor(engine);
        try {
          snappyErrors(
            ctx.limits.maxDecodedBytes,
            () => snappyDecodeWasm(dec, body, ctx.limits.maxDecodedBytes),
          );
          formatErrors(1, () =>
            decodeWriteRequestV1Wasm(
              dec,
              batch,
              wasmCachesFor(engine).for(ctx.tenant),
            ));
        } finally {
          dec.trim();
        }
      } else {
        const raw = decompress(body, ctx.limits.maxDecodedBytes);
        decode(version, raw, batch, caches, ctx);
      }
      metadata.update(ctx.tenant, batch.metadata);
      const outcome = await applyBatch(batch, ctx.db.appender(ctx.tenant), {
        createdTimestampZero,
        refuseExemplars: version === 2,
        maxReasons: 5,
      });
      opts.onOutcome?.(ctx.tenant, version, outcome);
      const headers = writtenHeaders(outcome);
      if (
        outcome.samplesRejected + outcome.histogramsRejected +
            outcome.exemplarsRejected > 0
      ) {
        throw new HttpError(
          400,
          "bad_data",
          describeRefusals(outcome),
          headers,
        );
      }
      return new Response(null, { status: 204, headers });
    } finally {
      releaseBatch(batch);
    }
  };
}

/** The handler with the default shared state (metadata in `remoteWriteMetadata`). */
export const handleRemoteWrite: Handler = createRemoteWriteHandler({
  metadata: remoteWriteMetadata,
});

function decompress(body: Uint8Array, maxDecoded: number): Uint8Array {
  return snappyErrors(maxDecoded, () => snappyDecode(body, maxDecoded));
}

/** Runs a Snappy decoder, turning its SnappyErrors into 413/400. */
function snappyErrors<T>(maxDecoded: number, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof SnappyError)) throw e;
    if (e.kind === "too-large") {
      throw new HttpError(
        413,
        "payload_too_large",
        `decompressed body would exceed ${maxDecoded} bytes`,
      );
    }
    throw new HttpError(
      400,
      "bad_data",
      `body is not a snappy block: ${e.message}`,
    );
  }
}

function decode(
  version: 1 | 2,
  raw: Uint8Array,
  batch: DecodedBatch,
  caches: TenantLabelCaches,
  ctx: RequestContext,
): void {
  const cache = caches.for(ctx.tenant);
  formatErrors(version, () => {
    if (version === 1) decodeWriteRequestV1(raw, batch, cache);
    else decodeWriteRequestV2(raw, batch, cache);
  });
}

/** Runs a protobuf decoder, turning RemoteWriteFormatError into 400. */
function formatErrors(version: 1 | 2, run: () => void): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof RemoteWriteFormatError)) throw e;
    const what = version === 1
      ? "prometheus.WriteRequest"
      : "io.prometheus.write.v2.Request";
    throw new HttpError(400, "bad_data", `body is not a ${what}: ${e.message}`);
  }
}

function writtenHeaders(o: WriteOutcome): Record<string, string> {
  return {
    "x-prometheus-remote-write-samples-written": String(o.samplesWritten),
    "x-prometheus-remote-write-histograms-written": String(
      o.histogramsWritten,
    ),
    "x-prometheus-remote-write-exemplars-written": String(o.exemplarsWritten),
  };
}
