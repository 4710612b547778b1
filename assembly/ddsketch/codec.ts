// Binary serialization of a sketch (format spec: docs/format/ddsketch.md).
//
//   0  "DDSK"  4  version u8 = 1  5  mapping u8 = 1  6  maxBins u16 LE
//   8  alpha f64  16 count f64  24 sum f64  32 min f64  40 max f64  48 zero f64
//   56 positive store, negative store, then CRC-32 u32 LE of all bytes before it.
// Store: varint bin count (0 = empty, nothing follows); flags u8 (bit 0: raw
// f64 counts; other bits 0); zigzag varint index of the first bin; counts
// as varints (whole numbers <= 2^53) or f64 LE. First and last bins are
// non-empty. All multi-byte numbers little-endian.
import {
  ERR_CORRUPT,
  ERR_FORMAT,
  ERR_NOMEM,
  ERR_TRUNCATED,
} from "../common/errors";
import { crc32 } from "./crc32";
import { MAX_ALPHA, MIN_ALPHA } from "./mapping";
import {
  MAX_BINS,
  MIN_BINS,
  SK_ALPHA,
  SK_COUNT,
  SK_MAX,
  SK_MAXBINS,
  SK_MAXIDX,
  SK_MIN,
  SK_MINIDX,
  SK_NEG,
  SK_POS,
  SK_SUM,
  SK_ZERO,
  SKETCH_TAG,
  sketchDelete,
  sketchNew,
} from "./sketch";
import {
  rangeHi,
  rangeLo,
  ST_CAP,
  ST_COUNTS,
  ST_OFFSET,
  storeRange,
} from "./store";

export const FORMAT_VERSION: u8 = 1;
export const MAPPING_CUBIC: u8 = 1;
export const HEADER_BYTES: usize = 56;
/** Header, two empty stores, checksum. */
export const MIN_BLOB_BYTES: usize = HEADER_BYTES + 2 + 4;

const FLAG_F64: u8 = 1;
const MAX_WHOLE: f64 = 9007199254740992.0; // 2^53
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

// @ts-ignore: decorator
@inline
function varintSize(x: u64): usize {
  let n: usize = 1;
  while (x >= 0x80) {
    x >>= 7;
    n++;
  }
  return n;
}

// @ts-ignore: decorator
@inline
function zigzag(x: i32): u64 {
  return <u64>(<u32>((x << 1) ^ (x >> 31)));
}

// ---- encoding ----

let encLo: i32 = 0;
let encHi: i32 = 0;
let encFlags: u8 = 0;

/** Sizes one store's encoding and fixes its bin range and flags (encLo/encHi/encFlags). */
function storePlan(st: usize): usize {
  if (!storeRange(st)) {
    encLo = 1;
    encHi = 0;
    return 1;
  }
  encLo = rangeLo;
  encHi = rangeHi;
  const counts = <usize>load<u32>(st, ST_COUNTS);
  const offset = load<i32>(st, ST_OFFSET);
  let whole = true;
  let countBytes: usize = 0;
  for (let i = encLo; i <= encHi; i++) {
    const c = load<f64>(counts + (<usize>(i - offset) << 3));
    if (c != Math.floor(c) || c > MAX_WHOLE) {
      whole = false;
      break;
    }
    countBytes += varintSize(<u64>c);
  }
  const nbins = <u64>(encHi - encLo + 1);
  encFlags = whole ? 0 : FLAG_F64;
  if (!whole) countBytes = <usize>nbins << 3;
  return varintSize(nbins) + 1 + varintSize(zigzag(encLo)) + countBytes;
}

let wr: usize = 0;

// @ts-ignore: decorator
@inline
function writeVarint(x: u64): void {
  while (x >= 0x80) {
    store<u8>(wr, <u8>(x | 0x80));
    wr++;
    x >>= 7;
  }
  store<u8>(wr, <u8>x);
  wr++;
}

function writeStore(st: usize): void {
  storePlan(st);
  if (encLo > encHi) {
    writeVarint(0);
    return;
  }
  writeVarint(<u64>(encHi - encLo + 1));
  store<u8>(wr, encFlags);
  wr++;
  writeVarint(zigzag(encLo));
  const counts = <usize>load<u32>(st, ST_COUNTS);
  const offset = load<i32>(st, ST_OFFSET);
  for (let i = encLo; i <= encHi; i++) {
    const c = load<f64>(counts + (<usize>(i - offset) << 3));
    if (encFlags & FLAG_F64) {
      store<f64>(wr, c);
      wr += 8;
    } else {
      writeVarint(<u64>c);
    }
  }
}

/** Exact byte length of the sketch's serialization. */
export function serializedSize(h: usize): usize {
  return HEADER_BYTES + storePlan(h + SK_POS) + storePlan(h + SK_NEG) + 4;
}

/** Writes the serialization at out (room already checked); returns its length. */
export function serializeTo(h: usize, out: usize): usize {
  store<u32>(out, SKETCH_TAG);
  store<u8>(out, FORMAT_VERSION, 4);
  store<u8>(out, MAPPING_CUBIC, 5);
  store<u16>(out, <u16>load<i32>(h, SK_MAXBINS), 6);
  store<f64>(out, load<f64>(h, SK_ALPHA), 8);
  store<f64>(out, load<f64>(h, SK_COUNT), 16);
  // A sum can become NaN (+Inf + -Inf); write the one canonical NaN.
  const sum = load<f64>(h, SK_SUM);
  store<u64>(out, sum != sum ? CANONICAL_NAN : reinterpret<u64>(sum), 24);
  store<f64>(out, load<f64>(h, SK_MIN), 32);
  store<f64>(out, load<f64>(h, SK_MAX), 40);
  store<f64>(out, load<f64>(h, SK_ZERO), 48);
  wr = out + HEADER_BYTES;
  writeStore(h + SK_POS);
  writeStore(h + SK_NEG);
  const len = wr - out;
  store<u32>(wr, crc32(out, len));
  return len + 4;
}

// ---- decoding ----

let rd: usize = 0;
let rdEnd: usize = 0;
let rdErr: i32 = 0;

/** Reads a minimal LEB128 varint of at most 8 bytes (56 bits); sets rdErr on failure. */
function readVarint(): u64 {
  let x: u64 = 0;
  for (let shift: u64 = 0; shift < 56; shift += 7) {
    if (rd >= rdEnd) {
      rdErr = ERR_TRUNCATED;
      return 0;
    }
    const b = load<u8>(rd);
    rd++;
    x |= <u64>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (b == 0 && shift != 0) rdErr = ERR_CORRUPT; // over-long encoding
      return x;
    }
  }
  rdErr = ERR_CORRUPT;
  return 0;
}

let storeTotal: f64 = 0.0;

/** Decodes one store into st, accepting bin indices in [lo, hi]. Returns 0 or an error code. */
function readStore(st: usize, lo: i32, hi: i32, maxBins: i32): i32 {
  storeTotal = 0.0;
  const nbins = readVarint();
  if (rdErr != 0) return rdErr;
  if (nbins == 0) return 0;
  if (nbins > <u64>maxBins) return ERR_CORRUPT;
  if (rd >= rdEnd) return ERR_TRUNCATED;
  const flags = load<u8>(rd);
  rd++;
  if ((flags & ~FLAG_F64) != 0) return ERR_CORRUPT;
  const zz = readVarint();
  if (rdErr != 0) return rdErr;
  if (zz > 0xffffffff) return ERR_CORRUPT;
  const first = <i64>(<i32>(<u32>(zz >> 1) ^ -<u32>(zz & 1)));
  const last = first + <i64>nbins - 1;
  if (first < <i64>lo || last > <i64>hi) return ERR_CORRUPT;
  const n = <i32>nbins;
  // Every count takes at least one byte (eight when raw).
  const minBytes = (flags & FLAG_F64) != 0 ? <u64>n << 3 : <u64>n;
  if (<u64>(rdEnd - rd) < minBytes) return ERR_TRUNCATED;
  const counts = heap.alloc(<usize>n << 3);
  store<u32>(st, <u32>counts, ST_COUNTS);
  store<i32>(st, n, ST_CAP);
  store<i32>(st, <i32>first, ST_OFFSET);
  let total = 0.0;
  for (let i = 0; i < n; i++) {
    let c: f64;
    if ((flags & FLAG_F64) != 0) {
      c = load<f64>(rd);
      rd += 8;
      // Rejects NaN, negatives and infinities.
      if (!(c >= 0.0 && c < Infinity)) return ERR_CORRUPT;
    } else {
      const x = readVarint();
      if (rdErr != 0) return rdErr;
      if (x > <u64>MAX_WHOLE) return ERR_CORRUPT;
      c = <f64>x;
    }
    store<f64>(counts + (<usize>i << 3), c);
    total += c;
  }
  if (load<f64>(counts) == 0.0) return ERR_CORRUPT;
  if (load<f64>(counts + (<usize>(n - 1) << 3)) == 0.0) return ERR_CORRUPT;
  storeTotal = total;
  return 0;
}

/** Checks the header fields that do not depend on the stores. */
function headerError(ptr: usize): i32 {
  const maxBins = <i32>load<u16>(ptr, 6);
  if (maxBins < MIN_BINS || maxBins > MAX_BINS) return ERR_CORRUPT;
  const alpha = load<f64>(ptr, 8);
  if (!(alpha >= MIN_ALPHA && alpha <= MAX_ALPHA)) return ERR_CORRUPT;
  const count = load<f64>(ptr, 16);
  const sum = load<f64>(ptr, 24);
  const min = load<f64>(ptr, 32);
  const max = load<f64>(ptr, 40);
  const zero = load<f64>(ptr, 48);
  if (!(count >= 0.0 && count < Infinity)) return ERR_CORRUPT;
  if (!(zero >= 0.0 && zero < Infinity)) return ERR_CORRUPT;
  if (count == 0.0) {
    if (sum != 0.0 || zero != 0.0) return ERR_CORRUPT;
    if (min != Infinity || max != -Infinity) return ERR_CORRUPT;
  } else {
    if (!(min <= max && min > -Infinity && max < Infinity)) return ERR_CORRUPT;
  }
  return 0;
}

/**
 * Rebuilds a sketch from [ptr, ptr + len) (range already checked). Returns
 * its handle, or ERR_TRUNCATED / ERR_FORMAT / ERR_CORRUPT / ERR_NOMEM.
 */
export function deserialize(ptr: usize, len: usize): i32 {
  if (len < 4) return ERR_TRUNCATED;
  if (load<u32>(ptr) != SKETCH_TAG) return ERR_FORMAT;
  if (len < 6) return ERR_TRUNCATED;
  if (load<u8>(ptr, 4) != FORMAT_VERSION) return ERR_FORMAT;
  if (load<u8>(ptr, 5) != MAPPING_CUBIC) return ERR_FORMAT;
  if (len < MIN_BLOB_BYTES) return ERR_TRUNCATED;
  const bad = headerError(ptr);
  if (bad != 0) return bad;

  const h = sketchNew(load<f64>(ptr, 8), <i32>load<u16>(ptr, 6));
  if (h == 0) return ERR_NOMEM;
  const count = load<f64>(ptr, 16);
  const min = load<f64>(ptr, 32);
  const max = load<f64>(ptr, 40);
  const zero = load<f64>(ptr, 48);
  store<f64>(h, count, SK_COUNT);
  store<f64>(h, load<f64>(ptr, 24), SK_SUM);
  store<f64>(h, min, SK_MIN);
  store<f64>(h, max, SK_MAX);
  store<f64>(h, zero, SK_ZERO);

  const maxBins = load<i32>(h, SK_MAXBINS);
  const lo = load<i32>(h, SK_MINIDX);
  const hi = load<i32>(h, SK_MAXIDX);
  rd = ptr + HEADER_BYTES;
  rdEnd = ptr + len - 4;
  rdErr = 0;
  let err = readStore(h + SK_POS, lo, hi, maxBins);
  const posTotal = storeTotal;
  // Negative values live under negated indices.
  if (err == 0) err = readStore(h + SK_NEG, -hi, -lo, maxBins);
  const negTotal = storeTotal;
  if (err == 0 && rd != rdEnd) err = ERR_CORRUPT; // bytes after the stores
  if (err == 0 && crc32(ptr, len - 4) != load<u32>(rdEnd)) err = ERR_CORRUPT;
  if (err == 0) {
    // The bins must account for the count (float sums: small tolerance),
    // and each non-empty part must agree with min / max.
    const total = zero + posTotal + negTotal;
    if (!(Math.abs(total - count) <= count * (1.0 / 1048576.0))) {
      err = ERR_CORRUPT;
    } else if (posTotal > 0.0 && !(max > 0.0)) err = ERR_CORRUPT;
    else if (negTotal > 0.0 && !(min < 0.0)) err = ERR_CORRUPT;
    else if (zero > 0.0 && !(min < 2.2250738585072014e-308 && max > -2.2250738585072014e-308)) {
      err = ERR_CORRUPT;
    }
  }
  if (err != 0) {
    sketchDelete(h);
    return err;
  }
  return <i32>h;
}
