/**
 * Cursor-style protobuf primitives for the remote-write decoders: plain
 * functions over (bytes, position, end) that return the value and leave
 * the next position in `cursor.p`, so the hot loops make no objects.
 * Every read is bounds-checked against `end`; malformed input throws
 * RemoteWriteFormatError (the request is then refused whole).
 * @module
 */

/** The request body is not the protobuf message it claims to be. */
export class RemoteWriteFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`malformed protobuf at byte ${offset}: ${message}`);
    this.name = "RemoteWriteFormatError";
  }
}

/** Where the last read ended. */
export const cursor = { p: 0 };

const TWO32 = 4294967296;

/** A varint that must fit 32 bits unsigned (tags, lengths, refs). */
export function varint32(b: Uint8Array, p: number, end: number): number {
  const at = p;
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= end) throw new RemoteWriteFormatError("truncated varint", at);
    const byte = b[p++];
    if (shift === 28) {
      if (byte > 0x0f) {
        throw new RemoteWriteFormatError("varint exceeds 32 bits", at);
      }
      cursor.p = p;
      return (v | (byte << 28)) >>> 0;
    }
    v |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.p = p;
      return v >>> 0;
    }
  }
  throw new RemoteWriteFormatError("unreachable", at);
}

/**
 * An int64 varint as a number: exact when it is a safe integer; larger
 * magnitudes come back rounded (the store refuses them as out of bounds).
 */
export function varint64(b: Uint8Array, p: number, end: number): number {
  const at = p;
  let lo = 0;
  let hi = 0;
  let byte = 0;
  if (end - p >= 10) {
    // Unchecked fast path: room for the longest varint.
    byte = b[p++];
    if (byte < 0x80) {
      cursor.p = p;
      return byte;
    }
    lo = byte & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      byte = b[p++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        cursor.p = p;
        return lo;
      }
    }
  } else {
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw new RemoteWriteFormatError("truncated varint", at);
      byte = b[p++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        cursor.p = p;
        return lo;
      }
    }
  }
  if (p >= end) throw new RemoteWriteFormatError("truncated varint", at);
  byte = b[p++];
  lo |= (byte & 0x0f) << 28;
  hi = (byte & 0x7f) >>> 4;
  for (let shift = 3; byte >= 0x80; shift += 7) {
    if (shift > 31) {
      throw new RemoteWriteFormatError("varint longer than 10 bytes", at);
    }
    if (p >= end) throw new RemoteWriteFormatError("truncated varint", at);
    byte = b[p++];
    hi |= (byte & 0x7f) << shift;
  }
  cursor.p = p;
  return (hi | 0) * TWO32 + (lo >>> 0);
}

/** Reads a tag; checks field number and wire type; returns (field << 3) | wire. */
export function tag(b: Uint8Array, p: number, end: number): number {
  const at = p;
  const t = varint32(b, p, end);
  const wire = t & 7;
  if (t >>> 3 === 0) throw new RemoteWriteFormatError("field number 0", at);
  if (wire > 5) {
    throw new RemoteWriteFormatError(`invalid wire type ${wire}`, at);
  }
  return t;
}

/** Reads a length prefix at p; checks the payload fits before `end`; returns its start. */
export function lengthPrefixed(b: Uint8Array, p: number, end: number): number {
  const at = p;
  const len = varint32(b, p, end);
  const start = cursor.p;
  if (len > end - start) {
    throw new RemoteWriteFormatError(
      `length ${len} exceeds the ${end - start} bytes left`,
      at,
    );
  }
  cursor.p = start + len;
  return start;
}

/**
 * Skips the value of a field whose tag `t` was read (p is after the tag);
 * returns the position after it. Groups are skipped iteratively.
 */
export function skipField(
  b: Uint8Array,
  p: number,
  end: number,
  t: number,
): number {
  switch (t & 7) {
    case 0:
      varint64(b, p, end);
      return cursor.p;
    case 1:
      if (end - p < 8) throw new RemoteWriteFormatError("truncated fixed64", p);
      return p + 8;
    case 2:
      lengthPrefixed(b, p, end);
      return cursor.p;
    case 5:
      if (end - p < 4) throw new RemoteWriteFormatError("truncated fixed32", p);
      return p + 4;
    case 3:
      return skipGroup(b, p, end, t >>> 3);
    default:
      throw new RemoteWriteFormatError(`unexpected wire type ${t & 7}`, p);
  }
}

function skipGroup(
  b: Uint8Array,
  p: number,
  end: number,
  field: number,
): number {
  const open = [field];
  while (open.length > 0) {
    if (p >= end) throw new RemoteWriteFormatError("unterminated group", p);
    const t = tag(b, p, end);
    p = cursor.p;
    const wire = t & 7;
    if (wire === 3) open.push(t >>> 3);
    else if (wire === 4) {
      if (open.pop() !== t >>> 3) {
        throw new RemoteWriteFormatError("mismatched end-group tag", p);
      }
    } else p = skipField(b, p, end, t);
  }
  return p;
}

/** Throws unless tag `t` has wire type `wire`. */
export function expectWire(t: number, wire: number, at: number): void {
  if ((t & 7) !== wire) {
    throw new RemoteWriteFormatError(
      `field ${t >>> 3} has wire type ${t & 7}, expected ${wire}`,
      at,
    );
  }
}
