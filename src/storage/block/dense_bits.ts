/**
 * Bit packing and signed integers for the dense encodings
 * (docs/format/block.md, "Dense samples"): LSB-first bit streams, zigzag
 * varints of safe integers, and zigzag varints of 64-bit values carried as
 * two u32 halves.
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { DecodeError } from "./errors.ts";

/** Signed safe integers stored by `svarint` must stay below this in magnitude. */
export const SVARINT_LIMIT = 2 ** 52;

/** Zigzag of a signed integer with |x| < 2^52 (the result is a safe integer). */
export function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

/** Inverse of `zigzag`. */
export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Writes a signed integer with |x| < 2^52 as a zigzag uvarint. */
export function writeSvarint(w: ByteWriter, x: number): void {
  w.uvarint(zigzag(x));
}

/** Reads a zigzag uvarint; the result has |x| < 2^52. */
export function readSvarint(r: ByteReader): number {
  return unzigzag(r.uvarint());
}

/** Bytes of `uvarint(zigzag(x))`. */
export function svarintSize(x: number): number {
  let z = zigzag(x);
  let size = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes a 64-bit two's complement value (hi, lo) as a zigzag varint of up to 10 bytes. */
export function writeZigzag64(w: ByteWriter, hi: number, lo: number): void {
  const x = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  let z = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
  while (z >= 128n) {
    w.u8(Number(z & 127n) | 128);
    z >>= 7n;
  }
  w.u8(Number(z));
}

/** Bytes `writeZigzag64` writes. */
export function zigzag64Size(hi: number, lo: number): number {
  const x = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  let z = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
  let size = 1;
  while (z >= 128n) {
    z >>= 7n;
    size++;
  }
  return size;
}

/** Reads `writeZigzag64`; returns [hi, lo] as u32s. */
export function readZigzag64(r: ByteReader): [number, number] {
  let z = 0n;
  for (let i = 0; i < 10; i++) {
    const b = r.u8();
    z |= BigInt(b & 127) << BigInt(7 * i);
    if (b < 128) {
      if (z >= 1n << 64n) throw new DecodeError("64-bit varint overflows");
      if (i > 0 && b === 0) throw new DecodeError("64-bit varint not minimal");
      const x = (z >> 1n) ^ -(z & 1n);
      const u = BigInt.asUintN(64, x);
      return [Number(u >> 32n), Number(u & 0xffffffffn)];
    }
  }
  throw new DecodeError("64-bit varint too long");
}

/** Reads a u64 stored as 8 big-endian bytes; returns [hi, lo]. */
export function readU64Halves(r: ByteReader): [number, number] {
  const hi = r.u32be();
  return [hi, r.u32be()];
}

/** Number of bits needed for a non-negative safe integer (0 for 0). */
export function bitLength(x: number): number {
  if (x < 2 ** 32) return 32 - Math.clz32(x);
  return 32 + (32 - Math.clz32(Math.floor(x / 2 ** 32)));
}

/** Appends values of up to 32 bits LSB-first; `finish` pads to a byte. */
export class BitWriter {
  #acc = 0;
  #n = 0;

  constructor(readonly out: ByteWriter) {}

  /** Appends the low `width` bits (≤ 16) of `v`. */
  #small(v: number, width: number): void {
    this.#acc |= v << this.#n;
    this.#n += width;
    while (this.#n >= 8) {
      this.out.u8(this.#acc & 255);
      this.#acc >>>= 8;
      this.#n -= 8;
    }
  }

  /** Appends the low `width` bits (0 … 32) of the u32 `v`. */
  write(v: number, width: number): void {
    if (width > 16) {
      this.#small(v & 0xffff, 16);
      this.#small((v >>> 16) & ((1 << (width - 16)) - 1), width - 16);
    } else if (width > 0) {
      this.#small(v & ((1 << width) - 1), width);
    }
  }

  /** Pads the last byte with zero bits. */
  finish(): void {
    if (this.#n > 0) this.out.u8(this.#acc & 255);
    this.#acc = 0;
    this.#n = 0;
  }
}

/**
 * Reads `width`-bit (≤ 32) values LSB-first from `buf` at bit `pos`. The
 * caller guarantees 5 readable bytes from `pos >>> 3` (buffers are padded).
 */
export function readBits(buf: Uint8Array, pos: number, width: number): number {
  const at = pos >>> 3;
  const sh = pos & 7;
  let v = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) |
    (buf[at + 3] << 24)) >>> sh;
  if (sh + width > 32) v |= buf[at + 4] << (32 - sh);
  return width === 32 ? v >>> 0 : (v & ((1 << width) - 1)) >>> 0;
}
