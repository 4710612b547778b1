// Helpers for the query page's browser tests: seeded data written into a
// test server (PromQL samples and Metrics API typed metrics), a watcher of
// the page's remote reads against the server's own route, a SAMPLES replay
// of them as an oracle, and screenshots.
import type { Page, Request as PwRequest } from "playwright-core";
import { labelsFrom } from "../src/model/labels.ts";
import {
  decodeReadRequest,
  decodeReadResponse,
  encodeReadRequest,
  type ReadRequest,
  type ReadResponse,
  ResponseType,
} from "../src/codec/prompb.ts";
import { snappyDecode, snappyEncode } from "../src/codec/snappy.ts";
import type { TestServer } from "./_server.ts";
import { Prng } from "../src/util/prng.ts";

/** Where screenshots go (ignored by git). */
export const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/** Saves a full-page screenshot as test/artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({
    path: new URL(`${name}.png`, ARTIFACTS).pathname,
    fullPage: true,
  });
}

/** One written series: its labels and samples. */
export interface WrittenSeries {
  labels: Record<string, string>;
  ts: number[];
  values: number[];
}

/**
 * Writes `count` samples every `stepMs` ending at `end` for each label set,
 * values from a seeded walk (decimals with few digits, so JSON and binary
 * agree on every bit), and returns what was written.
 */
export async function writeSeries(
  tm: TestServer,
  tenant: string,
  sets: Record<string, string>[],
  end: number,
  count: number,
  stepMs: number,
  seed: number,
): Promise<WrittenSeries[]> {
  const rng = new Prng(seed);
  const app = tm.server.db.appender(tenant);
  const out: WrittenSeries[] = [];
  for (const labels of sets) {
    const s: WrittenSeries = { labels, ts: [], values: [] };
    let v = rng.int(0, 1000);
    const l = labelsFrom(labels);
    for (let i = 0; i < count; i++) {
      const t = end - (count - 1 - i) * stepMs;
      v += rng.int(-20, 20) / 4;
      s.ts.push(t);
      s.values.push(v);
      app.append(l, t, v);
    }
    out.push(s);
  }
  const r = await app.commit();
  if (r.rejected.length) throw new Error(JSON.stringify(r.rejected[0]));
  return out;
}

/** One remote read the page sent to the server, and what came back. */
export interface ReadExchange {
  request: ReadRequest;
  /** The snappy body as sent (to replay it from the test). */
  body: Uint8Array;
  authorization: string | null;
  contentEncoding: string | null;
  status: number;
  contentType: string | null;
  /** Response body bytes as received by the page. */
  responseBytes: number;
}

/** The page's API traffic as seen by the browser (nothing is intercepted). */
export interface ApiWatch {
  reads: ReadExchange[];
  /** Response body sizes of POST /api/v1/query (the raw-JSON reads), in order. */
  queryBytes: number[];
  /** Waits until every finished request seen so far is logged. */
  settled(): Promise<void>;
  /** Forgets what was logged (between runs). */
  clear(): void;
}

/**
 * Watches the page's calls to the server's own POST /api/v1/read and
 * POST /api/v1/query: request bodies (remote read decoded), headers,
 * status and body sizes. Observes only: the server answers.
 */
export function watchApi(page: Page): ApiWatch {
  const watch: ApiWatch = {
    reads: [],
    queryBytes: [],
    settled: async () => {
      while (pending.size) await Promise.all([...pending]);
    },
    clear: () => {
      watch.reads.length = 0;
      watch.queryBytes.length = 0;
    },
  };
  const pending = new Set<Promise<void>>();
  const log = async (req: PwRequest) => {
    const path = new URL(req.url()).pathname;
    if (req.method() !== "POST") return;
    const res = await req.response();
    if (!res) return;
    if (path === "/api/v1/query") {
      watch.queryBytes.push((await res.body()).length);
    } else if (path === "/api/v1/read") {
      const body = new Uint8Array(req.postDataBuffer() ?? []);
      watch.reads.push({
        request: decodeReadRequest(snappyDecode(body, 1 << 20)),
        body,
        authorization: await req.headerValue("authorization"),
        contentEncoding: await req.headerValue("content-encoding"),
        status: res.status(),
        contentType: await res.headerValue("content-type"),
        responseBytes: (await res.body()).length,
      });
    }
  };
  page.on("requestfinished", (req: PwRequest) => {
    const p = log(req).finally(() => pending.delete(p));
    pending.add(p);
  });
  return watch;
}

/**
 * Replays a remote read body against the server asking for SAMPLES
 * instead (the server's other answer type), decoded in Deno: an oracle
 * for what the page decoded from chunks.
 */
export async function readAsSamples(
  base: string,
  exchange: ReadExchange,
  authorization?: string,
): Promise<ReadResponse> {
  const body = snappyEncode(encodeReadRequest({
    ...exchange.request,
    acceptedResponseTypes: [ResponseType.SAMPLES],
  }));
  const headers: Record<string, string> = {
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-read-version": "0.1.0",
  };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(`${base}/api/v1/read`, {
    method: "POST",
    headers,
    body,
  });
  const raw = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(
      `SAMPLES read: ${res.status} ${new TextDecoder().decode(raw)}`,
    );
  }
  return decodeReadResponse(snappyDecode(raw, 64 << 20));
}

/** Waits until the page finished a query (done or error). */
export async function waitForRun(page: Page): Promise<string> {
  await page.waitForFunction(() =>
    document.body.dataset.state === "done" ||
    document.body.dataset.state === "error"
  );
  return await page.evaluate(() => document.body.dataset.state ?? "");
}

/** One typed observation for the Metrics API (`POST /api/v1/metrics/batch`). */
export interface TypedItem {
  name: string;
  type: "gauge" | "counter" | "distribution" | "set";
  value: number | string;
  /** Epoch ms. */
  timestamp: number;
  tags?: Record<string, string>;
}

/**
 * Writes typed metrics through the server's Metrics API in batches of
 * 500 and fails unless every item was accepted.
 */
export async function postTyped(
  base: string,
  items: TypedItem[],
): Promise<void> {
  for (let i = 0; i < items.length; i += 500) {
    const res = await fetch(`${base}/api/v1/metrics/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ metrics: items.slice(i, i + 500) }),
    });
    const body = await res.json();
    if (res.status !== 200 || body.data?.rejected !== 0) {
      throw new Error(`batch: ${res.status} ${JSON.stringify(body)}`);
    }
  }
}
