/**
 * The committed XOR golden vectors (test/testdata/xor/golden.json) against
 * a live Prometheus, and against themselves.
 */
import assert from "node:assert/strict";

const PROMETHEUS = "/usr/bin/prometheus";
const FIXTURE = new URL("./testdata/xor/golden.json", import.meta.url);
const SCRIPT = new URL("../scripts/golden_xor.ts", import.meta.url);

interface GoldenChunk {
  min_time_ms: string;
  max_time_ms: string;
  type: number;
  data: string;
}
interface GoldenSeries {
  name: string;
  labels: string[][];
  sample_count: number;
  chunk_count: number;
  samples: string[][];
  chunks: GoldenChunk[];
}
interface Golden {
  prometheus: { version: string };
  series: GoldenSeries[];
}

const load = (url: URL | string): Golden =>
  JSON.parse(Deno.readTextFileSync(url));

Deno.test("golden XOR: a live Prometheus regenerates byte-identical chunks", async () => {
  try {
    await Deno.stat(PROMETHEUS);
  } catch {
    throw new Error(
      `${PROMETHEUS} is missing: install Debian's prometheus package (apt-get install prometheus); ` +
        "CI installs it in .ci/run. This test does not skip without it.",
    );
  }
  const committed = load(FIXTURE);
  const dir = await Deno.makeTempDir({ prefix: "tidemark-golden-test-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT.pathname, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `scripts/golden_xor.ts failed:\n${log}`);
    const fresh = load(`${dir}/golden.json`);
    const why =
      `committed with Prometheus ${committed.prometheus.version}, regenerated with ${fresh.prometheus.version}`;
    assert.deepEqual(
      fresh.series.map((s) => s.name),
      committed.series.map((s) => s.name),
      why,
    );
    for (let i = 0; i < committed.series.length; i++) {
      const want = committed.series[i];
      const got = fresh.series[i];
      assert.deepEqual(got.labels, want.labels, `${want.name}: labels`);
      assert.deepEqual(
        got.samples,
        want.samples,
        `${want.name}: written samples changed (generator not deterministic?)`,
      );
      assert.deepEqual(
        got.chunks,
        want.chunks,
        `${want.name}: chunks differ (${why})`,
      );
    }
    // The raw streamed body is the same bytes as well.
    assert.deepEqual(
      Deno.readFileSync(`${dir}/remote_read_streamed.bin`),
      Deno.readFileSync(
        new URL("./testdata/xor/remote_read_streamed.bin", import.meta.url),
      ),
      "streamed remote-read body",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("golden XOR: the committed fixture is self-consistent", async (t) => {
  const golden = load(FIXTURE);
  assert.ok(golden.series.length >= 10, "fixture has its series");
  for (const s of golden.series) {
    await t.step(s.name, () => {
      assert.equal(s.samples.length, s.sample_count);
      assert.equal(s.chunks.length, s.chunk_count);
      const ts = s.samples.map(([t]) => BigInt(t));
      for (const [t, v] of s.samples) {
        assert.match(t, /^-?(0|[1-9][0-9]*)$/, "timestamp is a decimal string");
        assert.match(v, /^[0-9a-f]{16}$/, "value is 16 hex digits");
      }
      for (let i = 1; i < ts.length; i++) {
        assert.ok(ts[i] > ts[i - 1], `timestamps strictly increase at ${i}`);
      }
      let covered = 0;
      let prevMax: bigint | null = null;
      for (const c of s.chunks) {
        const min = BigInt(c.min_time_ms);
        const max = BigInt(c.max_time_ms);
        assert.equal(c.type, 1, "XOR chunk");
        assert.match(c.data, /^([0-9a-f]{2})+$/);
        assert.ok(c.data.length >= 4, "chunk holds its 2-byte header");
        assert.ok(min <= max);
        if (prevMax !== null) {
          assert.ok(min > prevMax, "chunks are ordered and disjoint");
        }
        prevMax = max;
        // Header: the chunk's sample count, big-endian uint16.
        const count = parseInt(c.data.slice(0, 4), 16);
        const inRange = ts.filter((t) => t >= min && t <= max);
        assert.equal(
          count,
          inRange.length,
          `chunk [${min}, ${max}] header vs written samples in range`,
        );
        assert.equal(inRange[0], min, "chunk starts at a written sample");
        assert.equal(
          inRange[inRange.length - 1],
          max,
          "chunk ends at a written sample",
        );
        covered += count;
      }
      assert.equal(
        covered,
        s.samples.length,
        "chunks cover every written sample exactly once",
      );
    });
  }
});
