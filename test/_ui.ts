// Helpers for the query page's browser tests: seeded data written into a
// test server, a stand-in for remote read STREAMED_XOR_CHUNKS built from
// the store's own chunks (served to the page through Playwright routing
// while the server's remote read route is not merged), and screenshots.
import { Buffer } from "node:buffer";
import type { Page, Route } from "playwright-core";
import { labelsFrom } from "../src/model/labels.ts";
import { type MatchType, newMatcher } from "../src/model/matcher.ts";
import { encodeFrame } from "../src/codec/chunked_stream.ts";
import {
  ChunkEncoding,
  decodeReadRequest,
  encodeChunkedReadResponse,
  type ReadRequest,
} from "../src/codec/prompb.ts";
import { snappyDecode } from "../src/codec/snappy.ts";
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

const TYPES: MatchType[] = ["=", "!=", "=~", "!~"];

/** What the stand-in remote read saw. */
export interface ReadLog {
  requests: ReadRequest[];
  authorization: (string | null)[];
  contentEncoding: (string | null)[];
}

/**
 * Answers the page's POST /api/v1/read from `tenant`'s store as
 * STREAMED_XOR_CHUNKS: one frame per series holding the series' stored
 * chunks (untrimmed, as Prometheus sends them). Returns a log of requests.
 */
export async function serveChunkedRead(
  page: Page,
  tm: TestServer,
  tenant: string,
): Promise<ReadLog> {
  const log: ReadLog = { requests: [], authorization: [], contentEncoding: [] };
  await page.route("**/api/v1/read", async (route: Route) => {
    const req = route.request();
    const body = req.postDataBuffer();
    if (!body) return route.fulfill({ status: 400, body: "no body" });
    const decoded = decodeReadRequest(snappyDecode(body, 1 << 20));
    log.requests.push(decoded);
    log.authorization.push(await req.headerValue("authorization"));
    log.contentEncoding.push(await req.headerValue("content-encoding"));
    const frames: Uint8Array[] = [];
    decoded.queries.forEach((q, queryIndex) => {
      const querier = tm.server.db.querier(
        tenant,
        q.startTimestampMs,
        q.endTimestampMs,
      );
      try {
        const matchers = q.matchers.map((m) =>
          newMatcher(TYPES[m.type], m.name, m.value)
        );
        for (const s of querier.select(matchers)) {
          frames.push(encodeFrame(encodeChunkedReadResponse({
            queryIndex,
            chunkedSeries: [{
              labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
              chunks: s.chunks().map((c) => ({
                minTimeMs: c.minTime,
                maxTimeMs: c.maxTime,
                type: ChunkEncoding.XOR,
                data: c.data.slice(),
              })),
            }],
          })));
        }
      } finally {
        querier.close();
      }
    });
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.length;
    }
    await route.fulfill({
      status: 200,
      headers: {
        "content-type":
          "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse",
      },
      body: Buffer.from(all),
    });
  });
  return log;
}

/** Waits until the page finished a query (done or error). */
export async function waitForRun(page: Page): Promise<string> {
  await page.waitForFunction(() =>
    document.body.dataset.state === "done" ||
    document.body.dataset.state === "error"
  );
  return await page.evaluate(() => document.body.dataset.state ?? "");
}
