// Chunks produced by a real Prometheus (test/testdata/xor/golden.json, made
// by scripts/golden_xor.ts): our decoder must read them, and our encoder must
// reproduce them byte for byte from the samples they hold.
import assert from "node:assert/strict";
import { encodeChunks, loadEngine, XorDecoder } from "../src/bindings/mod.ts";
import { decodeChunk } from "../src/reference/xor.ts";

interface GoldenChunk {
  min_time_ms: string;
  max_time_ms: string;
  type: number;
  data: string;
}
interface GoldenSeries {
  name: string;
  samples: [string, string][];
  chunks: GoldenChunk[];
}

const golden = JSON.parse(
  await Deno.readTextFile(
    new URL("./testdata/xor/golden.json", import.meta.url),
  ),
) as { series: GoldenSeries[] };
const engine = await loadEngine();

function fromHex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}
function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
const bitsHex = (b: bigint) => b.toString(16).padStart(16, "0");

Deno.test("golden fixture covers the shapes it claims", () => {
  assert.ok(golden.series.length >= 10);
  const chunks = golden.series.flatMap((s) => s.chunks);
  assert.ok(chunks.length >= 30, `${chunks.length} chunks`);
  assert.ok(chunks.every((c) => c.type === 1), "all XOR chunks");
});

Deno.test("decoding Prometheus' chunks gives back the written samples", async (t) => {
  const dec = new XorDecoder(engine);
  for (const s of golden.series) {
    await t.step(s.name, () => {
      const got: [string, string][] = [];
      for (const c of s.chunks) {
        const bytes = fromHex(c.data);
        const n = dec.decodeExact(bytes);
        const ts = dec.exactTimestamps;
        const bits = dec.valueBits;
        for (let i = 0; i < n; i++) {
          got.push([ts[i].toString(), bitsHex(bits[i])]);
        }
        // Chunk metadata agrees with its content.
        assert.equal(ts[0].toString(), c.min_time_ms, "min_time_ms");
        assert.equal(ts[n - 1].toString(), c.max_time_ms, "max_time_ms");
        // The independent reference reads the same.
        const ref = decodeChunk(bytes);
        assert.deepEqual(
          ref.map((r) => [r.t.toString(), bitsHex(r.vbits)]),
          got.slice(got.length - n),
        );
      }
      assert.deepEqual(got, s.samples);
    });
  }
  dec.free();
});

Deno.test("encoding the samples reproduces Prometheus' chunk bytes", async (t) => {
  const dec = new XorDecoder(engine);
  for (const s of golden.series) {
    await t.step(s.name, () => {
      for (const c of s.chunks) {
        const bytes = fromHex(c.data);
        const n = dec.decodeExact(bytes);
        const ts = dec.exactTimestamps.slice();
        const values = new Float64Array(dec.valueBits.slice().buffer);
        const mine = encodeChunks(engine, ts, values, 0xffff);
        assert.equal(mine.length, 1);
        assert.equal(hex(mine[0]), c.data, `${s.name}: ${n} samples`);
      }
    });
  }
  dec.free();
});
