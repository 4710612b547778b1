/**
 * Byte writer and reader for the block files: big-endian fixed-width
 * integers and unsigned LEB128 varints holding any safe integer
 * (0 … 2^53 - 1) without going through 32-bit operators.
 * @module
 */
import { DecodeError } from "./errors.ts";

const MAX_UVARINT_BYTES = 8; // 8 × 7 = 56 bits ≥ 53

/** Bytes of the uvarint encoding of `n`. */
export function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A growable byte buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(capacity = 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(x: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = x;
  }

  u32be(x: number): void {
    this.#reserve(4);
    const b = this.#buf;
    const i = this.#len;
    b[i] = x >>> 24;
    b[i + 1] = x >>> 16;
    b[i + 2] = x >>> 8;
    b[i + 3] = x;
    this.#len += 4;
  }

  /** A safe non-negative integer as two big-endian u32 halves. */
  u64be(x: number): void {
    this.u32be(Math.floor(x / 2 ** 32));
    this.u32be(x % 2 ** 32);
  }

  /** A non-negative safe integer as an unsigned LEB128 varint. */
  uvarint(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) {
      throw new RangeError(`uvarint out of range: ${n}`);
    }
    this.#reserve(MAX_UVARINT_BYTES);
    const b = this.#buf;
    while (n >= 128) {
      b[this.#len++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.#len++] = n;
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  /** A view of the bytes written so far. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Forgets the contents, keeping the buffer. */
  reset(): void {
    this.#len = 0;
  }
}

/** Reads from [pos, end) of a byte array; every overrun throws DecodeError. */
export class ByteReader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) {
      throw new DecodeError("unexpected end of data");
    }
  }

  u8(): number {
    this.#need(1);
    return this.buf[this.pos++];
  }

  u32be(): number {
    this.#need(4);
    const b = this.buf;
    const i = this.pos;
    this.pos += 4;
    return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>>
      0;
  }

  u64be(): number {
    const hi = this.u32be();
    const lo = this.u32be();
    const x = hi * 2 ** 32 + lo;
    if (!Number.isSafeInteger(x)) throw new DecodeError("u64 beyond 2^53");
    return x;
  }

  uvarint(): number {
    let x = 0;
    let scale = 1;
    for (let i = 0; i < MAX_UVARINT_BYTES; i++) {
      if (this.pos >= this.end) {
        throw new DecodeError("unexpected end of data in varint");
      }
      const b = this.buf[this.pos++];
      x += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(x)) {
          throw new DecodeError("varint beyond 2^53");
        }
        return x;
      }
      scale *= 128;
    }
    throw new DecodeError("varint too long");
  }

  /** A uvarint that must not exceed `max` (counts, refs, lengths). */
  uvarintAtMost(max: number, what: string): number {
    const x = this.uvarint();
    if (x > max) throw new DecodeError(`${what} ${x} exceeds ${max}`);
    return x;
  }

  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
