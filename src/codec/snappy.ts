/**
 * Snappy block format (not the framing format): the body compression of
 * Prometheus remote write requests and SAMPLES remote read responses.
 *
 * A block is uvarint(uncompressed length) followed by elements; the low two
 * bits of each element's tag byte select: 00 literal, 01 copy with an 11-bit
 * offset (length 4..11), 10 copy with a 16-bit offset, 11 copy with a 32-bit
 * offset (length 1..64). Offsets count back from the current output end.
 * @module
 */

/** Why decoding failed. */
export type SnappyErrorKind = "truncated" | "corrupt" | "too-large";

/** A Snappy decoding failure; `kind` says which. */
export class SnappyError extends Error {
  readonly kind: SnappyErrorKind;
  constructor(kind: SnappyErrorKind, message: string) {
    super(`snappy ${kind}: ${message}`);
    this.name = "SnappyError";
    this.kind = kind;
  }
}

const MAX_BLOCK = 0xffffffff;
// The densest element is a 3-byte copy of 64 bytes (21.3x), so a block can
// never announce more than 32x its remaining bytes.
const MAX_EXPANSION = 32;
const MIN_MATCH = 4;
// Below this input size compression cannot win; emit one literal.
const MIN_COMPRESS = 17;

/** Largest output snappyEncode can produce for `n` input bytes. */
export function maxEncodedLength(n: number): number {
  return 32 + n + Math.ceil(n / 6);
}

/**
 * Compresses `src` into one Snappy block. Greedy LZ77 over a hash table of
 * 4-byte sequences; copies use 1-, 2- or 4-byte offsets as the distance needs.
 */
export function snappyEncode(src: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = src.length;
  if (n > MAX_BLOCK) {
    throw new SnappyError("too-large", `input of ${n} bytes exceeds 2^32-1`);
  }
  const dst = new Uint8Array(maxEncodedLength(n));
  let op = putUvarint(dst, 0, n);
  if (n < MIN_COMPRESS) {
    op = emitLiteral(dst, op, src, 0, n);
    return dst.slice(0, op);
  }

  let bits = 8;
  while (bits < 15 && 1 << bits < n) bits++;
  const shift = 32 - bits;
  const table = new Int32Array(1 << bits).fill(-1);

  const last = n - MIN_MATCH; // last position where 4 bytes can be hashed
  let ip = 0;
  let litStart = 0;
  let misses = 0;
  while (ip <= last) {
    const cur = load32(src, ip);
    const h = Math.imul(cur, 0x1e35a7bd) >>> shift;
    const cand = table[h];
    table[h] = ip;
    const dist = ip - cand;
    // A 4-byte-offset copy costs 5 bytes, so it needs a longer match to pay.
    if (cand >= 0 && load32(src, cand) === cur) {
      let len = MIN_MATCH;
      while (ip + len < n && src[cand + len] === src[ip + len]) len++;
      if (dist <= 0xffff || len >= 8) {
        op = emitLiteral(dst, op, src, litStart, ip);
        op = emitCopy(dst, op, dist, len);
        ip += len;
        litStart = ip;
        misses = 0;
        // Remember a position inside the match so runs chain.
        if (ip - 1 <= last) {
          table[Math.imul(load32(src, ip - 1), 0x1e35a7bd) >>> shift] = ip - 1;
        }
        continue;
      }
    }
    // Step faster through data that keeps failing to match: the stride grows
    // by one every 32 misses and wraps after 32, so incompressible input costs
    // ~1/16 lookup per byte while the shifting stride still samples every
    // phase and finds a long repeat however far back its source is.
    ip += 1 + ((misses++ >>> 5) & 31);
  }
  op = emitLiteral(dst, op, src, litStart, n);
  if (op > dst.length) throw new Error("snappyEncode: output bound exceeded");
  return dst.slice(0, op);
}

/**
 * Decompresses one Snappy block. The announced length is checked against
 * `maxLength` (and against what the input could possibly expand to) before
 * anything is allocated; every element is validated, so corrupt or truncated
 * input throws SnappyError and never yields a wrong result.
 */
export function snappyDecode(
  src: Uint8Array,
  maxLength: number,
): Uint8Array<ArrayBuffer> {
  const { value: len, next } = readLength(src);
  if (len > maxLength) {
    throw new SnappyError(
      "too-large",
      `block announces ${len} bytes, limit is ${maxLength}`,
    );
  }
  if (len > (src.length - next) * MAX_EXPANSION) {
    throw new SnappyError(
      "truncated",
      `block announces ${len} bytes but holds only ${src.length - next}`,
    );
  }
  const dst = new Uint8Array(len);
  let ip = next;
  let op = 0;
  const n = src.length;
  while (ip < n) {
    const tag = src[ip++];
    let length: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        length = tag >>> 2;
        if (length >= 60) {
          const extra = length - 59;
          if (n - ip < extra) throw truncated("literal length");
          length = 0;
          for (let k = extra - 1; k >= 0; k--) {
            length = length * 256 + src[ip + k];
          }
          ip += extra;
        }
        length += 1;
        if (n - ip < length) throw truncated("literal bytes");
        if (len - op < length) throw overflow(op, length, len);
        if (length < 32) {
          // Short literals: a loop beats creating a subarray view.
          for (let k = 0; k < length; k++) dst[op + k] = src[ip + k];
        } else dst.set(src.subarray(ip, ip + length), op);
        ip += length;
        op += length;
        continue;
      }
      case 1:
        if (n - ip < 1) throw truncated("copy-1 offset");
        length = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | src[ip];
        ip += 1;
        break;
      case 2:
        if (n - ip < 2) throw truncated("copy-2 offset");
        length = (tag >>> 2) + 1;
        offset = src[ip] | (src[ip + 1] << 8);
        ip += 2;
        break;
      default:
        if (n - ip < 4) throw truncated("copy-4 offset");
        length = (tag >>> 2) + 1;
        offset = load32(src, ip) >>> 0;
        ip += 4;
        break;
    }
    if (offset === 0 || offset > op) {
      throw new SnappyError(
        "corrupt",
        `copy offset ${offset} at output position ${op}`,
      );
    }
    if (len - op < length) throw overflow(op, length, len);
    if (offset >= length && length >= 32) {
      dst.copyWithin(op, op - offset, op - offset + length);
      op += length;
    } else {
      // Short or overlapping (offset < length repeats the last `offset`
      // bytes): a forward byte loop is both correct and fastest here.
      for (let k = 0; k < length; k++, op++) dst[op] = dst[op - offset];
    }
  }
  if (op !== len) {
    throw new SnappyError(
      "truncated",
      `block ends after ${op} of ${len} announced bytes`,
    );
  }
  return dst;
}

/** How many elements of each kind a block holds (its tags, not its data). */
export interface SnappyElementCounts {
  literals: number;
  copy1: number;
  copy2: number;
  copy4: number;
}

/**
 * Walks a block's element tags without producing output: for tests and
 * diagnostics (e.g. to show an encoder used every copy form). Throws
 * SnappyError when the block is structurally broken.
 */
export function snappyElementCounts(src: Uint8Array): SnappyElementCounts {
  const counts = { literals: 0, copy1: 0, copy2: 0, copy4: 0 };
  let ip = readLength(src).next;
  const n = src.length;
  while (ip < n) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let length = tag >>> 2;
      if (length >= 60) {
        const extra = length - 59;
        if (n - ip < extra) throw truncated("literal length");
        length = 0;
        for (let k = extra - 1; k >= 0; k--) {
          length = length * 256 + src[ip + k];
        }
        ip += extra;
      }
      ip += length + 1;
      counts.literals++;
    } else if (kind === 1) {
      ip += 1;
      counts.copy1++;
    } else if (kind === 2) {
      ip += 2;
      counts.copy2++;
    } else {
      ip += 4;
      counts.copy4++;
    }
    if (ip > n) throw truncated("element");
  }
  return counts;
}

/** The uncompressed length a block announces, without decoding it. */
export function snappyDecodedLength(src: Uint8Array): number {
  return readLength(src).value;
}

function readLength(src: Uint8Array): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) throw truncated("length header");
    const b = src[i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (value > MAX_BLOCK) {
        throw new SnappyError("corrupt", "length header exceeds 2^32-1");
      }
      return { value, next: i + 1 };
    }
  }
  throw new SnappyError("corrupt", "length header longer than 5 bytes");
}

function truncated(what: string): SnappyError {
  return new SnappyError("truncated", `input ends inside ${what}`);
}

function overflow(op: number, length: number, len: number): SnappyError {
  return new SnappyError(
    "corrupt",
    `element of ${length} bytes at ${op} overruns the announced ${len}`,
  );
}

function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function putUvarint(dst: Uint8Array, op: number, v: number): number {
  while (v >= 0x80) {
    dst[op++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  dst[op++] = v;
  return op;
}

function emitLiteral(
  dst: Uint8Array,
  op: number,
  src: Uint8Array,
  start: number,
  end: number,
): number {
  const len = end - start;
  if (len === 0) return op;
  const m = len - 1;
  if (m < 60) {
    dst[op++] = m << 2;
  } else {
    const extra = m < 0x100 ? 1 : m < 0x10000 ? 2 : m < 0x1000000 ? 3 : 4;
    dst[op++] = (59 + extra) << 2;
    let v = m;
    for (let k = 0; k < extra; k++) {
      dst[op++] = v & 0xff;
      v = Math.floor(v / 256);
    }
  }
  if (len < 32) {
    for (let k = 0; k < len; k++) dst[op + k] = src[start + k];
  } else dst.set(src.subarray(start, end), op);
  return op + len;
}

function emitCopy(
  dst: Uint8Array,
  op: number,
  offset: number,
  len: number,
): number {
  // Split long matches into pieces of 64, keeping the tail at least 4.
  while (len >= 68) {
    op = emitCopyPiece(dst, op, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    op = emitCopyPiece(dst, op, offset, 60);
    len -= 60;
  }
  return emitCopyPiece(dst, op, offset, len);
}

function emitCopyPiece(
  dst: Uint8Array,
  op: number,
  offset: number,
  len: number,
): number {
  if (len >= 4 && len <= 11 && offset < 2048) {
    dst[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    dst[op++] = offset & 0xff;
  } else if (offset <= 0xffff) {
    dst[op++] = 2 | ((len - 1) << 2);
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
  } else {
    dst[op++] = 3 | ((len - 1) << 2);
    dst[op++] = offset & 0xff;
    dst[op++] = (offset >>> 8) & 0xff;
    dst[op++] = (offset >>> 16) & 0xff;
    dst[op++] = offset >>> 24;
  }
  return op;
}
