/**
 * Sends remote write 1.0 bodies over HTTP keep-alive, one sequential sender
 * per shard (as Prometheus' queue manager does), and reports failures.
 * @module
 */

/** Outcome of sending a workload. */
export interface SendResult {
  requests: number;
  failed: number;
  firstError: string;
  seconds: number;
}

const HEADERS = {
  "Content-Type": "application/x-protobuf",
  "Content-Encoding": "snappy",
  "X-Prometheus-Remote-Write-Version": "0.1.0",
  "User-Agent": "tidemark-bench-compare",
};

/** Posts every shard's bodies to `url`, shards in parallel, each in order. */
export async function sendAll(
  url: string,
  bodies: Uint8Array<ArrayBuffer>[][],
): Promise<SendResult> {
  const out: SendResult = {
    requests: 0,
    failed: 0,
    firstError: "",
    seconds: 0,
  };
  const t0 = performance.now();
  await Promise.all(bodies.map(async (shard) => {
    for (const body of shard) {
      let ok = false;
      let why = "";
      // A dropped keep-alive connection is retried once, as a client would.
      for (let attempt = 0; attempt < 2 && !ok; attempt++) {
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: HEADERS,
            body,
          });
          const text = await res.text();
          ok = res.status >= 200 && res.status < 300;
          if (!ok) {
            why = `HTTP ${res.status}: ${text.slice(0, 300)}`;
            break; // a rejection is not retried
          }
        } catch (e) {
          why = String(e);
        }
      }
      out.requests++;
      if (!ok) {
        out.failed++;
        out.firstError ||= why;
      }
    }
  }));
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}
