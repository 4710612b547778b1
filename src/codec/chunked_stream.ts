/**
 * Framing of STREAMED_XOR_CHUNKS remote-read responses (Content-Type
 * `application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse`):
 * each frame is uvarint(message length), then the CRC-32C of the message as
 * 4 bytes big-endian, then the message. The body is not Snappy-compressed.
 * @module
 */

import { crc32c } from "./crc32c.ts";

/** The Content-Type Prometheus sends with a streamed chunked response. */
export const STREAMED_CHUNKS_CONTENT_TYPE =
  "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/** Why reading a frame failed. */
export type FrameErrorKind = "truncated" | "corrupt" | "checksum" | "too-large";

/** A framing failure; `kind` says which, `offset` is the frame's start. */
export class FrameError extends Error {
  readonly kind: FrameErrorKind;
  readonly offset: number;
  constructor(kind: FrameErrorKind, message: string, offset: number) {
    super(`chunked stream ${kind} at byte ${offset}: ${message}`);
    this.name = "FrameError";
    this.kind = kind;
    this.offset = offset;
  }
}

/** Wraps one encoded message as a frame. */
export function encodeFrame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  let head = 0;
  for (let v = message.length; v >= 0x80; v = Math.floor(v / 128)) head++;
  head += 1;
  const out = new Uint8Array(head + 4 + message.length);
  let p = 0;
  let v = message.length;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  new DataView(out.buffer).setUint32(p, crc32c(message), false);
  out.set(message, p + 4);
  return out;
}

/**
 * Incremental frame reader: `push()` bytes as they arrive, then call
 * `next()` until it returns null (needs more bytes). A frame whose length
 * exceeds `maxFrameSize` is refused as soon as its header arrives; a checksum
 * mismatch throws. Call `end()` when the input is over to detect a
 * partial trailing frame.
 */
export class FrameReader {
  readonly maxFrameSize: number;
  #buf = new Uint8Array(0);
  #start = 0; // first unread byte in #buf
  #end = 0; // end of the bytes received in #buf
  #consumed = 0; // bytes dropped before #buf[0], for error offsets

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Appends received bytes (amortised O(1) per byte). */
  push(bytes: Uint8Array): void {
    if (this.#end + bytes.length > this.#buf.length) {
      const left = this.#end - this.#start;
      let cap = Math.max(1024, this.#buf.length);
      while (cap < left + bytes.length) cap *= 2;
      const next = cap > this.#buf.length ? new Uint8Array(cap) : this.#buf;
      if (next === this.#buf) next.copyWithin(0, this.#start, this.#end);
      else next.set(this.#buf.subarray(this.#start, this.#end));
      this.#consumed += this.#start;
      this.#buf = next;
      this.#start = 0;
      this.#end = left;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** The next complete message, or null when more bytes are needed. */
  next(): Uint8Array<ArrayBuffer> | null {
    const b = this.#buf.subarray(0, this.#end);
    const at = this.#start;
    const offset = this.#consumed + at;
    let len = 0;
    let p = at;
    for (let i = 0;; i++) {
      if (p >= b.length) return null;
      if (i === 5) {
        throw new FrameError("corrupt", "length varint too long", offset);
      }
      const byte = b[p++];
      len += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) break;
    }
    if (len > this.maxFrameSize) {
      throw new FrameError(
        "too-large",
        `frame of ${len} bytes exceeds the limit ${this.maxFrameSize}`,
        offset,
      );
    }
    if (b.length - p < 4 + len) return null;
    const expected = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) |
      b[p + 3]) >>> 0;
    const message = b.slice(p + 4, p + 4 + len);
    const actual = crc32c(message);
    if (actual !== expected) {
      throw new FrameError(
        "checksum",
        `CRC-32C ${hex(actual)} does not match ${hex(expected)}`,
        offset,
      );
    }
    this.#start = p + 4 + len;
    return message;
  }

  /** Throws if bytes of an unfinished frame remain. */
  end(): void {
    if (this.#start < this.#end) {
      throw new FrameError(
        "truncated",
        `${this.#end - this.#start} bytes of an unfinished frame`,
        this.#consumed + this.#start,
      );
    }
  }
}

/** Splits a whole response body into its messages. */
export function decodeFrames(
  body: Uint8Array,
  maxFrameSize: number,
): Uint8Array[] {
  const reader = new FrameReader(maxFrameSize);
  reader.push(body);
  const out: Uint8Array[] = [];
  for (let m = reader.next(); m !== null; m = reader.next()) out.push(m);
  reader.end();
  return out;
}

/** Yields the messages of a streamed body as they arrive. */
export async function* readFrames(
  body: ReadableStream<Uint8Array>,
  maxFrameSize: number,
): AsyncGenerator<Uint8Array> {
  const reader = new FrameReader(maxFrameSize);
  for await (const piece of body) {
    reader.push(piece);
    for (let m = reader.next(); m !== null; m = reader.next()) yield m;
  }
  reader.end();
}

function hex(v: number): string {
  return "0x" + v.toString(16).padStart(8, "0");
}
