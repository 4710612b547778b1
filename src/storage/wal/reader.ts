/**
 * Reads one WAL file (segment or checkpoint) record by record with bounded
 * memory: the file is streamed through a buffer that only grows to hold
 * the largest record (≤ MAX_RECORD_PAYLOAD). Reading stops at the first
 * bad spot, which is classified and returned, never thrown.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import { decodeRecord, RecordError, type TenantTable } from "./decode.ts";
import {
  FILE_HEADER_SIZE,
  MAGIC,
  MAX_RECORD_PAYLOAD,
  RECORD_HEADER_SIZE,
  VERSION,
} from "./format.ts";
import type { RecordPosition, WalRecord } from "./types.ts";

/**
 * Why reading a file stopped early:
 * - `torn`: the file ends inside a record (an interrupted write);
 * - `zeros`: only zero bytes from here on (preallocated or unwritten space);
 * - `corrupt`: a bad header, length, checksum or payload.
 */
export type ProblemKind = "torn" | "zeros" | "corrupt";

/** A bad spot in a file. */
export interface FileProblem {
  file: string;
  /** Byte offset where the bad data starts (the end of the last good record). */
  offset: number;
  kind: ProblemKind;
  message: string;
}

/** What reading a file found. */
export interface ScanResult {
  /** File size in bytes. */
  size: number;
  /** Offset just past the last good record (0 for an empty file). */
  goodEnd: number;
  problem: FileProblem | null;
}

/** Called per decoded record, in file order. */
export type RecordVisitor = (
  rec: WalRecord,
  pos: RecordPosition,
) => void | Promise<void>;

const READ_CHUNK = 4 * 1024 * 1024;
/** CRC-32C of each possible type byte: where a record's checksum starts. */
const TYPE_CRC: number[] = Array.from(
  { length: 256 },
  (_, t) => crc32c(Uint8Array.of(t)),
);

/**
 * Reads `path` and calls `visit` for each good record. With `visit` null
 * only framing and checksums are checked (no decoding), which is how the
 * writer validates the tail it is about to continue after.
 */
export async function scanFile(
  path: string,
  visit: RecordVisitor | null,
): Promise<ScanResult> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const src = new FileSource(file, Math.min(READ_CHUNK, Math.max(size, 64)));
  const problem = (offset: number, kind: ProblemKind, message: string) => ({
    size,
    goodEnd: offset,
    problem: { file: path, offset, kind, message },
  });

  let avail = await src.fill(FILE_HEADER_SIZE);
  if (avail === 0) return { size, goodEnd: 0, problem: null };
  if (avail < FILE_HEADER_SIZE) {
    return await src.allZeroFrom()
      ? problem(0, "zeros", "zero bytes instead of a file header")
      : problem(0, "torn", "file ends inside its header");
  }
  const head = src.view();
  if (head.getUint32(src.lo, true) !== MAGIC) {
    return await src.allZeroFrom()
      ? problem(0, "zeros", "zero bytes instead of a file header")
      : problem(0, "corrupt", "bad magic (not a WAL file)");
  }
  if (src.buf[src.lo + 4] !== VERSION) {
    return problem(0, "corrupt", `unsupported version ${src.buf[src.lo + 4]}`);
  }
  src.lo += FILE_HEADER_SIZE;

  const tenants: TenantTable = new Map();
  for (;;) {
    const offset = src.offset();
    avail = await src.fill(RECORD_HEADER_SIZE);
    if (avail === 0) return { size, goodEnd: offset, problem: null };
    const buf = src.buf;
    const type = buf[src.lo];
    if (type === 0) {
      // Type 0 is never written: either unwritten space or garbage.
      return await src.allZeroFrom()
        ? problem(offset, "zeros", "zero bytes after the last record")
        : problem(offset, "corrupt", "record type 0");
    }
    if (avail < RECORD_HEADER_SIZE) {
      return problem(offset, "torn", "file ends inside a record header");
    }
    const view = src.view();
    const len = view.getUint32(src.lo + 1, true);
    const crc = view.getUint32(src.lo + 5, true);
    if (len > MAX_RECORD_PAYLOAD) {
      return problem(offset, "corrupt", `record length ${len} exceeds limit`);
    }
    // Checked against the file size first so a torn or lying length never
    // makes the buffer grow.
    if (offset + RECORD_HEADER_SIZE + len > size) {
      return problem(
        offset,
        "torn",
        `record of ${len} bytes runs past the end of the file`,
      );
    }
    avail = await src.fill(RECORD_HEADER_SIZE + len);
    if (avail < RECORD_HEADER_SIZE + len) {
      return problem(
        offset,
        "torn",
        `record of ${len} bytes runs past the end of the file`,
      );
    }
    const start = src.lo + RECORD_HEADER_SIZE;
    const end = start + len;
    const actual = crc32c(src.buf.subarray(start, end), TYPE_CRC[type]);
    if (actual !== crc) {
      return problem(offset, "corrupt", "record checksum mismatch");
    }
    if (visit !== null) {
      let rec: WalRecord | null;
      try {
        rec = decodeRecord(type, src.buf, start, end, tenants);
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        return problem(offset, "corrupt", e.message);
      }
      src.lo = end;
      if (rec !== null) {
        const done = visit(rec, {
          file: path,
          offset,
          end: offset + RECORD_HEADER_SIZE + len,
        });
        if (done !== undefined) await done;
      }
    } else {
      if (type < 1 || type > 5) {
        return problem(offset, "corrupt", `unknown record type ${type}`);
      }
      src.lo = end;
    }
  }
}

/** A read buffer over a file: bytes [lo, hi) of `buf` are unread data. */
class FileSource {
  buf: Uint8Array;
  lo = 0;
  hi = 0;
  /** File offset of buf[0]. */
  base = 0;
  #eof = false;

  constructor(readonly file: Deno.FsFile, capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  offset(): number {
    return this.base + this.lo;
  }

  view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset);
  }

  /** Buffers at least `need` bytes unless the file ends first; returns the bytes buffered. */
  async fill(need: number): Promise<number> {
    if (this.hi - this.lo >= need || this.#eof) return this.hi - this.lo;
    if (this.buf.length - this.lo < need) {
      // Move the unread bytes to the front, growing only for a big record.
      const keep = this.buf.subarray(this.lo, this.hi);
      if (need > this.buf.length) {
        const next = new Uint8Array(Math.max(need, this.buf.length * 2));
        next.set(keep);
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.lo, this.hi);
      }
      this.base += this.lo;
      this.hi -= this.lo;
      this.lo = 0;
    }
    while (this.hi - this.lo < need) {
      const n = await this.file.read(this.buf.subarray(this.hi));
      if (n === null) {
        this.#eof = true;
        break;
      }
      this.hi += n;
    }
    return this.hi - this.lo;
  }

  /** True when every byte from `lo` to the end of the file is zero (consumes the buffer). */
  async allZeroFrom(): Promise<boolean> {
    for (;;) {
      for (let i = this.lo; i < this.hi; i++) {
        if (this.buf[i] !== 0) return false;
      }
      this.base += this.hi;
      this.lo = this.hi = 0;
      if (this.#eof) return true;
      const n = await this.file.read(this.buf);
      if (n === null) return true;
      this.hi = n;
    }
  }
}
