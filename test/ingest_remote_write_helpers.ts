/**
 * Shared by the remote-write tests: a hand-controlled encoder for 1.0 and
 * 2.0 bodies (labels in any order, samples with or without timestamps,
 * values as exact bit patterns), a RequestContext over a temp Db, a way to
 * call the handler as the router would, and an exact dump of a tenant.
 * @module
 */
import { ProtoWriter, WireType } from "../src/codec/protowire.ts";
import { snappyEncode } from "../src/codec/snappy.ts";
import { decodeChunk } from "../src/reference/xor.ts";
import { newMatcher } from "../src/model/matcher.ts";
import { formatLabels } from "../src/model/labels.ts";
import { Db } from "../src/storage/db.ts";
import { PromQLEngine } from "../src/promql/engine.ts";
import type {
  Handler,
  RequestContext,
  TenantLimits,
} from "../src/server/context.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { promError } from "../src/server/http/envelope.ts";

/** A sample to encode: value as exact bits (BigInt) or a number; t omitted when undefined. */
export interface TestSample {
  t?: number;
  v: number | bigint;
}

/** A series to encode. */
export interface TestSeries {
  labels: [string, string][];
  samples: TestSample[];
  histograms?: number;
  exemplars?: number;
  /** 2.0 only. */
  created?: number;
  /** 2.0 only: [type, help, unit]. */
  metadata?: [number, string, string];
}

/** Stale marker bits. */
export const STALE_BITS = 0x7ff0000000000002n;

function bitsOfNumber(v: number): bigint {
  const f = new Float64Array([v]);
  return new BigUint64Array(f.buffer)[0];
}

function writeSample(w: ProtoWriter, s: TestSample): void {
  const m = w.fork();
  const bits = typeof s.v === "bigint" ? s.v : bitsOfNumber(s.v);
  if (bits !== 0n) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, bits, true);
    w.tag(1, WireType.I64).raw8(b, 0);
  }
  if (s.t !== undefined) w.tag(2, WireType.VARINT).int64(s.t);
  w.join(2, m);
}

/** Encodes a 1.0 WriteRequest (not compressed). */
export function encodeV1(
  series: TestSeries[],
  metadata: { type: number; family: string; help: string; unit: string }[] = [],
): Uint8Array {
  const w = new ProtoWriter(256);
  for (const s of series) {
    const m = w.fork();
    for (const [name, value] of s.labels) {
      const l = w.fork();
      if (name !== "") w.stringField(1, name);
      if (value !== "") w.stringField(2, value);
      w.join(1, l);
    }
    for (const smp of s.samples) writeSample(w, smp);
    for (let i = 0; i < (s.exemplars ?? 0); i++) {
      const e = w.fork();
      w.tag(3, WireType.VARINT).int64(1);
      w.join(3, e);
    }
    for (let i = 0; i < (s.histograms ?? 0); i++) {
      const h = w.fork();
      w.tag(15, WireType.VARINT).int64(1000 + i);
      w.join(4, h);
    }
    w.join(1, m);
  }
  for (const md of metadata) {
    const m = w.fork();
    if (md.type) w.tag(1, WireType.VARINT).int64(md.type);
    w.stringField(2, md.family);
    if (md.help) w.stringField(4, md.help);
    if (md.unit) w.stringField(5, md.unit);
    w.join(3, m);
  }
  return w.finish();
}

/** Encodes a 2.0 Request (not compressed); symbols are built from the series. */
export function encodeV2(series: TestSeries[]): Uint8Array {
  const symbols = [""];
  const index = new Map<string, number>([["", 0]]);
  const ref = (s: string) => {
    let r = index.get(s);
    if (r === undefined) {
      r = symbols.length;
      symbols.push(s);
      index.set(s, r);
    }
    return r;
  };
  const refsOf = series.map((s) =>
    s.labels.flatMap(([n, v]) => [ref(n), ref(v)])
  );
  const metaRefs = series.map((s) =>
    s.metadata ? [ref(s.metadata[1]), ref(s.metadata[2])] : []
  );
  const w = new ProtoWriter(256);
  for (const s of symbols) w.stringField(4, s);
  series.forEach((s, k) => {
    const m = w.fork();
    if (refsOf[k].length) {
      const p = w.fork();
      for (const r of refsOf[k]) w.uvarint(r);
      w.join(1, p);
    }
    for (const smp of s.samples) writeSample(w, smp);
    for (let i = 0; i < (s.histograms ?? 0); i++) {
      const h = w.fork();
      w.tag(15, WireType.VARINT).int64(1000 + i);
      w.join(3, h);
    }
    for (let i = 0; i < (s.exemplars ?? 0); i++) {
      const e = w.fork();
      w.tag(3, WireType.VARINT).int64(1);
      w.join(4, e);
    }
    if (s.metadata) {
      const md = w.fork();
      if (s.metadata[0]) w.tag(1, WireType.VARINT).int64(s.metadata[0]);
      if (metaRefs[k][0]) w.tag(3, WireType.VARINT).uvarint(metaRefs[k][0]);
      if (metaRefs[k][1]) w.tag(4, WireType.VARINT).uvarint(metaRefs[k][1]);
      w.join(5, md);
    }
    if (s.created) w.tag(6, WireType.VARINT).int64(s.created);
    w.join(5, m);
  });
  return w.finish();
}

/** Content types. */
export const CT_V1 = "application/x-protobuf";
export const CT_V2 =
  "application/x-protobuf;proto=io.prometheus.write.v2.Request";

/** Default limits for tests. */
export const TEST_LIMITS: TenantLimits = {
  batchPerMinute: 0,
  batchMaxItems: 500,
  queryPerMinute: 0,
  writePerMinute: 0,
  maxBodyBytes: 1 << 20,
  maxDecodedBytes: 4 << 20,
  maxActiveSeries: 0,
};

/** A temp Db and a context factory over it. */
export async function openTestDb(
  opts: { maxSeriesPerTenant?: number } = {},
): Promise<
  {
    db: Db;
    dir: string;
    ctx: (tenant?: string) => RequestContext;
    close(): Promise<void>;
  }
> {
  const dir = await Deno.makeTempDir({ prefix: "rw-test-" });
  const db = await Db.open({
    dataDir: dir,
    fsync: "never",
    maxSeriesPerTenant: opts.maxSeriesPerTenant,
  });
  const engine = new PromQLEngine(db);
  return {
    db,
    dir,
    ctx: (tenant = "t1") => ({
      db,
      engine,
      now: () => Date.now(),
      queryTimeoutMs: 120_000,
      tenant,
      limits: TEST_LIMITS,
      signal: new AbortController().signal,
      params: {},
    }),
    async close() {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** What the router would send back. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** Calls `handler` as the router does (HttpError → Prometheus error envelope). */
export async function call(
  handler: Handler,
  ctx: RequestContext,
  body: Uint8Array,
  headers: Record<string, string> = {
    "content-type": CT_V1,
    "content-encoding": "snappy",
  },
  compress = true,
): Promise<Answer> {
  const req = new Request("http://x/api/v1/write", {
    method: "POST",
    headers,
    body: compress ? snappyEncode(body) : new Uint8Array(body),
  });
  let res: Response;
  try {
    res = await handler(req, ctx);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    res = promError(e);
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Every sample of a tenant, exact: "labels" → [t, value bits][]. */
export function dump(db: Db, tenant: string): Map<string, [number, bigint][]> {
  const q = db.querier(
    tenant,
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  );
  const out = new Map<string, [number, bigint][]>();
  try {
    const names = q.labelNames();
    const seen = new Set<string>();
    for (const name of names) {
      for (const s of q.select([newMatcher("=~", name, ".+")])) {
        const key = formatLabels(s.labels);
        if (seen.has(key)) continue;
        seen.add(key);
        const samples: [number, bigint][] = [];
        for (const c of s.chunks()) {
          for (const x of decodeChunk(c.data)) {
            samples.push([Number(x.t), x.vbits]);
          }
        }
        out.set(key, samples);
      }
    }
  } finally {
    q.close();
  }
  return out;
}

/** Total samples in a dump. */
export function countSamples(d: Map<string, [number, bigint][]>): number {
  let n = 0;
  for (const v of d.values()) n += v.length;
  return n;
}
