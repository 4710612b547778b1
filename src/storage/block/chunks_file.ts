/**
 * The chunks file: an 8-byte header, then chunk records back to back, each
 * `[data length uvarint][encoding u8][data][CRC-32C u32 BE of encoding+data]`.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import { ByteReader, ByteWriter, uvarintSize } from "./bytes.ts";
import type { ChunkRef } from "./chunk_ref.ts";
import { DecodeError } from "./errors.ts";
import {
  BLOCK_FORMAT_VERSION,
  CHUNKS_MAGIC,
  FILE_HEADER_SIZE,
} from "./format.ts";

const FLUSH_AT = 1 << 20;

/** Appends chunk records to a new chunks file through a 1 MiB buffer. */
export class ChunksFileWriter {
  readonly #file: Deno.FsFile;
  readonly #buf = new ByteWriter(FLUSH_AT + 4096);
  #size = 0;
  #crc = 0;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
    this.#buf.u32be(CHUNKS_MAGIC);
    this.#buf.u8(BLOCK_FORMAT_VERSION);
    this.#buf.u8(0);
    this.#buf.u8(0);
    this.#buf.u8(0);
    this.#size = FILE_HEADER_SIZE;
  }

  static async create(path: string): Promise<ChunksFileWriter> {
    return new ChunksFileWriter(
      await Deno.open(path, { write: true, createNew: true }),
    );
  }

  /** Bytes written so far (the offset of the next record). */
  get size(): number {
    return this.#size;
  }

  /** Appends one record; returns its offset and length. */
  async append(
    encoding: number,
    data: Uint8Array,
  ): Promise<{ offset: number; length: number }> {
    const offset = this.#size;
    const b = this.#buf;
    b.uvarint(data.length);
    b.u8(encoding);
    b.bytes(data);
    b.u32be(crc32c(data, crc32c(Uint8Array.of(encoding))));
    const length = uvarintSize(data.length) + 1 + data.length + 4;
    this.#size += length;
    if (b.length >= FLUSH_AT) await this.#flush();
    return { offset, length };
  }

  async #flush(): Promise<void> {
    const bytes = this.#buf.view();
    this.#crc = crc32c(bytes, this.#crc);
    let done = 0;
    while (done < bytes.length) {
      done += await this.#file.write(bytes.subarray(done));
    }
    this.#buf.reset();
  }

  /** Flushes, syncs and closes; returns the file's size and CRC-32C. */
  async finish(): Promise<{ size: number; crc32c: number }> {
    await this.#flush();
    await this.#file.sync();
    this.#file.close();
    return { size: this.#size, crc32c: this.#crc };
  }

  /** Closes without syncing (after a failure). */
  abort(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}

/** Checks a file header: magic, version, three zero bytes. */
export function checkFileHeader(header: Uint8Array, magic: number): void {
  const r = new ByteReader(header, 0, FILE_HEADER_SIZE);
  if (r.u32be() !== magic) throw new DecodeError("bad magic");
  const version = r.u8();
  if (version !== BLOCK_FORMAT_VERSION) {
    throw new DecodeError(`unsupported version ${version}`);
  }
  if (r.u8() !== 0 || r.u8() !== 0 || r.u8() !== 0) {
    throw new DecodeError("reserved header bytes are not zero");
  }
}

/** Parses one record; returns its encoding and data (a view of `record`). */
export function parseRecord(
  record: Uint8Array,
): { encoding: number; data: Uint8Array } {
  const r = new ByteReader(record);
  const len = r.uvarint();
  if (r.pos + 1 + len + 4 !== record.length) {
    throw new DecodeError("record length differs from the index");
  }
  const encStart = r.pos;
  const encoding = r.u8();
  const data = r.bytes(len);
  const stored = r.u32be();
  if (stored !== crc32c(record.subarray(encStart, encStart + 1 + len))) {
    throw new DecodeError("chunk CRC mismatch");
  }
  return { encoding, data };
}

const WINDOW = 256 * 1024;
/** A miss this close after the previous read counts as sequential. */
const SEQUENTIAL_GAP = 64 * 1024;

/**
 * Reads chunk records with positional reads through a read-ahead window:
 * reading the chunks of consecutive series costs one read per 256 KiB.
 * Returned views stay valid (each window is a fresh buffer).
 */
export class ChunksFileReader {
  readonly #file: Deno.FsFile;
  readonly size: number;
  #window = new Uint8Array(0);
  #windowStart = 0;
  /** End of the last bytes returned (to tell a sequential scan). */
  #lastEnd = -1;

  private constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.size = size;
  }

  /** Opens the file and checks its header and size. */
  static async open(path: string, size: number): Promise<ChunksFileReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const actual = (await file.stat()).size;
      if (actual !== size) {
        throw new DecodeError(`size ${actual}, meta.json says ${size}`);
      }
      const reader = new ChunksFileReader(file, size);
      if (size < FILE_HEADER_SIZE) throw new DecodeError("file too short");
      // Read apart from the window, so that nothing is cached before use.
      const header = new Uint8Array(FILE_HEADER_SIZE);
      reader.#readInto(0, header);
      checkFileHeader(header, CHUNKS_MAGIC);
      return reader;
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Bytes [offset, offset + length) of the file. A miss just after the
   * previous read (a sequential scan) fills a new 256 KiB window; any other
   * miss reads only the bytes asked for, so that random access (series in
   * label order over a file written in another order) costs one small read.
   */
  #read(offset: number, length: number): Uint8Array {
    const w = this.#window;
    const end = this.#windowStart + w.length;
    if (offset >= this.#windowStart && offset + length <= end) {
      this.#lastEnd = offset + length;
      return w.subarray(
        offset - this.#windowStart,
        offset - this.#windowStart + length,
      );
    }
    const sequential = offset >= this.#lastEnd &&
      offset - this.#lastEnd < SEQUENTIAL_GAP;
    const want = sequential
      ? Math.min(Math.max(length, WINDOW), this.size - offset)
      : length;
    const buf = new Uint8Array(want);
    this.#readInto(offset, buf);
    if (sequential) {
      this.#window = buf;
      this.#windowStart = offset;
    }
    this.#lastEnd = offset + length;
    return buf.subarray(0, length);
  }

  #readInto(offset: number, buf: Uint8Array): void {
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < buf.length) {
      const n = this.#file.readSync(buf.subarray(done));
      if (n === null || n === 0) {
        throw new DecodeError("file shorter than expected");
      }
      done += n;
    }
  }

  /** The checked record at `ref`. */
  record(ref: ChunkRef): { encoding: number; data: Uint8Array } {
    if (
      ref.offset < FILE_HEADER_SIZE || ref.length < 6 ||
      ref.offset + ref.length > this.size
    ) {
      throw new DecodeError("chunk ref outside the chunks file");
    }
    return parseRecord(this.#read(ref.offset, ref.length));
  }

  /**
   * The checked record starting at `offset`, its length read from its own
   * length varint (records referenced by other records, not by the index).
   */
  recordAt(offset: number): { encoding: number; data: Uint8Array } {
    if (!(Number.isSafeInteger(offset) && offset >= FILE_HEADER_SIZE)) {
      throw new DecodeError("record offset outside the chunks file");
    }
    if (offset + 6 > this.size) {
      throw new DecodeError("record offset outside the chunks file");
    }
    const head = new ByteReader(
      this.#read(offset, Math.min(9, this.size - offset)),
    );
    const len = head.uvarint();
    const length = head.pos + 1 + len + 4;
    if (offset + length > this.size) {
      throw new DecodeError("record runs past the end of the chunks file");
    }
    return parseRecord(this.#read(offset, length));
  }

  /** Reads the whole file and checks its CRC-32C (a full scrub). */
  checksum(): number {
    let crc = 0;
    for (let at = 0; at < this.size; at += WINDOW) {
      crc = crc32c(this.#read(at, Math.min(WINDOW, this.size - at)), crc);
    }
    return crc;
  }

  close(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}
