// The XOR chunk appender: Prometheus' chunkenc.xorAppender, byte for byte.
import { ERR_ARG, ERR_BOUNDS, ERR_FULL } from "../common/errors";
import { inBounds } from "../common/memory";
import {
  FLAG_LEGACY_PAD,
  FLAG_TAIL,
  MAX_SAMPLES,
  S_BITPOS,
  S_BUF,
  S_CAP,
  S_FLAGS,
  S_LEADING,
  S_NUM,
  S_T,
  S_T0,
  S_TDELTA,
  S_TRAILING,
  S_VBITS,
  SAMPLE_HEADROOM,
  STATE_SIZE,
} from "./state";

/**
 * Starts an empty chunk in [buf, buf + cap); `flags` is 0 or
 * FLAG_LEGACY_PAD. Returns 0 or an error.
 */
export function appenderInit(state: usize, buf: usize, cap: usize, flags: u8): i32 {
  if (!inBounds(state, STATE_SIZE, 0) || !inBounds(buf, cap, 0)) {
    return ERR_BOUNDS;
  }
  if (cap < 2 + SAMPLE_HEADROOM) return ERR_ARG;
  memory.fill(buf, 0, cap);
  appenderReset(state, buf, cap, flags);
  return 0;
}

/** appenderInit without zeroing the buffer (appendRun does not need it). */
export function appenderReset(state: usize, buf: usize, cap: usize, flags: u8): void {
  store<u16>(buf, 0);
  store<u32>(state, <u32>buf, S_BUF);
  store<u32>(state, <u32>cap, S_CAP);
  store<u32>(state, 16, S_BITPOS);
  store<u32>(state, 0, S_NUM);
  store<i64>(state, 0, S_T);
  store<i64>(state, 0, S_TDELTA);
  store<u64>(state, 0, S_VBITS);
  store<u8>(state, 0xff, S_LEADING);
  store<u8>(state, 0, S_TRAILING);
  store<u8>(state, flags & FLAG_LEGACY_PAD, S_FLAGS);
  store<i64>(state, 0, S_T0);
}

// Go's bitRange: the asymmetric range a delta-of-delta bucket holds.
// @ts-ignore: decorator
@inline
function fits(dod: i64, nbits: i64): bool {
  return -((<i64>1 << (nbits - 1)) - 1) <= dod && dod <= (<i64>1 << (nbits - 1));
}

// appendRun keeps the whole appender state in locals for the length of a
// run, and writes through a 64-bit accumulator (`acc`, `nacc` pending bits,
// left-aligned) flushed as one big-endian word: one byte swap per 64 bits
// instead of one per field. Each "put" below is the same few lines, written
// out because AssemblyScript cannot share locals with a helper.

/**
 * Appends samples [0, n) of the arrays at tsPtr/valPtr (T: i64 or f64
 * timestamps) to the open chunk. Returns how many were appended: fewer than
 * n when the chunk reached 65535 samples or its buffer lacks room (grow it
 * with appenderMove and continue).
 */
// @ts-ignore: decorator
@inline
export function appendRun<T>(state: usize, tsPtr: usize, valPtr: usize, n: i32): i32 {
  const buf = <usize>load<u32>(state, S_BUF);
  const cap = <usize>load<u32>(state, S_CAP);
  let pos = <u64>load<u32>(state, S_BITPOS);
  let num = load<u32>(state, S_NUM);
  let t = load<i64>(state, S_T);
  let tDelta = load<i64>(state, S_TDELTA);
  let vbits = load<u64>(state, S_VBITS);
  let leading = <u64>load<u8>(state, S_LEADING);
  let trailing = <u64>load<u8>(state, S_TRAILING);
  let flags = load<u8>(state, S_FLAGS);
  // Writer: bits [0, pos) are final except the ones still in `acc`, which
  // start at byte `wbyte` (acc's top bit is bit wbyte*8).
  let wbyte = <usize>(pos >> 3);
  let nacc = pos & 7;
  let acc = nacc != 0 ? <u64>load<u8>(buf + wbyte) << 56 : 0;
  let i = 0;
  for (; i < n; i++) {
    if (num >= MAX_SAMPLES || <usize>(pos >> 3) + SAMPLE_HEADROOM > cap) break;
    const tn = <i64>load<T>(tsPtr + (<usize>i << 3));
    const vn = load<u64>(valPtr + (<usize>i << 3));
    // Whether this sample ends with whole bytes written at a byte boundary
    // (see FLAG_LEGACY_PAD).
    let tail = false;
    if (num == 0) {
      store<i64>(state, tn, S_T0);
      let x = <u64>((tn << 1) ^ (tn >> 63)); // zigzag varint
      while (x >= 0x80) {
        // put(byte, 8)
        if (nacc + 8 < 64) { acc |= ((x & 0x7f) | 0x80) << (56 - nacc); nacc += 8; }
        else { const sp = nacc - 56; acc |= ((x & 0x7f) | 0x80) >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (((x & 0x7f) | 0x80) << (64 - sp)) : 0; nacc = sp; }
        x >>= 7;
        pos += 8;
      }
      if (nacc + 8 < 64) { acc |= x << (56 - nacc); nacc += 8; }
      else { const sp = nacc - 56; acc |= x >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (x << (64 - sp)) : 0; nacc = sp; }
      pos += 8;
      // 64 bits of value
      { const sp = nacc; acc |= vn >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (vn << (64 - sp)) : 0; nacc = sp; }
      pos += 64;
      tail = true;
    } else {
      const delta = tn - t;
      if (num == 1) {
        let x = <u64>delta; // uvarint of the delta's bits
        while (x >= 0x80) {
          if (nacc + 8 < 64) { acc |= ((x & 0x7f) | 0x80) << (56 - nacc); nacc += 8; }
          else { const sp = nacc - 56; acc |= ((x & 0x7f) | 0x80) >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (((x & 0x7f) | 0x80) << (64 - sp)) : 0; nacc = sp; }
          x >>= 7;
          pos += 8;
        }
        if (nacc + 8 < 64) { acc |= x << (56 - nacc); nacc += 8; }
        else { const sp = nacc - 56; acc |= x >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (x << (64 - sp)) : 0; nacc = sp; }
        pos += 8;
      } else {
        const dod = delta - tDelta;
        let field: u64 = 0;
        let width: u64 = 1; // '0'
        if (dod == 0) {
          field = 0;
        } else if (fits(dod, 14)) {
          field = (<u64>0b10 << 14) | (<u64>dod & 0x3fff);
          width = 16;
        } else if (fits(dod, 17)) {
          field = (<u64>0b110 << 17) | (<u64>dod & 0x1ffff);
          width = 20;
        } else if (fits(dod, 20)) {
          field = (<u64>0b1110 << 20) | (<u64>dod & 0xfffff);
          width = 24;
        } else {
          // '1111' then 64 bits: two puts.
          if (nacc + 4 < 64) { acc |= <u64>0b1111 << (60 - nacc); nacc += 4; }
          else { const sp = nacc - 60; acc |= <u64>0b1111 >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (<u64>0b1111 << (64 - sp)) : 0; nacc = sp; }
          field = <u64>dod;
          width = 64;
          pos += 4;
        }
        if (nacc + width < 64) { acc |= field << (64 - nacc - width); nacc += width; }
        else { const sp = nacc + width - 64; acc |= field >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (field << (64 - sp)) : 0; nacc = sp; }
        pos += width;
      }
      tDelta = delta;
      // The value: Prometheus' xorWrite.
      const x = vn ^ vbits;
      if (x == 0) {
        // a single '0' bit
        nacc += 1;
        if (nacc == 64) { store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = 0; nacc = 0; }
        pos += 1;
      } else {
        let lz = clz<u64>(x);
        const tz = ctz<u64>(x);
        if (lz >= 32) lz = 31;
        let head: u64;
        let headWidth: u64;
        let sig: u64;
        let shift: u64;
        if (leading != 0xff && lz >= leading && tz >= trailing) {
          head = 0b10;
          headWidth = 2;
          sig = 64 - leading - trailing;
          shift = trailing;
        } else {
          leading = lz;
          trailing = tz;
          sig = 64 - lz - tz;
          head = (<u64>0b11 << 11) | (lz << 6) | (sig & 63);
          headWidth = 13;
          shift = tz;
        }
        if (nacc + headWidth < 64) { acc |= head << (64 - nacc - headWidth); nacc += headWidth; }
        else { const sp = nacc + headWidth - 64; acc |= head >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (head << (64 - sp)) : 0; nacc = sp; }
        pos += headWidth;
        tail = (sig & 7) == 0 && (pos & 7) == 0;
        const payload = x >> shift;
        if (nacc + sig < 64) { acc |= payload << (64 - nacc - sig); nacc += sig; }
        else { const sp = nacc + sig - 64; acc |= payload >> sp; store<u64>(buf + wbyte, bswap<u64>(acc)); wbyte += 8; acc = sp != 0 ? (payload << (64 - sp)) : 0; nacc = sp; }
        pos += sig;
      }
    }
    t = tn;
    vbits = vn;
    num++;
    flags = tail ? flags | FLAG_TAIL : flags & ~FLAG_TAIL;
  }
  // Flush the pending bits. This also zeroes the 8 bytes from the write
  // position on, which is all the writer needs: it never reads past the
  // partial byte, so buffers need no zeroing beforehand.
  store<u64>(buf + wbyte, bswap<u64>(acc));
  store<u32>(state, <u32>pos, S_BITPOS);
  store<u32>(state, num, S_NUM);
  store<i64>(state, t, S_T);
  store<i64>(state, tDelta, S_TDELTA);
  store<u64>(state, vbits, S_VBITS);
  store<u8>(state, <u8>leading, S_LEADING);
  store<u8>(state, <u8>trailing, S_TRAILING);
  store<u8>(state, flags, S_FLAGS);
  store<u16>(buf, bswap<u16>(<u16>num));
  return i;
}

// One sample's scratch for appenderAppend.
const one = memory.data(16, 8);

/**
 * Appends one sample. Returns the new sample count, or ERR_FULL when the
 * chunk holds 65535 samples or its buffer lacks room (the state is then
 * unchanged: grow the buffer with appenderMove and retry).
 */
export function appenderAppend(state: usize, t: i64, v: f64): i32 {
  store<i64>(one, t);
  store<f64>(one, v, 8);
  if (appendRun<i64>(state, one, one + 8, 1) == 0) return ERR_FULL;
  return <i32>load<u32>(state, S_NUM);
}

/** Bytes of the chunk so far (header included). */
export function appenderLength(state: usize): i32 {
  const flags = load<u8>(state, S_FLAGS);
  const pad = (flags & FLAG_LEGACY_PAD) != 0 && (flags & FLAG_TAIL) != 0 ? 1 : 0;
  return <i32>((load<u32>(state, S_BITPOS) + 7) >> 3) + pad;
}

/**
 * Moves the open chunk to a new buffer (to grow it): copies the bytes written
 * so far and zeroes the rest. Returns 0 or an error.
 */
export function appenderMove(state: usize, buf: usize, cap: usize): i32 {
  if (!inBounds(state, STATE_SIZE, 0) || !inBounds(buf, cap, 0)) {
    return ERR_BOUNDS;
  }
  const len = <usize>appenderLength(state);
  if (cap < len + SAMPLE_HEADROOM) return ERR_ARG;
  memory.copy(buf, <usize>load<u32>(state, S_BUF), len);
  memory.fill(buf + len, 0, cap - len);
  store<u32>(state, <u32>buf, S_BUF);
  store<u32>(state, <u32>cap, S_CAP);
  return 0;
}
