// The deterministic content of crash-test batch number b: a few series,
// each with a few samples at times derived from b, values from b.
export interface BatchSeries {
  labels: Record<string, string>;
  ts: number[];
  values: Float64Array;
}

export function batchSamples(b: number): BatchSeries[] {
  const out: BatchSeries[] = [];
  for (let k = 0; k < 5; k++) {
    const series = (b * 7 + k) % 40;
    // A minute per batch: a few hundred batches span hours, so the writer's
    // maintenance persists blocks and truncates the WAL while being killed.
    const ts = [0, 1, 2].map((j) => 1_700_000_000_000 + b * 60_000 + j * 10);
    const values = new Float64Array([b + k, b * 0.5 + k, series]);
    out.push({
      labels: { __name__: "crash_test", series: String(series), k: String(k) },
      ts,
      values,
    });
  }
  return out;
}
