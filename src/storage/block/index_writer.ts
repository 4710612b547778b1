/**
 * Builds an index file (docs/format/block.md): header, symbols, series,
 * series offsets, postings, each section followed by its CRC-32C, then the
 * table of contents.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import { compareStrings, type Labels } from "../../model/labels.ts";
import { ByteWriter } from "./bytes.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { BLOCK_FORMAT_VERSION, INDEX_MAGIC } from "./format.ts";

/** A series as the index holds it. */
export interface IndexSeries {
  labels: Labels;
  chunks: readonly ChunkRef[];
}

/**
 * Encodes the index of `series` (sorted by labels, unique) for a block
 * starting at `blockMinTime`. Chunks of a series must be in time order,
 * non-overlapping, with contiguous records in the chunks file.
 */
export function encodeIndex(
  series: readonly IndexSeries[],
  blockMinTime: number,
): Uint8Array {
  const symbolSet = new Set<string>();
  for (const s of series) {
    for (const l of s.labels) {
      symbolSet.add(l.name);
      symbolSet.add(l.value);
    }
  }
  const symbols = [...symbolSet].sort(compareStrings);
  const refOf = new Map(symbols.map((s, i) => [s, i]));

  const out = new ByteWriter(64 * 1024);
  out.u32be(INDEX_MAGIC);
  out.u8(BLOCK_FORMAT_VERSION);
  out.u8(0);
  out.u8(0);
  out.u8(0);
  const toc: number[] = [];
  const section = (payload: ByteWriter): void => {
    toc.push(out.length, payload.length);
    out.bytes(payload.view());
    out.u32be(crc32c(payload.view()));
  };

  // Symbols.
  const enc = new TextEncoder();
  const sym = new ByteWriter();
  sym.uvarint(symbols.length);
  for (const s of symbols) {
    const b = enc.encode(s);
    sym.uvarint(b.length);
    sym.bytes(b);
  }
  section(sym);

  // Series, and where each starts.
  const ser = new ByteWriter(64 * 1024);
  const offsets = new ByteWriter(4 * series.length + 8);
  ser.uvarint(series.length);
  offsets.uvarint(series.length);
  for (const s of series) {
    if (ser.length > 0xffffffff) {
      throw new RangeError("series section exceeds 4 GiB");
    }
    offsets.u32be(ser.length);
    ser.uvarint(s.labels.length);
    for (const l of s.labels) {
      ser.uvarint(refOf.get(l.name)!);
      ser.uvarint(refOf.get(l.value)!);
    }
    ser.uvarint(s.chunks.length);
    if (s.chunks.length === 0) continue;
    ser.uvarint(s.chunks[0].offset);
    let prevMax = 0;
    s.chunks.forEach((c, k) => {
      ser.uvarint(k === 0 ? c.minTime - blockMinTime : c.minTime - prevMax - 1);
      ser.uvarint(c.maxTime - c.minTime);
      ser.uvarint(c.length);
      prevMax = c.maxTime;
    });
  }
  section(ser);
  section(offsets);

  // Postings: name → value → series ids, all sorted.
  const byName = new Map<string, Map<string, number[]>>();
  series.forEach((s, id) => {
    for (const l of s.labels) {
      let values = byName.get(l.name);
      if (!values) byName.set(l.name, values = new Map());
      const ids = values.get(l.value);
      if (ids) ids.push(id);
      else values.set(l.value, [id]);
    }
  });
  const post = new ByteWriter(64 * 1024);
  const names = [...byName.keys()].sort(compareStrings);
  post.uvarint(names.length);
  for (const name of names) {
    const values = byName.get(name)!;
    post.uvarint(refOf.get(name)!);
    post.uvarint(values.size);
    for (const value of [...values.keys()].sort(compareStrings)) {
      const ids = values.get(value)!;
      post.uvarint(refOf.get(value)!);
      post.uvarint(ids.length);
      let prev = -1;
      for (const id of ids) {
        post.uvarint(id - prev - 1);
        prev = id;
      }
    }
  }
  section(post);

  // Table of contents.
  const tocStart = out.length;
  for (const x of toc) out.u64be(x);
  out.u32be(crc32c(out.view().subarray(tocStart)));
  return out.view().slice();
}
