// The appender's state: a 48-byte struct in caller-owned memory, so a storage
// head can keep one per open chunk without any managed objects.
//
//   offset  type  field
//   0       u32   buf       chunk buffer (2-byte header + bit stream)
//   4       u32   cap       buffer capacity in bytes
//   8       u32   bitpos    bits written so far, header included
//   12      u32   num       samples in the chunk
//   16      i64   t         last timestamp
//   24      i64   tDelta    last timestamp delta
//   32      u64   vbits     last value's float64 bits
//   40      u8    leading   leading zeros of the last XOR window (0xff: none yet)
//   41      u8    trailing  trailing zeros of the last XOR window
//   42      u8    flags     FLAG_LEGACY_PAD, FLAG_TAIL, FLAG_BLOCKED
//   48      i64   t0        first timestamp (the chunk's min time)
//   56      -     reserved

export const STATE_SIZE: usize = 64;

export const S_BUF: usize = 0;
export const S_CAP: usize = 4;
export const S_BITPOS: usize = 8;
export const S_NUM: usize = 12;
export const S_T: usize = 16;
export const S_TDELTA: usize = 24;
export const S_VBITS: usize = 32;
export const S_LEADING: usize = 40;
export const S_TRAILING: usize = 41;
export const S_FLAGS: usize = 42;
export const S_T0: usize = 48;

/**
 * Mode: write chunks exactly as Prometheus 2.x does. Its bit stream appends
 * an empty byte when a whole byte is written at a byte boundary, and that
 * byte stays at the end when nothing follows (fixed in Prometheus 3.0,
 * prometheus/prometheus#14854). Readers ignore it either way.
 */
export const FLAG_LEGACY_PAD: u8 = 1;
/** State: the chunk currently ends with that empty byte (legacy mode only). */
export const FLAG_TAIL: u8 = 2;
/**
 * State: a batch found this chunk needing a cut or a bigger buffer; later
 * records of the same batch for it wait (status RETRY) until the host has
 * fixed it and cleared the flag, so samples stay in order.
 */
export const FLAG_BLOCKED: u8 = 4;

/** Most samples a chunk can hold: its header is a uint16 count. */
export const MAX_SAMPLES: u32 = 0xffff;

/**
 * Bytes one sample can take at most (10-byte varint + 64-bit value, or a
 * 68-bit delta-of-delta + 77-bit XOR), plus the writer's 9-byte reach.
 */
export const SAMPLE_HEADROOM: usize = 20 + 9;
