// The XOR chunk appender: Prometheus' chunkenc.xorAppender, byte for byte.
import { ERR_ARG, ERR_BOUNDS, ERR_FULL } from "../common/errors";
import { inBounds } from "../common/memory";
import { writeBits } from "./bits";
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

/** appenderInit for a buffer the caller has already zeroed. */
export function appenderReset(state: usize, buf: usize, cap: usize, flags: u8): void {
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
}

// @ts-ignore: decorator
@inline
function writeUvarint(buf: usize, pos: u64, x: u64): u64 {
  // Only called at byte-aligned positions (see docs/format/xor-chunk.md).
  let p = buf + <usize>(pos >> 3);
  while (x >= 0x80) {
    store<u8>(p++, <u8>(x | 0x80));
    x >>= 7;
  }
  store<u8>(p++, <u8>x);
  return <u64>(p - buf) << 3;
}

// Go's bitRange: the asymmetric range a delta-of-delta bucket holds.
// @ts-ignore: decorator
@inline
function fits(dod: i64, nbits: i64): bool {
  return -((<i64>1 << (nbits - 1)) - 1) <= dod && dod <= (<i64>1 << (nbits - 1));
}

/**
 * Appends one sample. Returns the new sample count, or ERR_FULL when the
 * chunk holds 65535 samples or its buffer lacks room (the state is then
 * unchanged: grow the buffer with appenderMove and retry).
 */
export function appenderAppend(state: usize, t: i64, v: f64): i32 {
  const buf = <usize>load<u32>(state, S_BUF);
  const cap = <usize>load<u32>(state, S_CAP);
  let pos = <u64>load<u32>(state, S_BITPOS);
  const num = load<u32>(state, S_NUM);
  if (num >= MAX_SAMPLES) return ERR_FULL;
  if (<usize>(pos >> 3) + SAMPLE_HEADROOM > cap) return ERR_FULL;
  const vbits = reinterpret<u64>(v);
  // Whether this sample ends with whole bytes written at a byte boundary
  // (see FLAG_LEGACY_PAD).
  let tail = false;

  if (num == 0) {
    pos = writeUvarint(buf, pos, <u64>((t << 1) ^ (t >> 63)));
    writeBits(buf, pos, vbits, 64);
    pos += 64;
    tail = true;
  } else {
    const prevT = load<i64>(state, S_T);
    const tDelta = t - prevT;
    if (num == 1) {
      pos = writeUvarint(buf, pos, <u64>tDelta);
    } else {
      const dod = tDelta - load<i64>(state, S_TDELTA);
      if (dod == 0) {
        pos += 1; // a zero bit: the stream is already zero
      } else if (fits(dod, 14)) {
        writeBits(buf, pos, (<u64>0b10 << 14) | (<u64>dod & 0x3fff), 16);
        pos += 16;
      } else if (fits(dod, 17)) {
        writeBits(buf, pos, (<u64>0b110 << 17) | (<u64>dod & 0x1ffff), 20);
        pos += 20;
      } else if (fits(dod, 20)) {
        writeBits(buf, pos, (<u64>0b1110 << 20) | (<u64>dod & 0xfffff), 24);
        pos += 24;
      } else {
        writeBits(buf, pos, 0b1111, 4);
        writeBits(buf, pos + 4, <u64>dod, 64);
        pos += 68;
      }
    }
    store<i64>(state, tDelta, S_TDELTA);
    const payload = writeXor(state, buf, pos, vbits ^ load<u64>(state, S_VBITS));
    // writeXor returns where its payload started (low 32 bits) and its
    // length (high bits); zero length for the single '0' bit.
    const start = payload & 0xffffffff;
    const sig = payload >> 32;
    pos = sig == 0 ? pos + 1 : start + sig;
    tail = sig != 0 && (sig & 7) == 0 && (start & 7) == 0;
  }
  const flags = load<u8>(state, S_FLAGS);
  store<u8>(state, tail ? flags | FLAG_TAIL : flags & ~FLAG_TAIL, S_FLAGS);
  store<i64>(state, t, S_T);
  store<u64>(state, vbits, S_VBITS);
  store<u32>(state, <u32>pos, S_BITPOS);
  store<u32>(state, num + 1, S_NUM);
  store<u16>(buf, bswap<u16>(<u16>(num + 1)));
  return <i32>(num + 1);
}

// Prometheus' xorWrite: a zero bit for an unchanged value; else '10' and the
// meaningful bits inside the previous leading/trailing window, or '11',
// 5 bits of leading zeros (clamped to 31), 6 bits of significant-bit count
// (64 written as 0) and the significant bits.
// Returns (payload bits << 32) | payload start; 0 payload bits for x = 0.
// @ts-ignore: decorator
@inline
function writeXor(state: usize, buf: usize, pos: u64, delta: u64): u64 {
  if (delta == 0) return pos + 1;
  let leading = <u32>clz<u64>(delta);
  const trailing = <u32>ctz<u64>(delta);
  if (leading >= 32) leading = 31;
  const prevLeading = <u32>load<u8>(state, S_LEADING);
  const prevTrailing = <u32>load<u8>(state, S_TRAILING);
  if (prevLeading != 0xff && leading >= prevLeading && trailing >= prevTrailing) {
    const sig = 64 - prevLeading - prevTrailing;
    // '10' then sig bits: write the control bits and payload separately so
    // no write exceeds 64 bits.
    writeBits(buf, pos, 0b10, 2);
    writeBits(buf, pos + 2, delta >> <u64>prevTrailing, sig);
    return (<u64>sig << 32) | (pos + 2);
  }
  store<u8>(state, <u8>leading, S_LEADING);
  store<u8>(state, <u8>trailing, S_TRAILING);
  const sig = 64 - leading - trailing;
  writeBits(buf, pos, (<u64>0b11 << 11) | (<u64>leading << 6) | <u64>(sig & 63), 13);
  writeBits(buf, pos + 13, delta >> <u64>trailing, sig);
  return (<u64>sig << 32) | (pos + 13);
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
