// The prometheus.WriteRequest walk (remote write 1.0), mirroring
// src/ingest/remote_write_decode.ts field by field: per TimeSeries the
// range of its label bytes and their cache id, its samples into columnar
// f64 timestamp/value buffers (values copied as 8 raw bytes, bit-exact),
// counts of exemplars and histograms, and the ranges of metadata messages
// (decoded in JavaScript). Any structure error fails the whole request.
//
// Output columns live in module-owned buffers that grow as needed; the
// caller's `out` block (OUT_SIZE bytes, i32 words) says where they are:
//   0 series  1 samples  2 exemplars  3 histograms  4 metadata  5 misses
//   6 series ptr  7 timestamps ptr  8 values ptr  9 metadata ptr
//   10 offset of the top-level field where the walk failed
// A series record is 4 i32: id (>= 0 cached, -1 miss, -2 labels not
// contiguous: range is the whole series, -3 no labels), label start,
// label end (offsets from the request start), first sample index.
// A metadata record is 2 i32: message start and end offsets.

import { ERR_CORRUPT, ERR_TRUNCATED } from "../common/errors";
import { lookup } from "./cache";

export const OUT_SIZE: usize = 64;

export const ID_MISS: i32 = -1;
export const ID_GATHER: i32 = -2;
export const ID_EMPTY: i32 = -3;

// Where the last read ended, and the first error met (0 = none).
let pos: usize = 0;
let err: i32 = 0;

let seriesBuf: usize = 0;
let seriesCap: u32 = 0;
let tsBuf: usize = 0;
let valBuf: usize = 0;
let sampleCap: u32 = 0;
let metaBuf: usize = 0;
let metaCap: u32 = 0;
let groupBuf: usize = 0;
let groupCap: u32 = 0;

let nSeries: u32 = 0;
let nSamples: u32 = 0;
let nExemplars: u32 = 0;
let nHistograms: u32 = 0;
let nMeta: u32 = 0;
let nMisses: u32 = 0;
let base: usize = 0;
let fieldAt: usize = 0;

function grown(buf: usize, used: usize, bytes: usize): usize {
  const fresh = heap.alloc(bytes);
  if (buf != 0) {
    memory.copy(fresh, buf, used);
    heap.free(buf);
  }
  return fresh;
}

function growSamples(): void {
  const cap: u32 = sampleCap == 0 ? 4096 : sampleCap << 1;
  tsBuf = grown(tsBuf, <usize>nSamples << 3, <usize>cap << 3);
  valBuf = grown(valBuf, <usize>nSamples << 3, <usize>cap << 3);
  sampleCap = cap;
}

function growSeries(): void {
  const cap: u32 = seriesCap == 0 ? 1024 : seriesCap << 1;
  seriesBuf = grown(seriesBuf, <usize>nSeries << 4, <usize>cap << 4);
  seriesCap = cap;
}

function growMeta(): void {
  const cap: u32 = metaCap == 0 ? 64 : metaCap << 1;
  metaBuf = grown(metaBuf, <usize>nMeta << 3, <usize>cap << 3);
  metaCap = cap;
}

/** A varint that must fit 32 bits (tags, lengths). */
function varint32(p: usize, end: usize): u32 {
  let v: u32 = 0;
  for (let shift: u32 = 0; shift < 35; shift += 7) {
    if (p >= end) {
      err = ERR_TRUNCATED;
      return 0;
    }
    const byte = <u32>load<u8>(p++);
    if (shift == 28) {
      if (byte > 0x0f) {
        err = ERR_CORRUPT;
        return 0;
      }
      pos = p;
      return v | (byte << 28);
    }
    v |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      pos = p;
      return v;
    }
  }
  return 0;
}

/** An int64 varint (at most 10 bytes; bits past 64 are dropped, as the TS reader does). */
function varint64(p: usize, end: usize): i64 {
  let v: u64 = 0;
  for (let shift: u64 = 0; shift < 70; shift += 7) {
    if (p >= end) {
      err = ERR_TRUNCATED;
      return 0;
    }
    const byte = <u64>load<u8>(p++);
    v |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      pos = p;
      return <i64>v;
    }
  }
  err = ERR_CORRUPT;
  return 0;
}

/** A tag: field number > 0, wire type <= 5. */
// @ts-ignore: decorator
@inline
function tag(p: usize, end: usize): u32 {
  let t: u32;
  if (p < end && load<u8>(p) < 0x80) {
    t = <u32>load<u8>(p);
    pos = p + 1;
  } else {
    t = varint32(p, end);
    if (err) return 0;
  }
  if (t >> 3 == 0 || (t & 7) > 5) err = ERR_CORRUPT;
  return t;
}

/** A length prefix at p whose payload fits before end: returns the payload start, pos = its end. */
// @ts-ignore: decorator
@inline
function lengthPrefixed(p: usize, end: usize): usize {
  let len: u32;
  let start: usize;
  if (p < end && load<u8>(p) < 0x80) {
    len = <u32>load<u8>(p);
    start = p + 1;
  } else {
    len = varint32(p, end);
    if (err) return 0;
    start = pos;
  }
  if (<usize>len > end - start) {
    err = ERR_TRUNCATED;
    return 0;
  }
  pos = start + len;
  return start;
}

function skipGroup(p: usize, end: usize, field: u32): usize {
  let depth: u32 = 0;
  let need = <u32>(end - p) + 1;
  if (groupCap < need) {
    if (groupBuf != 0) heap.free(groupBuf);
    groupBuf = heap.alloc(<usize>need << 2);
    groupCap = need;
  }
  store<u32>(groupBuf, field);
  depth = 1;
  while (depth > 0) {
    if (p >= end) {
      err = ERR_TRUNCATED;
      return 0;
    }
    const t = tag(p, end);
    if (err) return 0;
    p = pos;
    const wire = t & 7;
    if (wire == 3) {
      store<u32>(groupBuf + (<usize>depth << 2), t >> 3);
      depth++;
    } else if (wire == 4) {
      depth--;
      if (load<u32>(groupBuf + (<usize>depth << 2)) != t >> 3) {
        err = ERR_CORRUPT;
        return 0;
      }
    } else {
      p = skipField(p, end, t);
      if (err) return 0;
    }
  }
  return p;
}

/** Skips the value of a field whose tag t was read (p is after it). */
function skipField(p: usize, end: usize, t: u32): usize {
  switch (t & 7) {
    case 0:
      varint64(p, end);
      return pos;
    case 1:
      if (end - p < 8) {
        err = ERR_TRUNCATED;
        return 0;
      }
      return p + 8;
    case 2:
      lengthPrefixed(p, end);
      return pos;
    case 5:
      if (end - p < 4) {
        err = ERR_TRUNCATED;
        return 0;
      }
      return p + 4;
    case 3:
      return skipGroup(p, end, t >> 3);
    default:
      err = ERR_CORRUPT;
      return 0;
  }
}

function decodeSample(p: usize, end: usize): void {
  if (nSamples == sampleCap) growSamples();
  let bits: u64 = 0;
  let t: f64 = NaN;
  while (p < end) {
    const k = load<u8>(p);
    if (k == 0x09) {
      if (end - p < 9) {
        err = ERR_TRUNCATED;
        return;
      }
      bits = load<u64>(p + 1);
      p += 9;
    } else if (k == 0x10) {
      const v = varint64(p + 1, end);
      if (err) return;
      t = <f64>v;
      p = pos;
    } else {
      const tg = tag(p, end);
      if (err) return;
      const field = tg >> 3;
      if (field <= 2 && (tg & 7) != (field == 1 ? 1 : 0)) {
        err = ERR_CORRUPT;
        return;
      }
      p = skipField(pos, end, tg);
      if (err) return;
    }
  }
  store<f64>(tsBuf + (<usize>nSamples << 3), t);
  store<u64>(valBuf + (<usize>nSamples << 3), bits);
  nSamples++;
}

function decodeSeries(cache: usize, p: usize, end: usize): void {
  const start = p;
  const first = nSamples;
  let labStart: usize = 0;
  let labEnd: usize = 0;
  let any = false;
  let contiguous = true;
  while (p < end) {
    const at = p;
    const t = tag(p, end);
    if (err) return;
    p = pos;
    if (t == 0x0a) {
      lengthPrefixed(p, end);
      if (err) return;
      p = pos;
      if (!any) {
        any = true;
        labStart = at;
      } else if (labEnd != at) contiguous = false;
      labEnd = p;
    } else if (t == 0x12) {
      const s = lengthPrefixed(p, end);
      if (err) return;
      p = pos;
      decodeSample(s, p);
      if (err) return;
    } else if (t == 0x1a) {
      lengthPrefixed(p, end);
      if (err) return;
      p = pos;
      nExemplars++;
    } else if (t == 0x22) {
      lengthPrefixed(p, end);
      if (err) return;
      p = pos;
      nHistograms++;
    } else {
      // Fields 1-4 with any other wire type are malformed.
      if (t >> 3 <= 4) {
        err = ERR_CORRUPT;
        return;
      }
      p = skipField(p, end, t);
      if (err) return;
    }
  }
  if (nSeries == seriesCap) growSeries();
  const r = seriesBuf + (<usize>nSeries << 4);
  let id: i32;
  if (!any) {
    id = ID_EMPTY;
  } else if (contiguous) {
    id = cache != 0 ? lookup(cache, labStart, <u32>(labEnd - labStart)) : ID_MISS;
    if (id < 0) nMisses++;
  } else {
    id = ID_GATHER;
    labStart = start;
    labEnd = end;
  }
  store<i32>(r, id);
  store<i32>(r, <i32>(labStart - base), 4);
  store<i32>(r, <i32>(labEnd - base), 8);
  store<i32>(r, <i32>first, 12);
  nSeries++;
}

/**
 * Walks request bytes [buf, buf + len) with label lookups in `cache` (0:
 * none, every series misses) and fills `out`; 0 or an error code.
 */
export function walkWriteRequest(cache: usize, buf: usize, len: u32, out: usize): i32 {
  err = 0;
  nSeries = 0;
  nSamples = 0;
  nExemplars = 0;
  nHistograms = 0;
  nMeta = 0;
  nMisses = 0;
  base = buf;
  fieldAt = buf;
  const end = buf + len;
  let p = buf;
  while (p < end) {
    fieldAt = p;
    const t = tag(p, end);
    if (err) break;
    p = pos;
    if (t == 0x0a) {
      const s = lengthPrefixed(p, end);
      if (err) break;
      p = pos;
      decodeSeries(cache, s, p);
      if (err) break;
    } else if (t == 0x1a) {
      const s = lengthPrefixed(p, end);
      if (err) break;
      p = pos;
      if (nMeta == metaCap) growMeta();
      store<i32>(metaBuf + (<usize>nMeta << 3), <i32>(s - buf));
      store<i32>(metaBuf + (<usize>nMeta << 3), <i32>(p - buf), 4);
      nMeta++;
    } else {
      const field = t >> 3;
      if ((field == 1 || field == 3) && (t & 7) != 2) {
        err = ERR_CORRUPT;
        break;
      }
      p = skipField(p, end, t);
      if (err) break;
    }
  }
  if (seriesCap == 0) growSeries();
  if (sampleCap == 0) growSamples();
  if (metaCap == 0) growMeta();
  store<i32>(out, <i32>nSeries);
  store<i32>(out, <i32>nSamples, 4);
  store<i32>(out, <i32>nExemplars, 8);
  store<i32>(out, <i32>nHistograms, 12);
  store<i32>(out, <i32>nMeta, 16);
  store<i32>(out, <i32>nMisses, 20);
  store<i32>(out, <i32>seriesBuf, 24);
  store<i32>(out, <i32>tsBuf, 28);
  store<i32>(out, <i32>valBuf, 32);
  store<i32>(out, <i32>metaBuf, 36);
  store<i32>(out, <i32>(fieldAt - buf), 40);
  return err;
}
