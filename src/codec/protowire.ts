/**
 * Protocol Buffers wire format: a bounds-checked reader and a growable writer
 * over Uint8Array. Everything that can go wrong while reading (truncation,
 * overlong varints, bad wire types, lengths past the end) throws ProtoError;
 * nothing reads outside the buffer and every loop advances.
 * @module
 */

/** Wire types of the protobuf encoding. */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  SGROUP: 3,
  EGROUP: 4,
  I32: 5,
} as const;

/** Why decoding failed: the input ended early, or it is not valid protobuf. */
export type ProtoErrorKind = "truncated" | "corrupt" | "range";

/** A protobuf decoding failure; `kind` says which, `offset` where. */
export class ProtoError extends Error {
  readonly kind: ProtoErrorKind;
  readonly offset: number;
  constructor(kind: ProtoErrorKind, message: string, offset: number) {
    super(`protobuf ${kind} at byte ${offset}: ${message}`);
    this.name = "ProtoError";
    this.kind = kind;
    this.offset = offset;
  }
}

const MAX_FIELD = 0x1fffffff;
const TWO32 = 4294967296;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * Reads one message (or a slice of one). `pos` advances as fields are read;
 * `end` is the exclusive end of the message. Sub-messages are read with
 * `message()`, which returns a reader confined to the sub-message bytes.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Wire type of the field whose tag was read last. */
  wireType = 0;
  /** Field number of the tag read last. */
  field = 0;
  // The last varint, as two unsigned 32-bit halves.
  #lo = 0;
  #hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`bad reader window [${start}, ${end})`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** True when every byte of the message has been consumed. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field tag; returns the field number (also kept in `field`). */
  tag(): number {
    const at = this.pos;
    this.#varint();
    if (this.#hi !== 0) {
      throw new ProtoError("corrupt", "tag does not fit 32 bits", at);
    }
    const wire = this.#lo & 7;
    const field = this.#lo >>> 3;
    if (field === 0 || field > MAX_FIELD) {
      throw new ProtoError("corrupt", `invalid field number ${field}`, at);
    }
    if (wire > 5) {
      throw new ProtoError("corrupt", `invalid wire type ${wire}`, at);
    }
    this.field = field;
    this.wireType = wire;
    return field;
  }

  /** Throws unless the last tag has wire type `wire`. */
  expect(wire: number): void {
    if (this.wireType !== wire) {
      throw new ProtoError(
        "corrupt",
        `field ${this.field} has wire type ${this.wireType}, expected ${wire}`,
        this.pos,
      );
    }
  }

  /** Unsigned varint that must fit 32 bits (lengths, enums in range). */
  uint32(): number {
    const at = this.pos;
    this.#varint();
    if (this.#hi !== 0) {
      throw new ProtoError("range", "varint exceeds 32 bits", at);
    }
    return this.#lo;
  }

  /** int32/enum: the low 32 bits, sign-extended (protobuf semantics). */
  int32(): number {
    this.#varint();
    return this.#lo | 0;
  }

  /**
   * int64 as a number; throws ProtoError("range") when the value is not a
   * safe integer (|v| > 2^53 - 1) rather than rounding it.
   */
  int64(): number {
    const at = this.pos;
    this.#varint();
    const v = (this.#hi | 0) * TWO32 + this.#lo;
    if (!Number.isSafeInteger(v)) {
      throw new ProtoError("range", "int64 outside ±(2^53-1)", at);
    }
    return v;
  }

  /** int64 as an exact BigInt. */
  int64Big(): bigint {
    this.#varint();
    return BigInt.asIntN(64, (BigInt(this.#hi) << 32n) | BigInt(this.#lo));
  }

  /** uint64 as an exact BigInt. */
  uint64Big(): bigint {
    this.#varint();
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** sint64 (zigzag) as a number; throws when not a safe integer. */
  sint64(): number {
    const at = this.pos;
    this.#varint();
    // zigzag: (n >>> 1) ^ -(n & 1), done on the two halves.
    const neg = this.#lo & 1;
    const lo = ((this.#lo >>> 1) | (this.#hi << 31)) >>> 0;
    const hi = this.#hi >>> 1;
    const mag = hi * TWO32 + lo;
    const v = neg ? -mag - 1 : mag;
    if (!Number.isSafeInteger(v)) {
      throw new ProtoError("range", "sint64 outside ±(2^53-1)", at);
    }
    return v;
  }

  /** bool: any non-zero varint is true. */
  bool(): boolean {
    this.#varint();
    return (this.#lo | this.#hi) !== 0;
  }

  /** fixed64 double, as a number (NaN payloads may be altered by JS). */
  double(): number {
    const at = this.#take(8);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 8)
      .getFloat64(0, true);
  }

  /**
   * Copies the 8 raw bytes of a fixed64 field into `dst` at `dstOffset`
   * (bit-exact: keeps signalling-NaN payloads such as the stale marker,
   * which a JS number cannot hold).
   */
  fixed64Into(dst: Uint8Array, dstOffset: number): void {
    const at = this.#take(8);
    const b = this.buf;
    for (let k = 0; k < 8; k++) dst[dstOffset + k] = b[at + k];
  }

  /** fixed32 as an unsigned number. */
  fixed32(): number {
    const at = this.#take(4);
    const b = this.buf;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) |
      (b[at + 3] << 24)) >>>
      0;
  }

  /** Length-delimited field: returns its bytes as a view (no copy). */
  bytes(): Uint8Array {
    const at = this.#lengthPrefixed();
    return this.buf.subarray(at, this.pos);
  }

  /** Length-delimited field decoded as strict UTF-8. */
  string(): string {
    const at = this.#lengthPrefixed();
    const end = this.pos;
    if (end - at <= 64) {
      // Short ASCII (nearly every label) without a TextDecoder call.
      let s = "";
      let k = at;
      for (; k < end; k++) {
        const c = this.buf[k];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (k === end) return s;
    }
    try {
      return utf8.decode(this.buf.subarray(at, this.pos));
    } catch {
      throw new ProtoError("corrupt", "string is not valid UTF-8", at);
    }
  }

  /** Length-delimited field as a reader over the sub-message. */
  message(): ProtoReader {
    const at = this.#lengthPrefixed();
    return new ProtoReader(this.buf, at, this.pos);
  }

  /** Skips the value of the field whose tag was read last, per its wire type. */
  skip(): void {
    switch (this.wireType) {
      case WireType.VARINT:
        this.#varint();
        return;
      case WireType.I64:
        this.#take(8);
        return;
      case WireType.LEN:
        this.#lengthPrefixed();
        return;
      case WireType.I32:
        this.#take(4);
        return;
      case WireType.SGROUP:
        this.#skipGroup(this.field);
        return;
      default:
        throw new ProtoError(
          "corrupt",
          `unexpected wire type ${this.wireType} for field ${this.field}`,
          this.pos,
        );
    }
  }

  /** Skips a (deprecated) group up to its matching end tag, iteratively. */
  #skipGroup(field: number): void {
    const open = [field];
    while (open.length > 0) {
      if (this.done()) {
        throw new ProtoError("truncated", "group without end tag", this.pos);
      }
      const f = this.tag();
      if (this.wireType === WireType.SGROUP) {
        open.push(f);
      } else if (this.wireType === WireType.EGROUP) {
        if (open.pop() !== f) {
          throw new ProtoError("corrupt", "mismatched group end", this.pos);
        }
      } else {
        this.skip();
      }
    }
  }

  // Reads a varint length, checks it fits, returns the payload start.
  #lengthPrefixed(): number {
    const at = this.pos;
    this.#varint();
    const len = this.#lo;
    if (this.#hi !== 0 || len > this.end - this.pos) {
      throw new ProtoError(
        "truncated",
        `length ${this.#hi ? ">= 2^32" : len} exceeds the ${
          this.end - this.pos
        } bytes left`,
        at,
      );
    }
    const start = this.pos;
    this.pos += len;
    return start;
  }

  // Advances over n bytes, returns where they start.
  #take(n: number): number {
    if (this.end - this.pos < n) {
      throw new ProtoError(
        "truncated",
        `need ${n} bytes, ${this.end - this.pos} left`,
        this.pos,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  // Reads a varint of up to 10 bytes into #lo/#hi.
  #varint(): void {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw this.#truncatedVarint();
      byte = b[p++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.#set(lo, 0, p);
        return;
      }
    }
    // Byte 5 carries bits 28..31 of lo and 0..2 of hi.
    if (p >= end) throw this.#truncatedVarint();
    byte = b[p++];
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x70) >>> 4;
    if (byte < 0x80) {
      this.#set(lo, hi, p);
      return;
    }
    for (let shift = 3; shift < 31; shift += 7) {
      if (p >= end) throw this.#truncatedVarint();
      byte = b[p++];
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.#set(lo, hi, p);
        return;
      }
    }
    // Byte 10 may only carry bit 63.
    if (p >= end) throw this.#truncatedVarint();
    byte = b[p++];
    if (byte > 1) {
      throw new ProtoError("corrupt", "varint longer than 64 bits", this.pos);
    }
    hi |= byte << 31;
    this.#set(lo, hi, p);
  }

  #set(lo: number, hi: number, p: number): void {
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
    this.pos = p;
  }

  #truncatedVarint(): ProtoError {
    return new ProtoError("truncated", "varint runs past the end", this.pos);
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(b: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

/**
 * Appends protobuf fields to a growable buffer. Nested messages are written
 * in place: `fork()` before the sub-message, `join(field, mark)` after it
 * moves the bytes right to make room for the tag and length.
 */
export class ProtoWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#pos);
  }

  /** Writes a tag. */
  tag(field: number, wire: number): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD) {
      throw new RangeError(`invalid field number ${field}`);
    }
    return this.uvarint(field * 8 + wire);
  }

  /** Unsigned varint of a non-negative safe integer. */
  uvarint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`uvarint needs a safe non-negative integer: ${v}`);
    }
    this.#ensure(10);
    const b = this.#buf;
    while (v >= 0x80) {
      b[this.#pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.#pos++] = v;
    return this;
  }

  /** int64 varint of a safe integer (negatives take 10 bytes). */
  int64(v: number): this {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`int64 needs a safe integer: ${v}`);
    }
    if (v >= 0) return this.uvarint(v);
    // Two's complement of a negative: split into 32-bit halves.
    const hi = Math.floor(v / TWO32) >>> 0;
    const lo = (v - Math.floor(v / TWO32) * TWO32) >>> 0;
    return this.#varint64(lo, hi);
  }

  /** int64/uint64 varint from a BigInt (taken modulo 2^64). */
  int64Big(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    return this.#varint64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  /** sint64 zigzag varint of a safe integer. */
  sint64(v: number): this {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`sint64 needs a safe integer: ${v}`);
    }
    // zigzag(v) = 2v or 2(-v-1)+1; shifted on 32-bit halves since it can
    // exceed 2^53.
    const m = v >= 0 ? v : -v - 1;
    const hi = Math.floor(m / TWO32);
    const lo = m - hi * TWO32;
    return this.#varint64(
      ((lo << 1) | (v >= 0 ? 0 : 1)) >>> 0,
      ((hi << 1) | (lo >>> 31)) >>> 0,
    );
  }

  /** A double as fixed64 little-endian. */
  double(v: number): this {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
    return this;
  }

  /** 8 raw bytes (a fixed64 field's value), copied bit-exactly. */
  raw8(src: Uint8Array, offset: number): this {
    this.#ensure(8);
    const b = this.#buf;
    const p = this.#pos;
    for (let k = 0; k < 8; k++) b[p + k] = src[offset + k];
    this.#pos = p + 8;
    return this;
  }

  /** fixed32 little-endian. */
  fixed32(v: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, v >>> 0, true);
    this.#pos += 4;
    return this;
  }

  /** Raw bytes with no prefix. */
  raw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  /** Field `field` as length-delimited bytes. */
  bytesField(field: number, bytes: Uint8Array): this {
    return this.tag(field, WireType.LEN).uvarint(bytes.length).raw(bytes);
  }

  /** Field `field` as a UTF-8 string. */
  stringField(field: number, s: string): this {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place.
    this.tag(field, WireType.LEN);
    const max = s.length * 3;
    if (max < 128) {
      this.#ensure(1 + max);
      const at = this.#pos + 1;
      const { written } = utf8Encoder.encodeInto(
        s,
        this.#buf.subarray(at, at + max),
      );
      this.#buf[this.#pos] = written;
      this.#pos = at + written;
      return this;
    }
    const encoded = utf8Encoder.encode(s);
    return this.uvarint(encoded.length).raw(encoded);
  }

  /** Marks the start of a nested message; pass the mark to `join`. */
  fork(): number {
    return this.#pos;
  }

  /** Closes the nested message started at `mark` as field `field`. */
  join(field: number, mark: number): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD) {
      throw new RangeError(`invalid field number ${field}`);
    }
    const len = this.#pos - mark;
    const key = field * 8 + WireType.LEN;
    const h = varintSize(key) + varintSize(len);
    this.#ensure(h);
    const b = this.#buf;
    if (len < 64) {
      for (let k = len - 1; k >= 0; k--) b[mark + h + k] = b[mark + k];
    } else b.copyWithin(mark + h, mark, this.#pos);
    let p = putVarint(b, mark, key);
    p = putVarint(b, p, len);
    this.#pos += h;
    return this;
  }

  #varint64(lo: number, hi: number): this {
    this.#ensure(10);
    const b = this.#buf;
    while (hi !== 0 || lo >= 0x80) {
      b[this.#pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    b[this.#pos++] = lo;
    return this;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
