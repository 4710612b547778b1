// Shared by the remote read tests: a live server around the handler, request
// building, response decoding, and bit-level sample comparison.
import type { Engine } from "../src/bindings/engine.ts";
import { XorDecoder } from "../src/bindings/xor.ts";
import {
  readFrames,
  STREAMED_CHUNKS_CONTENT_TYPE,
} from "../src/codec/chunked_stream.ts";
import {
  type ChunkedReadResponse,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  type LabelMatcher,
  type Query,
  type ReadResponse,
} from "../src/codec/prompb.ts";
import { snappyDecode, snappyEncode } from "../src/codec/snappy.ts";
import { PromQLEngine } from "../src/promql/engine.ts";
import type {
  Handler,
  RequestContext,
  TenantLimits,
} from "../src/server/context.ts";
import { promError } from "../src/server/http/envelope.ts";
import { HttpError } from "../src/server/http/errors.ts";
import type { Db } from "../src/storage/db.ts";
import { type Labels, labelsFrom } from "../src/model/labels.ts";
import { Prng } from "../src/util/prng.ts";

/** Generous limits for tests. */
export const LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 32 << 20,
  maxDecodedBytes: 64 << 20,
  maxActiveSeries: 0,
};

/** A request context for `db` (tenant "default"). */
export function contextFor(
  db: Db,
  signal: AbortSignal,
  tenant = "default",
): RequestContext {
  return {
    db,
    engine: new PromQLEngine(db),
    now: () => Date.now(),
    queryTimeoutMs: 120_000,
    tenant,
    limits: LIMITS,
    signal,
    params: {},
  };
}

/** A live server around `handler`; `thrown` collects non-HttpError throws. */
export interface TestServer {
  url: string;
  port: number;
  thrown: unknown[];
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1, port 0, the way the router would. */
export function serve(db: Db, handler: Handler): TestServer {
  const thrown: unknown[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      try {
        return await handler(req, contextFor(db, req.signal));
      } catch (e) {
        if (e instanceof HttpError) return promError(e);
        thrown.push(e);
        return new Response(String(e), { status: 500 });
      }
    },
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/api/v1/read`,
    port,
    thrown,
    close: () => server.shutdown(),
  };
}

/** prometheus.LabelMatcher shorthand: type 0..3 = EQ, NEQ, RE, NRE. */
export function lm(type: number, name: string, value: string): LabelMatcher {
  return { type, name, value };
}

/** A Query over [start, end] with matchers. */
export function query(
  start: number,
  end: number,
  matchers: LabelMatcher[],
  hints?: Query["hints"],
): Query {
  return { startTimestampMs: start, endTimestampMs: end, matchers, hints };
}

/** The snappy body of a ReadRequest. */
export function readBody(queries: Query[], types: number[] = []): Uint8Array {
  return snappyEncode(
    encodeReadRequest({ queries, acceptedResponseTypes: types }),
  );
}

/** POSTs a remote read body. */
export function post(url: string, body: Uint8Array): Promise<Response> {
  return fetch(url, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
      "x-prometheus-remote-read-version": "0.1.0",
    },
  });
}

/** Decodes a SAMPLES answer (checks its headers). */
export async function samplesOf(res: Response): Promise<ReadResponse> {
  if (res.status !== 200) {
    throw new Error(`status ${res.status}: ${await res.text()}`);
  }
  if (res.headers.get("content-type") !== "application/x-protobuf") {
    throw new Error(`content-type ${res.headers.get("content-type")}`);
  }
  const raw = new Uint8Array(await res.arrayBuffer());
  return decodeReadResponse(snappyDecode(raw, 1 << 30));
}

/** Decodes a STREAMED_XOR_CHUNKS answer into its messages and frame sizes. */
export async function framesOf(
  res: Response,
): Promise<{ messages: ChunkedReadResponse[]; sizes: number[] }> {
  if (res.status !== 200) {
    throw new Error(`status ${res.status}: ${await res.text()}`);
  }
  const ct = res.headers.get("content-type");
  if (
    ct?.replace(/\s/g, "") !== STREAMED_CHUNKS_CONTENT_TYPE.replace(/\s/g, "")
  ) {
    throw new Error(`content-type ${ct}`);
  }
  const messages: ChunkedReadResponse[] = [];
  const sizes: number[] = [];
  for await (const m of readFrames(res.body!, 64 << 20)) {
    sizes.push(m.length);
    messages.push(decodeChunkedReadResponse(m));
  }
  return { messages, sizes };
}

/** Samples as [t, value bits as hex] pairs, for bit-exact comparison. */
export function bitsOf(ts: ArrayLike<number>, vs: Float64Array): string[] {
  const w = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const out: string[] = [];
  for (let i = 0; i < vs.length; i++) {
    out.push(
      `${ts[i]}:${w[2 * i + 1].toString(16).padStart(8, "0")}${
        w[2 * i].toString(16).padStart(8, "0")
      }`,
    );
  }
  return out;
}

/** Decodes XOR chunk bytes to bit strings (see bitsOf). */
export function chunkBits(engine: Engine, data: Uint8Array): string[] {
  const dec = new XorDecoder(engine);
  try {
    dec.decode(data);
    return bitsOf(dec.timestamps.slice(), dec.values.slice());
  } finally {
    dec.free();
  }
}

/** A float64 from its bits (hi, lo words), kept exact in a Float64Array. */
export function fromBits(hi: number, lo: number): Float64Array {
  const a = new Float64Array(1);
  const w = new Uint32Array(a.buffer);
  w[0] = lo;
  w[1] = hi;
  return a;
}

/** One written series: labels and its samples (values with exact bits). */
export interface FixtureSeries {
  labels: Labels;
  ts: Float64Array;
  vs: Float64Array;
}

/** A 2-hour-aligned start, so Prometheus' head cuts chunks at 120 samples too. */
export const T0 = 1_700_006_400_000;

/**
 * Three series with special values: -0, a NaN with a payload, the stale
 * marker (a signalling NaN), ±Inf and the smallest subnormal, among random
 * full-precision floats. `rr_a{job="a"}` has 400 samples at 15 s from T0.
 */
export function fixture(seed: number): FixtureSeries[] {
  const rng = new Prng(seed);
  const make = (
    pairs: Record<string, string>,
    n: number,
    start: number,
    step: number,
  ): FixtureSeries => {
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    const w = new Uint32Array(vs.buffer);
    for (let i = 0; i < n; i++) {
      ts[i] = start + i * step;
      vs[i] = Math.round(rng.normal() * 1e6) / (rng.int(0, 1) ? 1 : 7);
    }
    const set = (i: number, hi: number, lo: number) => {
      if (i < n) [w[2 * i], w[2 * i + 1]] = [lo, hi];
    };
    set(5, 0x80000000, 0); // -0
    set(17, 0x7ff80000, 0xabc); // NaN with payload
    set(33, 0x7ff00000, 2); // stale marker
    set(50, 0x7ff00000, 0); // +Inf
    set(51, 0xfff00000, 0); // -Inf
    set(60, 0, 1); // smallest subnormal
    return { labels: labelsFrom(pairs), ts, vs };
  };
  return [
    make({ __name__: "rr_a", job: "a" }, 400, T0, 15_000),
    make({ __name__: "rr_a", job: "b" }, 200, T0 + 7_000, 30_000),
    make({ __name__: "rr_other", x: "1" }, 50, T0, 60_000),
  ];
}

/** Writes the series through the store's appender. */
export async function writeFixture(
  db: Db,
  series: FixtureSeries[],
  tenant = "default",
): Promise<void> {
  const app = db.appender(tenant);
  for (const s of series) app.appendSeries(s.labels, s.ts, s.vs);
  const r = await app.commit();
  if (r.rejected.length) throw new Error(JSON.stringify(r.rejected[0]));
}

/** The written samples of `s` within [start, end] as bit strings. */
export function expectedBits(
  s: FixtureSeries,
  start: number,
  end: number,
): string[] {
  return bitsOf(s.ts, s.vs).filter((_, i) =>
    s.ts[i] >= start && s.ts[i] <= end
  );
}
