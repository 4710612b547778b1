/**
 * The raw-data path and its report: remote read as XOR chunks decoded in
 * engine.wasm, the same raw samples fetched as JSON, an exact comparison,
 * and the bytes each took. Falls back to JSON when the server has no
 * remote read (HTTP 404) and says so.
 * @module
 */
import type { ApiClient } from "./api.ts";
import type { Engine } from "../../bindings/engine.ts";
import { h } from "./dom.ts";
import { formatBytes } from "./format.ts";
import {
  compareRaw,
  type Comparison,
  type MatrixSeries,
  matrixToRaw,
} from "./raw_json.ts";
import {
  type RawSeries,
  remoteRead,
  type RemoteReadResult,
  RemoteReadUnavailable,
} from "./remote_read.ts";
import { jsonEquivalent, type RawRead } from "./selectors.ts";

/** What the raw path produced. */
export interface RawOutcome {
  /** Per read, its series: decoded from chunks, or from JSON on fallback. */
  series: RawSeries[][];
  chunked: RemoteReadResult | null;
  /** Why chunks were not used, when they were not. */
  fallback: string | null;
  jsonBytes: number;
  comparisons: Comparison[];
}

/** Fetches every read both ways and compares them. */
export async function runRawPath(
  api: ApiClient,
  engine: () => Promise<Engine>,
  reads: RawRead[],
): Promise<RawOutcome> {
  const json = await Promise.all(reads.map(async (r) => {
    const res = await api.prom<{ result: MatrixSeries[] }>("/api/v1/query", {
      query: jsonEquivalent(r),
      time: (r.end / 1000).toFixed(3),
    });
    return { raw: matrixToRaw(res.data.result), bytes: res.bytes };
  }));
  const jsonBytes = json.reduce((n, j) => n + j.bytes, 0);
  let chunked: RemoteReadResult | null = null;
  let fallback: string | null = null;
  try {
    chunked = await remoteRead(api, await engine(), reads);
  } catch (e) {
    if (!(e instanceof RemoteReadUnavailable)) throw e;
    fallback = `${e.message}: showing the JSON path only`;
  }
  const series = chunked ? chunked.results : json.map((j) => j.raw);
  const comparisons = chunked
    ? chunked.results.map((d, i) => compareRaw(d, json[i].raw))
    : [];
  return { series, chunked, fallback, jsonBytes, comparisons };
}

/** Renders the report into `host` (data-* attributes carry the numbers). */
export function renderRawReport(
  host: HTMLElement,
  o: RawOutcome,
  reads: RawRead[],
): void {
  const c = o.chunked;
  const equal = o.comparisons.every((x) => x.equal);
  host.dataset.path = c ? c.responseType : "json-fallback";
  host.dataset.samples = String(
    c?.samples ?? o.series.flat().reduce((n, s) => n + s.values.length, 0),
  );
  host.dataset.chunkBytes = String(c?.bytes ?? 0);
  host.dataset.jsonBytes = String(o.jsonBytes);
  host.dataset.match = c ? String(equal) : "n/a";
  const rows: [string, string][] = [
    ["Selectors read", reads.map((r) => r.text).join(", ")],
  ];
  if (c) {
    rows.push(
      [
        "Path",
        `remote read ${c.responseType}, decoded in the browser by engine.wasm`,
      ],
      [
        "Series / frames / chunks",
        `${c.results.flat().length} / ${c.frames} / ${c.chunks}`,
      ],
      ["Samples decoded", `${c.samples} in ${c.decodeMs.toFixed(1)} ms`],
      [
        "Bytes transferred",
        `${formatBytes(c.bytes)} as chunks vs ${
          formatBytes(o.jsonBytes)
        } as JSON` +
        (c.bytes > 0
          ? ` (${(o.jsonBytes / c.bytes).toFixed(1)}× smaller)`
          : ""),
      ],
      [
        "Check against the JSON API",
        equal
          ? `identical: ${
            o.comparisons.reduce((n, x) => n + x.samples, 0)
          } samples`
          : `DIFFERENT: ${o.comparisons.find((x) => !x.equal)?.difference}`,
      ],
    );
  } else {
    rows.push(
      ["Path", o.fallback ?? "JSON"],
      ["Bytes transferred", `${formatBytes(o.jsonBytes)} as JSON`],
    );
  }
  host.replaceChildren(
    h("h2", { id: "decode-heading" }, "Raw data path"),
    h(
      "dl",
      { class: "stats" },
      ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
  );
  host.classList.toggle("mismatch", c !== null && !equal);
  host.hidden = false;
}
