/**
 * Plain TypeScript reference of the Prometheus XOR chunk format (the oracle
 * for the WASM kernel's property tests and the baseline of its benchmarks).
 * Written for clarity: BigInt for every 64-bit quantity, one bit at a time
 * where that is simplest.
 * @module
 */

/** A sample with an exact int64 timestamp and the float64 bit pattern of its value. */
export interface ExactSample {
  t: bigint;
  /** float64 bits as unsigned 64-bit BigInt (keeps NaN payloads). */
  vbits: bigint;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * Go's bstream writer as Prometheus has it: `count` is the number of free
 * bits in the last byte. With `legacyPadding` (Prometheus 2.x), writeByte at
 * a full last byte appends two bytes, leaving an empty one at the end until
 * more bits arrive (prometheus/prometheus#14854 removed that in 3.0).
 */
class BitWriter {
  bytes: number[] = [0, 0];
  count = 0;
  constructor(readonly legacyPadding: boolean) {}

  writeBit(bit: number): void {
    if (this.count === 0) {
      this.bytes.push(0);
      this.count = 8;
    }
    if (bit) this.bytes[this.bytes.length - 1] |= 1 << (this.count - 1);
    this.count--;
  }

  writeByte(b: number): void {
    if (this.count === 0) {
      if (!this.legacyPadding) {
        this.bytes.push(b);
        return;
      }
      this.bytes.push(0);
      this.count = 8;
    }
    this.bytes[this.bytes.length - 1] |= b >> (8 - this.count);
    this.bytes.push((b << this.count) & 0xff);
  }

  writeBits(value: bigint, n: number): void {
    for (; n >= 8; n -= 8) {
      this.writeByte(Number((value >> BigInt(n - 8)) & 0xffn));
    }
    for (let i = n - 1; i >= 0; i--) {
      this.writeBit(Number((value >> BigInt(i)) & 1n));
    }
  }
}

class BitReader {
  pos = 16;
  constructor(readonly bytes: Uint8Array) {}

  readBit(): number {
    const byte = this.pos >> 3;
    if (byte >= this.bytes.length) throw new RangeError("truncated chunk");
    const bit = (this.bytes[byte] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  readBits(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 1n) | BigInt(this.readBit());
    return v;
  }

  readUvarint(): bigint {
    let x = 0n;
    for (let i = 0; i < 10; i++) {
      const b = Number(this.readBits(8));
      if (b < 0x80) {
        if (i === 9 && b > 1) throw new RangeError("varint overflows 64 bits");
        return x | (BigInt(b) << BigInt(7 * i));
      }
      x |= BigInt(b & 0x7f) << BigInt(7 * i);
    }
    throw new RangeError("varint overflows 64 bits");
  }
}

function toInt64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

function bitRange(x: bigint, nbits: number): boolean {
  const half = 1n << BigInt(nbits - 1);
  return -(half - 1n) <= x && x <= half;
}

function clz64(x: bigint): number {
  let n = 0;
  for (let i = 63; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) n++;
  return n;
}

function ctz64(x: bigint): number {
  let n = 0;
  for (let i = 0; i < 64 && ((x >> BigInt(i)) & 1n) === 0n; i++) n++;
  return n;
}

/**
 * Encodes samples into one chunk exactly as Prometheus' xorAppender does;
 * `legacyPadding` selects Prometheus 2.x's byte layout (see BitWriter).
 */
export function encodeChunk(
  samples: readonly ExactSample[],
  legacyPadding = true,
): Uint8Array {
  if (samples.length > 0xffff) throw new RangeError("more than 65535 samples");
  const w = new BitWriter(legacyPadding);
  let t = 0n, tDelta = 0n, vbits = 0n, leading = 0xff, trailing = 0;
  samples.forEach((s, i) => {
    if (i === 0) {
      const zz = (BigInt.asUintN(64, s.t << 1n)) ^
        BigInt.asUintN(64, s.t >> 63n);
      writeUvarint(w, zz);
      w.writeBits(s.vbits, 64);
    } else {
      const delta = toInt64(s.t - t);
      if (i === 1) {
        writeUvarint(w, BigInt.asUintN(64, delta));
      } else {
        const dod = toInt64(delta - tDelta);
        if (dod === 0n) w.writeBit(0);
        else if (bitRange(dod, 14)) {
          w.writeBits(0b10n, 2);
          w.writeBits(BigInt.asUintN(14, dod), 14);
        } else if (bitRange(dod, 17)) {
          w.writeBits(0b110n, 3);
          w.writeBits(BigInt.asUintN(17, dod), 17);
        } else if (bitRange(dod, 20)) {
          w.writeBits(0b1110n, 4);
          w.writeBits(BigInt.asUintN(20, dod), 20);
        } else {
          w.writeBits(0b1111n, 4);
          w.writeBits(BigInt.asUintN(64, dod), 64);
        }
      }
      tDelta = delta;
      const x = s.vbits ^ vbits;
      if (x === 0n) w.writeBit(0);
      else {
        w.writeBit(1);
        let lz = clz64(x);
        const tz = ctz64(x);
        if (lz >= 32) lz = 31;
        if (leading !== 0xff && lz >= leading && tz >= trailing) {
          w.writeBit(0);
          w.writeBits(x >> BigInt(trailing), 64 - leading - trailing);
        } else {
          leading = lz;
          trailing = tz;
          w.writeBit(1);
          w.writeBits(BigInt(lz), 5);
          const sig = 64 - lz - tz;
          w.writeBits(BigInt(sig & 63), 6);
          w.writeBits(x >> BigInt(tz), sig);
        }
      }
    }
    t = s.t;
    vbits = s.vbits;
  });
  const out = Uint8Array.from(w.bytes);
  out[0] = samples.length >> 8;
  out[1] = samples.length & 0xff;
  return out;
}

function writeUvarint(w: BitWriter, x: bigint): void {
  while (x >= 0x80n) {
    w.writeByte(Number((x & 0x7fn) | 0x80n));
    x >>= 7n;
  }
  w.writeByte(Number(x));
}

/** Decodes a chunk as Prometheus' xorIterator does; throws RangeError on truncated or corrupt input. */
export function decodeChunk(bytes: Uint8Array): ExactSample[] {
  if (bytes.length < 2) throw new RangeError("truncated chunk");
  const num = (bytes[0] << 8) | bytes[1];
  const r = new BitReader(bytes);
  const out: ExactSample[] = [];
  let t = 0n, tDelta = 0n, vbits = 0n, leading = 0, trailing = 0;
  for (let i = 0; i < num; i++) {
    if (i === 0) {
      const zz = r.readUvarint();
      t = toInt64((zz >> 1n) ^ -(zz & 1n));
      vbits = r.readBits(64);
    } else {
      if (i === 1) {
        tDelta = toInt64(r.readUvarint());
      } else {
        let prefix = 0;
        let n = 0;
        while (n < 4) {
          const bit = r.readBit();
          n++;
          prefix = (prefix << 1) | bit;
          if (bit === 0) break;
        }
        let dod = 0n;
        const size = prefix === 0b10
          ? 14
          : prefix === 0b110
          ? 17
          : prefix === 0b1110
          ? 20
          : 0;
        if (prefix === 0b1111) dod = toInt64(r.readBits(64));
        else if (size > 0) {
          let bits = r.readBits(size);
          if (bits > (1n << BigInt(size - 1))) bits -= 1n << BigInt(size);
          dod = bits;
        }
        tDelta = toInt64(tDelta + dod);
      }
      t = toInt64(t + tDelta);
      if (r.readBit() === 1) {
        let mbits: number;
        if (r.readBit() === 0) {
          mbits = 64 - leading - trailing;
        } else {
          const lz = Number(r.readBits(5));
          mbits = Number(r.readBits(6));
          if (mbits === 0) mbits = 64;
          if (lz + mbits > 64) throw new RangeError("corrupt chunk");
          leading = lz;
          trailing = 64 - lz - mbits;
        }
        vbits ^= (r.readBits(mbits) << BigInt(trailing)) & MASK64;
      }
    }
    out.push({ t, vbits });
  }
  return out;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The float64 bits of `v` as an unsigned BigInt. */
export function bitsOf(v: number): bigint {
  f64[0] = v;
  return u64[0];
}

/** The float64 whose bits are `b` (NaN payloads may not survive a JS number). */
export function fromBits(b: bigint): number {
  u64[0] = b;
  return f64[0];
}
