/**
 * Generates golden XOR chunk vectors with a real Prometheus.
 *
 *   deno run -A scripts/golden_xor.ts [outDir]   (default test/testdata/xor)
 *
 * Starts /usr/bin/prometheus on a free loopback port with an empty TSDB and
 * the remote-write receiver on, remote-writes a fixed set of seeded series,
 * reads them back with remote read (STREAMED_XOR_CHUNKS, and SAMPLES as a
 * cross-check), probes what Prometheus accepts, and writes golden.json.
 * Prometheus is killed at the end and on any error.
 * @module
 */

import {
  snappyDecode,
  snappyElementCounts,
  snappyEncode,
} from "../src/codec/snappy.ts";
import {
  type ChunkedSeries,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  encodeWriteRequest,
  type Label,
  MatcherType,
  ResponseType,
  type TimeSeries,
} from "../src/codec/prompb.ts";
import {
  readFrames,
  STREAMED_CHUNKS_CONTENT_TYPE,
} from "../src/codec/chunked_stream.ts";
import { Prng } from "../src/util/prng.ts";

const PROMETHEUS = "/usr/bin/prometheus";
const SEED = 0x60_1d_e7; // "golden"
/** Realistic epoch base (2023-11-14), so first-timestamp varints are full size. */
const BASE = 1_700_000_000_000;
const MAX_BODY = 256 << 20;

/** One sample as written: exact int64 ms and exact float64 bits. */
interface GoldenSample {
  t: number;
  bits: bigint;
}

/** A series case: its name and the samples written for it. */
interface Case {
  name: string;
  description: string;
  samples: GoldenSample[];
}

// ------------------------------------------------------------------ series

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function bitsOf(v: number): bigint {
  f64[0] = v;
  return u64[0];
}

/** Special float64 bit patterns, written as bits so no JS number touches them. */
const SPECIAL: Array<[string, bigint]> = [
  ["+0", 0x0000000000000000n],
  ["-0", 0x8000000000000000n],
  ["+Inf", 0x7ff0000000000000n],
  ["-Inf", 0xfff0000000000000n],
  ["NaN (Go math.NaN)", 0x7ff8000000000001n],
  ["NaN quiet, payload", 0x7ff8deadbeef1234n],
  ["NaN negative, payload", 0xfffc0000000abcden],
  ["NaN signalling, payload", 0x7ff4000000000005n],
  ["stale marker", 0x7ff0000000000002n],
  ["min subnormal", 0x0000000000000001n],
  ["max subnormal", 0x000fffffffffffffn],
  ["-min subnormal", 0x8000000000000001n],
  ["min normal", 0x0010000000000000n],
  ["MAX_VALUE", 0x7fefffffffffffffn],
  ["-MAX_VALUE", 0xffefffffffffffffn],
  ["1.0", 0x3ff0000000000000n],
  ["-1.0", 0xbff0000000000000n],
  ["pi", 0x400921fb54442d18n],
  ["2^-1074 * 3", 0x0000000000000003n],
  ["all mantissa bits", 0x3fffffffffffffffn],
];

function buildCases(): Case[] {
  const rng = new Prng(SEED);
  const cases: Case[] = [];
  const add = (name: string, description: string, samples: GoldenSample[]) =>
    cases.push({ name, description, samples });

  // First: the earliest samples of the whole request, so Prometheus' head
  // (which accepts samples down to 1h before the first one it sees) takes
  // everything that follows in the same request.
  {
    const s: GoldenSample[] = [];
    for (let t = -10_800_000; t <= 3_600_000; t += 60_000) {
      s.push({ t, bits: bitsOf(t / 60_000) });
    }
    add(
      "negative_ts",
      "timestamps from -3h to +1h around the epoch, 60 s apart",
      s,
    );
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 300; i++) {
      s.push({ t: BASE + i * 15_000, bits: bitsOf(42) });
    }
    add("constant", "300 samples of 42.0 every 15 s", s);
  }
  {
    const s: GoldenSample[] = [];
    let v = 0;
    for (let i = 0; i < 500; i++) {
      if (i === 200) v = 3; // counter reset
      else v += rng.int(0, 20);
      s.push({ t: BASE + i * 15_000, bits: bitsOf(v) });
    }
    add("counter_reset", "15 s integer counter, reset to 3 at sample 200", s);
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 400; i++) {
      const t = BASE + i * 15_000 + rng.int(-700, 700);
      s.push({ t, bits: bitsOf(Math.round(rng.normal() * 1000) / 10) });
    }
    add(
      "jitter",
      "15 s period with ±700 ms timestamp jitter, one-decimal gauge",
      s,
    );
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 250; i++) {
      const mag = 10 ** rng.int(-12, 12);
      s.push({ t: BASE + i * 10_000, bits: bitsOf(rng.normal() * mag) });
    }
    add(
      "random_floats",
      "full-precision normal floats over 24 decades, 10 s",
      s,
    );
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 120; i++) {
      let bits = rng.i64() & 0xffffffffffffffffn;
      bits = BigInt.asUintN(64, bits);
      // Keep them finite: force the exponent below all ones.
      if (((bits >> 52n) & 0x7ffn) === 0x7ffn) bits ^= 0x0010000000000000n;
      s.push({ t: BASE + i * 10_000, bits });
    }
    add("random_bits", "uniformly random finite float64 bit patterns, 10 s", s);
  }
  {
    const s: GoldenSample[] = [];
    let v = 100;
    for (let i = 0; i < 1500; i++) {
      v += rng.normal() * 0.25;
      s.push({ t: BASE + i * 15_000, bits: bitsOf(v) });
    }
    add(
      "random_walk",
      "1500-sample random walk every 15 s (6.25 h, many chunks)",
      s,
    );
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < SPECIAL.length * 2; i++) {
      s.push({ t: BASE + i * 30_000, bits: SPECIAL[i % SPECIAL.length][1] });
    }
    add("special_values", "every special bit pattern twice, 30 s apart", s);
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 40; i++) {
      const stale = i === 10 || i === 11 || i === 25;
      s.push({
        t: BASE + i * 15_000,
        bits: stale ? 0x7ff0000000000002n : bitsOf(i * 1.5),
      });
    }
    add("stale_marker", "gauge interrupted by Prometheus stale markers", s);
  }
  {
    // Deltas of hours and days: each one crosses a 2 h chunk boundary.
    const deltas = [
      15_000,
      15_000,
      3 * 3_600_000,
      15_000,
      15_000,
      2 * 86_400_000,
      1,
      1,
      7 * 86_400_000 + 123,
      15_000,
      5 * 3_600_000 + 7,
      15_000,
      15_000,
    ];
    const s: GoldenSample[] = [];
    let t = BASE;
    s.push({ t, bits: bitsOf(0) });
    deltas.forEach((d, i) => {
      t += d;
      s.push({ t, bits: bitsOf(i + 1) });
    });
    add(
      "large_deltas",
      "gaps of 3 h, 5 h, 2 d, 7 d between 15 s and 1 ms steps",
      s,
    );
  }
  {
    // Delta-of-delta at both ends of the 14- and 17-bit buckets and just past.
    const dods = [
      0,
      0,
      8192,
      -8192,
      8193,
      -8193,
      -8191,
      8191,
      -8192,
      8192,
      65536,
      -65536,
      65537,
      -65537,
      -65535,
      65535,
      -65536,
      65536,
      1,
      -1,
      0,
    ];
    add(
      "dod_small",
      "delta-of-deltas at the 14/17-bit bucket edges (base step 100 s)",
      fromDods(BASE, 100_000, dods, rng),
    );
  }
  {
    // 20-bit bucket edges and 64-bit (over ±2^19) within one 2 h chunk.
    const dods = [
      524288,
      -524288,
      524289,
      -524289,
      -524287,
      524287,
      -524288,
      524288,
      0,
      3_000_000,
      -3_000_000,
      -524_300 - 0,
      524_300,
    ];
    add(
      "dod_large",
      "delta-of-deltas at the 20-bit edges and past it (base step 600 s)",
      fromDods(BASE + 86_400_000, 600_000, dods, rng),
    );
  }
  {
    const s: GoldenSample[] = [];
    for (let i = 0; i < 2000; i++) {
      s.push({
        t: BASE + i * 1_000 + (i % 7 === 0 ? 1 : 0),
        bits: bitsOf(i % 100 === 0 ? rng.normal() : i),
      });
    }
    add(
      "dense_1s",
      "2000 samples at 1 s with an occasional 1 ms wobble (120-sample cuts)",
      s,
    );
  }
  add("short_1", "a single sample", [{ t: BASE + 1234, bits: bitsOf(1.5) }]);
  add("short_2", "two samples", [{ t: BASE + 1234, bits: bitsOf(1.5) }, {
    t: BASE + 16_234,
    bits: bitsOf(-2.25),
  }]);
  add("short_3", "three samples", [
    { t: BASE + 1234, bits: bitsOf(1.5) },
    { t: BASE + 16_234, bits: bitsOf(-2.25) },
    { t: BASE + 31_235, bits: bitsOf(1e300) },
  ]);
  return cases;
}

function fromDods(
  start: number,
  step: number,
  dods: number[],
  rng: Prng,
): GoldenSample[] {
  const s: GoldenSample[] = [{ t: start, bits: bitsOf(rng.normal()) }];
  let t = start + step;
  let d = step;
  s.push({ t, bits: bitsOf(rng.normal()) });
  for (const dod of dods) {
    d += dod;
    if (d <= 0) throw new Error(`dod sequence made a non-positive delta ${d}`);
    t += d;
    s.push({ t, bits: bitsOf(rng.normal()) });
  }
  return s;
}

function labelsFor(c: Case): Label[] {
  // Sorted by name, as Prometheus keeps them.
  return [
    { name: "__name__", value: "golden_" + c.name },
    { name: "case", value: c.name },
    { name: "job", value: "golden" },
  ];
}

function toSeries(labels: Label[], samples: GoldenSample[]): TimeSeries {
  const bits = new BigUint64Array(samples.map((s) => s.bits));
  return {
    labels,
    timestamps: new Float64Array(samples.map((s) => s.t)),
    values: new Float64Array(bits.buffer),
  };
}

// -------------------------------------------------------------- prometheus

interface Running {
  url: string;
  child: Deno.ChildProcess;
  dir: string;
  log: () => string;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function startPrometheus(): Promise<Running> {
  try {
    await Deno.stat(PROMETHEUS);
  } catch {
    throw new Error(
      `${PROMETHEUS} not found: install Debian's prometheus package (apt-get install prometheus)`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "tidemark-golden-" });
  const config = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(
    config,
    "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n",
  );
  const port = freePort();
  const child = new Deno.Command(PROMETHEUS, {
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
      "--storage.tsdb.retention.time=100y",
      "--log.level=warn",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  (async () => {
    const dec = new TextDecoder();
    for await (const b of child.stderr) {
      if (log.length < 1 << 20) log += dec.decode(b);
    }
  })().catch(() => {});
  const running = {
    url: `http://127.0.0.1:${port}`,
    child,
    dir,
    log: () => log,
  };
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (true) {
    if (exited) throw new Error(`prometheus exited during startup:\n${log}`);
    try {
      const res = await fetch(`${running.url}/-/ready`);
      await res.body?.cancel();
      if (res.status === 200) return running;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stopPrometheus(running);
      throw new Error(`prometheus not ready after 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopPrometheus(p: Running): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* already gone */ }
  const timer = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, 10_000);
  await p.child.status;
  clearTimeout(timer);
  await Deno.remove(p.dir, { recursive: true }).catch(() => {});
}

async function remoteWrite(
  url: string,
  series: TimeSeries[],
): Promise<
  {
    status: number;
    body: string;
    elements: ReturnType<typeof snappyElementCounts>;
  }
> {
  const body = snappyEncode(encodeWriteRequest({ timeseries: series }));
  const res = await fetch(`${url}/api/v1/write`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-protobuf",
      "Content-Encoding": "snappy",
      "X-Prometheus-Remote-Write-Version": "0.1.0",
    },
    body,
  });
  return {
    status: res.status,
    body: (await res.text()).trim(),
    elements: snappyElementCounts(body),
  };
}

function readRequestBody(
  start: number,
  end: number,
  nameRegex: string,
  type: number,
): Uint8Array<ArrayBuffer> {
  return snappyEncode(encodeReadRequest({
    queries: [{
      startTimestampMs: start,
      endTimestampMs: end,
      matchers: [{ type: MatcherType.RE, name: "__name__", value: nameRegex }],
    }],
    acceptedResponseTypes: [type],
  }));
}

async function postRead(
  url: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<Response> {
  return await fetch(`${url}/api/v1/read`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-protobuf",
      "Content-Encoding": "snappy",
      "X-Prometheus-Remote-Read-Version": "0.1.0",
    },
    body,
  });
}

async function readChunks(
  url: string,
  start: number,
  end: number,
  nameRegex: string,
): Promise<{ series: ChunkedSeries[]; body: Uint8Array }> {
  const res = await postRead(
    url,
    readRequestBody(start, end, nameRegex, ResponseType.STREAMED_XOR_CHUNKS),
  );
  if (res.status !== 200) {
    throw new Error(`remote read: HTTP ${res.status}: ${await res.text()}`);
  }
  const type = res.headers.get("content-type");
  if (type !== STREAMED_CHUNKS_CONTENT_TYPE) {
    await res.body?.cancel();
    throw new Error(
      `remote read answered Content-Type ${type}, expected ${STREAMED_CHUNKS_CONTENT_TYPE}`,
    );
  }
  const body = new Uint8Array(await res.arrayBuffer());
  // Feed the frame reader in uneven pieces, as a network would.
  const pieces = new ReadableStream<Uint8Array>({
    start(controller) {
      for (
        let at = 0, k = 1;
        at < body.length;
        at += k, k = (k * 7 + 3) % 4093 + 1
      ) {
        controller.enqueue(body.subarray(at, at + k));
      }
      controller.close();
    },
  });
  // Frames may split one series; consecutive frames of the same series merge.
  const out: ChunkedSeries[] = [];
  let lastKey = "";
  for await (const msg of readFrames(pieces, MAX_BODY)) {
    const frame = decodeChunkedReadResponse(msg);
    if (frame.queryIndex !== 0) {
      throw new Error(`unexpected query_index ${frame.queryIndex}`);
    }
    for (const cs of frame.chunkedSeries) {
      const key = JSON.stringify(cs.labels);
      if (key === lastKey) out[out.length - 1].chunks.push(...cs.chunks);
      else out.push({ labels: cs.labels, chunks: [...cs.chunks] });
      lastKey = key;
    }
  }
  return { series: out, body };
}

async function readSamples(
  url: string,
  start: number,
  end: number,
  nameRegex: string,
): Promise<
  {
    series: TimeSeries[];
    contentType: string | null;
    body: Uint8Array;
    elements: ReturnType<typeof snappyElementCounts>;
  }
> {
  const res = await postRead(
    url,
    readRequestBody(start, end, nameRegex, ResponseType.SAMPLES),
  );
  if (res.status !== 200) {
    throw new Error(
      `remote read (SAMPLES): HTTP ${res.status}: ${await res.text()}`,
    );
  }
  const raw = new Uint8Array(await res.arrayBuffer());
  const decoded = decodeReadResponse(snappyDecode(raw, MAX_BODY));
  return {
    series: decoded.results[0]?.timeseries ?? [],
    contentType: res.headers.get("content-type"),
    body: raw,
    elements: snappyElementCounts(raw),
  };
}

// ------------------------------------------------------------------ checks

const XOR_BUCKETS = [
  ["0", (d: number) => d === 0],
  ["14-bit", (d: number) => d >= -8191 && d <= 8192],
  ["17-bit", (d: number) => d >= -65535 && d <= 65536],
  ["20-bit", (d: number) => d >= -524287 && d <= 524288],
  ["64-bit", () => true],
] as const;

/** Counts, over every chunk, the delta-of-delta bucket of samples 3.. of the chunk. */
function dodCoverage(
  samples: GoldenSample[],
  chunks: Array<{ min: number; max: number }>,
): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(
    XOR_BUCKETS.map(([n]) => [n, 0]),
  );
  for (const c of chunks) {
    const ts = samples.filter((s) => s.t >= c.min && s.t <= c.max).map((s) =>
      s.t
    );
    for (let i = 2; i < ts.length; i++) {
      const dod = (ts[i] - ts[i - 1]) - (ts[i - 1] - ts[i - 2]);
      const bucket = XOR_BUCKETS.find(([, f]) => f(dod))!;
      counts[bucket[0]]++;
    }
  }
  return counts;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bitsHex(b: bigint): string {
  return b.toString(16).padStart(16, "0");
}

function valueBits(values: Float64Array): bigint[] {
  return Array.from(
    new BigUint64Array(values.buffer, values.byteOffset, values.length),
  );
}

// ------------------------------------------------------------------ probes

interface Probe {
  name: string;
  what: string;
  status: number;
  response: string;
  conclusion: string;
}

async function runProbes(url: string, headMax: number): Promise<Probe[]> {
  const probes: Probe[] = [];
  const lab = (
    n: string,
  ): Label[] => [{ name: "__name__", value: "probe_" + n }];
  const one = (n: string, t: number, bits: bigint) =>
    toSeries(lab(n), [{ t, bits }]);
  const record = async (
    name: string,
    what: string,
    series: TimeSeries[],
    judge: (status: number) => string,
  ) => {
    const r = await remoteWrite(url, series);
    probes.push({
      name,
      what,
      status: r.status,
      response: r.body.slice(0, 300),
      conclusion: judge(r.status),
    });
  };
  const ok = (s: number) => s >= 200 && s < 300;
  const t = headMax;

  await record("in_order", "sample at the newest head time", [
    one("ooo", t, bitsOf(1)),
  ], (s) => ok(s) ? "accepted" : "rejected");
  await record("out_of_order", "older sample (t-1000) on the same series", [
    one("ooo", t - 1000, bitsOf(2)),
  ], (s) => ok(s) ? "accepted" : "rejected (out of order)");
  await record("duplicate_same_value", "same timestamp, same value bits", [
    one("ooo", t, bitsOf(1)),
  ], (s) => ok(s) ? "accepted (silently deduplicated)" : "rejected");
  await record("duplicate_other_value", "same timestamp, different value", [
    one("ooo", t, bitsOf(3)),
  ], (s) => ok(s) ? "accepted" : "rejected (duplicate sample for timestamp)");
  await record(
    "duplicate_nan_bits",
    "same timestamp, value NaN vs other NaN payload",
    [one("nan_dup", t, 0x7ff8000000000001n)],
    (s) => ok(s) ? "accepted" : "rejected",
  );
  await record(
    "duplicate_nan_bits_2",
    "…then the same timestamp with a different NaN payload",
    [one("nan_dup", t, 0x7ff8000000000002n)],
    (s) => ok(s) ? "accepted" : "rejected (bits compared, not values)",
  );
  await record(
    "too_old",
    "new series 3 h before the head's newest sample",
    [one("old", t - 3 * 3_600_000, bitsOf(1))],
    (s) =>
      ok(s) ? "accepted" : "rejected (out of bounds: older than head max - 1h)",
  );
  await record(
    "within_hour",
    "new series 59 min before the head's newest sample",
    [one("recent", t - 59 * 60_000, bitsOf(1))],
    (s) => ok(s) ? "accepted" : "rejected",
  );
  await record(
    "mixed_batch",
    "one request: a valid new series plus one out-of-order sample",
    [
      one("batch_valid", t, bitsOf(1)),
      one("ooo", t - 5000, bitsOf(9)),
    ],
    (s) => ok(s) ? "accepted" : "rejected as a whole",
  );
  await record("no_name", "series without __name__", [
    toSeries([{ name: "job", value: "x" }], [{ t, bits: bitsOf(1) }]),
  ], (s) => ok(s) ? "accepted" : "rejected");
  await record("empty_series", "series with labels and no samples", [
    toSeries(lab("empty"), []),
  ], (s) => ok(s) ? "accepted (no-op)" : "rejected");
  return probes;
}

/** Waits until the TSDB directory holds at least one persisted block. */
async function waitForBlocks(
  dataDir: string,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    let n = 0;
    for await (const e of Deno.readDir(dataDir)) {
      if (e.isDirectory && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.name)) n++;
    }
    if (n > 0 || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ------------------------------------------------------------------ output

function renderJson(
  doc: Record<string, unknown>,
  cases: Array<Record<string, unknown>>,
): string {
  // Pretty at the top, one sample or chunk per line: diffable and compact.
  const lines: string[] = ["{"];
  for (const [k, v] of Object.entries(doc)) {
    lines.push(
      `  ${JSON.stringify(k)}: ${
        JSON.stringify(v, null, 2).replaceAll("\n", "\n  ")
      },`,
    );
  }
  lines.push('  "series": [');
  cases.forEach((c, ci) => {
    lines.push("    {");
    const entries = Object.entries(c);
    entries.forEach(([k, v], ei) => {
      const comma = ei < entries.length - 1 ? "," : "";
      if (Array.isArray(v) && (k === "samples" || k === "chunks")) {
        lines.push(`      ${JSON.stringify(k)}: [`);
        v.forEach((item, ii) =>
          lines.push(
            `        ${JSON.stringify(item)}${ii < v.length - 1 ? "," : ""}`,
          )
        );
        lines.push(`      ]${comma}`);
      } else {
        lines.push(`      ${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}`);
      }
    });
    lines.push(`    }${ci < cases.length - 1 ? "," : ""}`);
  });
  lines.push("  ]", "}");
  return lines.join("\n") + "\n";
}

async function main(outDir: string): Promise<void> {
  const cases = buildCases();
  const all = cases.flatMap((c) => c.samples.map((s) => s.t));
  const minT = Math.min(...all);
  const maxT = Math.max(...all);
  const prom = await startPrometheus();
  const stop = () => stopPrometheus(prom);
  const onSignal = () => {
    stop().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const info = await (await fetch(`${prom.url}/api/v1/status/buildinfo`))
      .json();
    const written = await remoteWrite(
      prom.url,
      cases.map((c) => toSeries(labelsFor(c), c.samples)),
    );
    if (written.status !== 204 && written.status !== 200) {
      throw new Error(
        `remote write refused the golden series: HTTP ${written.status}: ${written.body}\n${prom.log()}`,
      );
    }
    // The query covers every sample, so Prometheus returns chunks untrimmed.
    const { series: chunked, body: streamedBody } = await readChunks(
      prom.url,
      minT - 1,
      maxT + 1,
      "golden_.+",
    );
    const sampled = await readSamples(
      prom.url,
      minT - 1,
      maxT + 1,
      "golden_.+",
    );
    const notes: string[] = [];
    const out: Array<Record<string, unknown>> = [];
    for (const c of cases) {
      const labels = labelsFor(c);
      const key = JSON.stringify(labels);
      const got = chunked.find((s) => JSON.stringify(s.labels) === key);
      if (!got) {
        throw new Error(`series ${c.name} missing from the chunked read`);
      }
      const chunks = got.chunks.map((k) => ({
        min_time_ms: String(k.minTimeMs),
        max_time_ms: String(k.maxTimeMs),
        type: k.type,
        data: hex(k.data),
      }));
      // Self-check: chunk headers count exactly the written samples.
      let total = 0;
      for (const k of got.chunks) {
        const n = (k.data[0] << 8) | k.data[1];
        const inRange = c.samples.filter((s) =>
          s.t >= k.minTimeMs && s.t <= k.maxTimeMs
        ).length;
        if (n !== inRange) {
          throw new Error(
            `${c.name}: chunk [${k.minTimeMs}, ${k.maxTimeMs}] header says ${n} samples, ${inRange} written in range`,
          );
        }
        total += n;
      }
      if (total !== c.samples.length) {
        throw new Error(
          `${c.name}: chunks hold ${total} samples, ${c.samples.length} written`,
        );
      }
      // Cross-check the SAMPLES path (Prometheus' own Snappy, our decoder).
      const back = sampled.series.find((s) => JSON.stringify(s.labels) === key);
      const diffs: string[] = [];
      if (!back) diffs.push("series absent from the SAMPLES read");
      else {
        const bb = valueBits(back.values);
        if (back.timestamps.length !== c.samples.length) {
          diffs.push(
            `${back.timestamps.length} samples back, ${c.samples.length} written`,
          );
        }
        for (
          let i = 0;
          i < Math.min(back.timestamps.length, c.samples.length);
          i++
        ) {
          if (
            back.timestamps[i] !== c.samples[i].t || bb[i] !== c.samples[i].bits
          ) {
            diffs.push(
              `#${i}: wrote ${c.samples[i].t}/${
                bitsHex(c.samples[i].bits)
              }, SAMPLES read gave ${back.timestamps[i]}/${bitsHex(bb[i])}`,
            );
          }
        }
      }
      if (diffs.length > 0) {
        notes.push(`${c.name}: SAMPLES read-back differs: ${diffs.join("; ")}`);
      }
      const entry: Record<string, unknown> = {
        name: c.name,
        description: c.description,
        labels: labels.map((l) => [l.name, l.value]),
        sample_count: c.samples.length,
        chunk_count: chunks.length,
      };
      if (c.name.startsWith("dod_")) {
        entry.dod_buckets = dodCoverage(
          c.samples,
          got.chunks.map((k) => ({ min: k.minTimeMs, max: k.maxTimeMs })),
        );
      }
      entry.samples = c.samples.map((s) => [String(s.t), bitsHex(s.bits)]);
      entry.chunks = chunks;
      out.push(entry);
    }
    if (chunked.length !== cases.length) {
      notes.push(
        `chunked read returned ${chunked.length} series for ${cases.length} written`,
      );
    }

    // Snappy interop the other way round too: a body with 4-byte offsets.
    const filler = new Prng(SEED ^ 0x5a5a).u32().toString(16);
    let longValue = "";
    const prng = new Prng(SEED + 1);
    while (longValue.length < 70_000) longValue += prng.u32().toString(36);
    longValue = filler + longValue + "|" + longValue;
    const copy4 = await remoteWrite(prom.url, [
      toSeries([{ name: "__name__", value: "probe_snappy_copy4" }, {
        name: "blob",
        value: longValue,
      }], [{ t: maxT, bits: bitsOf(1) }]),
    ]);
    // Read back until visible: on a loaded machine the first read has been
    // seen to come back empty right after the 204.
    let copy4Back = await readSamples(
      prom.url,
      maxT - 1,
      maxT + 1,
      "probe_snappy_copy4",
    );
    for (let i = 0; i < 50 && copy4Back.series.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      copy4Back = await readSamples(
        prom.url,
        maxT - 1,
        maxT + 1,
        "probe_snappy_copy4",
      );
    }
    const blobBack = copy4Back.series[0]?.labels.find((l) => l.name === "blob")
      ?.value;
    const snappyInterop = {
      write_request_bytes: written.elements,
      copy4_request: {
        status: copy4.status,
        elements: copy4.elements,
        label_round_trip: blobBack === longValue,
      },
      samples_response: {
        content_type: sampled.contentType,
        compressed_bytes: sampled.body.length,
        elements: sampled.elements,
      },
    };
    if (
      copy4.status !== 204 || blobBack !== longValue ||
      copy4.elements.copy4 === 0
    ) {
      throw new Error(
        `snappy copy-4 interop failed: ${
          JSON.stringify(snappyInterop.copy4_request)
        }`,
      );
    }

    // What a query range that cuts through chunks returns.
    const rangeStart = BASE + 3_600_000;
    const rangeEnd = BASE + 2 * 3_600_000;
    const { series: narrow } = await readChunks(
      prom.url,
      rangeStart,
      rangeEnd,
      "golden_random_walk",
    );
    const walk = cases.find((c) => c.name === "random_walk")!;
    const rangeProbe = {
      series: "random_walk",
      start_timestamp_ms: String(rangeStart),
      end_timestamp_ms: String(rangeEnd),
      samples_in_range: walk.samples.filter((x) =>
        x.t >= rangeStart && x.t <= rangeEnd
      ).length,
      chunks: (narrow[0]?.chunks ?? []).map((k) => ({
        min_time_ms: String(k.minTimeMs),
        max_time_ms: String(k.maxTimeMs),
        header_count: (k.data[0] << 8) | k.data[1],
        identical_to_full_read_chunk: out.some((e) =>
          (e.chunks as Array<{ data: string }>).some((g) =>
            g.data === hex(k.data)
          )
        ),
      })),
    };

    const probes = await runProbes(prom.url, maxT);

    // The head spans far more than 3 h, so Prometheus compacts it into
    // blocks shortly after the write. Read again once blocks exist: the
    // chunks must be the same bytes whether served from head or blocks.
    const blocks = await waitForBlocks(`${prom.dir}/data`, 30_000);
    const { series: again } = await readChunks(
      prom.url,
      minT - 1,
      maxT + 1,
      "golden_.+",
    );
    const same = JSON.stringify(
      again.map((
        s,
      ) => [
        s.labels,
        s.chunks.map((k) => [k.minTimeMs, k.maxTimeMs, k.type, hex(k.data)]),
      ]),
    ) ===
      JSON.stringify(
        chunked.map((
          s,
        ) => [
          s.labels,
          s.chunks.map((
            k,
          ) => [k.minTimeMs, k.maxTimeMs, k.type, hex(k.data)]),
        ]),
      );
    if (!same) {
      throw new Error(
        `chunks read after compaction into ${blocks} blocks differ from the first read`,
      );
    }
    const doc = {
      format: "tidemark-xor-golden/1",
      generator: "deno run -A scripts/golden_xor.ts",
      seed: SEED,
      prometheus: info.data,
      layout:
        "samples: [timestamp ms as decimal string, float64 bits as 16 hex digits]; chunks: prompb.Chunk as returned by remote read STREAMED_XOR_CHUNKS, data as hex (type 1 = XOR); first 2 bytes of data = big-endian sample count",
      query: {
        start_timestamp_ms: String(minT - 1),
        end_timestamp_ms: String(maxT + 1),
        matcher: '__name__=~"golden_.+"',
      },
      notes,
      snappy_interop: snappyInterop,
      probes,
      range_read_probe: rangeProbe,
      compaction_check: {
        blocks_present: blocks > 0,
        chunks_identical_after_compaction: same,
      },
    };
    await Deno.mkdir(outDir, { recursive: true });
    await Deno.writeTextFile(`${outDir}/golden.json`, renderJson(doc, out));
    // Raw response bodies, for offline interop tests of the frame reader and
    // of the Snappy decoder against Prometheus' own encoder.
    await Deno.writeFile(`${outDir}/remote_read_streamed.bin`, streamedBody);
    await Deno.writeFile(`${outDir}/remote_read_samples.snappy`, sampled.body);
    console.log(
      `wrote ${outDir}/golden.json: ${out.length} series, ${
        out.reduce((a, c) => a + (c.chunk_count as number), 0)
      } chunks (Prometheus ${info.data?.version})`,
    );
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await stop();
  }
}

if (import.meta.main) {
  await main(Deno.args[0] ?? "test/testdata/xor");
}
