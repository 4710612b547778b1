/**
 * The Metrics API's own write-ahead log under `<dataDir>/metricsapi/log`:
 * the durable source of truth for typed observations and events. One
 * record per accepted request (what was accepted, never what was refused),
 * framed as `u32 length | u32 crc32c | JSON payload` (little-endian) in
 * numbered segment files. The store writes a group of records and calls
 * `sync()` (fdatasync) before any of their requests is answered.
 *
 * Segments are numbered from 1 and contiguous. The store rolls to a new
 * segment at each snapshot (`rollover`), so a snapshot's position is the
 * start of a segment and every earlier segment is wholly covered by it;
 * `deleteBefore` removes those once the retention rule allows
 * (docs/design/metrics-api.md, "Log retention").
 * @module
 */
import { crc32c } from "../codec/crc32c.ts";

/** Where a record ends: segment number and byte offset after it. */
export interface LogPosition {
  readonly segment: number;
  readonly offset: number;
}

/** Options of `MetricsLog.open`. */
export interface LogOptions {
  /** Start a new segment past this size (default 64 MiB). */
  segmentBytes?: number;
  /** fdatasync on `sync()` (default true; tests of throughput may disable). */
  fsync?: boolean;
  /** Called when a torn tail is cut off at open. */
  warn?: (message: string) => void;
}

const HEADER = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function segmentName(n: number): string {
  return `${String(n).padStart(8, "0")}.log`;
}

/** Compares positions: negative when a is before b. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

/** The number of a segment file name, or null when it is not one. */
function segmentNumber(name: string): number | null {
  const m = /^(\d{8})\.log$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** The segment numbers present in `dir`, ascending (none when it is missing). */
export async function listSegments(dir: string): Promise<number[]> {
  const segments: number[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const n = segmentNumber(e.name);
      if (e.isFile && n !== null) segments.push(n);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return segments.sort((a, b) => a - b);
}

/** fsyncs a directory, so that creates, renames and deletes in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}

/** Thrown when a segment other than the last is damaged, or one is missing. */
export class LogCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LogCorruptError";
  }
}

/** An append-only segmented log of JSON records. */
export class MetricsLog {
  #file: Deno.FsFile;
  #segment: number;
  #size: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #closed = false;

  private constructor(
    readonly dir: string,
    private readonly options: Required<LogOptions>,
    file: Deno.FsFile,
    segment: number,
    size: number,
  ) {
    this.#file = file;
    this.#segment = segment;
    this.#size = size;
  }

  /**
   * Opens the log, first handing every intact record after `from` (a
   * snapshot's position; default the beginning) to `onRecord` in order,
   * with the position after it. A torn or damaged tail of the last segment
   * (a crash mid-write) is cut off; damage elsewhere throws LogCorruptError,
   * and so does a missing segment at or after `from` (segments before
   * `from` may have been deleted; they are not read).
   */
  static async open(
    dir: string,
    options: LogOptions,
    onRecord: (record: unknown, end: LogPosition) => void,
    from: LogPosition = { segment: 0, offset: 0 },
  ): Promise<MetricsLog> {
    const opts: Required<LogOptions> = {
      segmentBytes: options.segmentBytes ?? 64 << 20,
      fsync: options.fsync ?? true,
      warn: options.warn ?? ((m) => console.warn(m)),
    };
    await Deno.mkdir(dir, { recursive: true });
    const all = await listSegments(dir);
    const segments = all.filter((n) => n >= from.segment);
    // Replay needs every segment from `from` on, without a gap. None at
    // all is fine: the snapshot's segment was empty (a power loss may take
    // the directory entry of a new empty segment), or the log is new.
    const first = Math.max(from.segment, 1);
    if (segments.length > 0 && segments[0] !== first) {
      throw new LogCorruptError(
        `metrics log: segment ${first} is missing (segments from ${
          segments[0]
        } remain)`,
      );
    }
    for (let i = 1; i < segments.length; i++) {
      if (segments[i] !== segments[i - 1] + 1) {
        throw new LogCorruptError(
          `metrics log: segment ${segments[i - 1] + 1} is missing`,
        );
      }
    }
    const last = segments.at(-1) ?? first;
    let size = 0;
    for (const seg of segments) {
      const path = `${dir}/${segmentName(seg)}`;
      const bytes = await Deno.readFile(path);
      let start = seg === from.segment ? from.offset : 0;
      if (start > bytes.length) {
        opts.warn(
          `metrics log: segment ${seg} ends before the snapshot (${start})`,
        );
        start = bytes.length;
      }
      const good = scan(
        bytes,
        (rec, offset) => onRecord(rec, { segment: seg, offset }),
        start,
      );
      if (good < bytes.length) {
        if (seg !== last) {
          throw new LogCorruptError(
            `metrics log segment ${seg} is damaged at byte ${good}`,
          );
        }
        opts.warn(
          `metrics log: cut a torn tail of ${
            bytes.length - good
          } bytes from segment ${seg}`,
        );
        await Deno.truncate(`${dir}/${segmentName(seg)}`, good);
      }
      size = good;
    }
    const file = await Deno.open(`${dir}/${segmentName(last)}`, {
      write: true,
      create: true,
    });
    if (segments.length === 0 && opts.fsync) await syncDir(dir);
    await file.seek(size, Deno.SeekMode.Start);
    return new MetricsLog(dir, opts, file, last, size);
  }

  /** Where the next record will start. */
  get position(): LogPosition {
    return {
      segment: this.#segment,
      offset: this.#size + this.#pendingBytes,
    };
  }

  /** Queues one record (written at the next `sync`); returns its end position. */
  append(record: unknown): LogPosition {
    if (this.#closed) throw new Error("metrics log is closed");
    const payload = encoder.encode(JSON.stringify(record));
    const frame = new Uint8Array(HEADER + payload.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, payload.length, true);
    view.setUint32(4, crc32c(payload), true);
    frame.set(payload, HEADER);
    this.#pending.push(frame);
    this.#pendingBytes += frame.length;
    return this.position;
  }

  /**
   * Writes the queued records and makes them durable (fdatasync unless
   * disabled); one call covers every record appended before it.
   */
  async sync(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const all = new Uint8Array(this.#pendingBytes);
    let at = 0;
    for (const f of this.#pending) {
      all.set(f, at);
      at += f.length;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    for (let off = 0; off < all.length;) {
      off += await this.#file.write(all.subarray(off));
    }
    this.#size += all.length;
    if (this.options.fsync) await this.#file.syncData();
    if (this.#size >= this.options.segmentBytes) await this.#rotate();
  }

  async #rotate(): Promise<void> {
    this.#file.close();
    this.#segment++;
    this.#size = 0;
    this.#file = await Deno.open(`${this.dir}/${segmentName(this.#segment)}`, {
      write: true,
      create: true,
      truncate: true,
    });
    // The new file's directory entry must be durable before records in it
    // are acknowledged (fdatasync of the file does not cover it).
    if (this.options.fsync) await syncDir(this.dir);
  }

  /**
   * Writes what is queued and starts a new segment unless the current one
   * is empty; returns the position, the start of a segment, so that every
   * earlier segment is wholly before it.
   */
  async rollover(): Promise<LogPosition> {
    await this.sync();
    if (this.#size > 0) await this.#rotate();
    return this.position;
  }

  /**
   * Deletes every segment numbered below `segment` (never the current
   * one), oldest first, so that a crash midway leaves a contiguous suffix.
   * Returns how many were deleted.
   */
  async deleteBefore(
    segment: number,
    onDeleted?: () => void | Promise<void>,
  ): Promise<number> {
    const upTo = Math.min(segment, this.#segment);
    let deleted = 0;
    for (const n of await listSegments(this.dir)) {
      if (n >= upTo) break;
      try {
        await Deno.remove(`${this.dir}/${segmentName(n)}`);
        deleted++;
        await onDeleted?.();
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return deleted;
  }

  /** Bytes of every segment on disk (for tests and stats). */
  async diskBytes(): Promise<number> {
    let total = 0;
    for (const n of await listSegments(this.dir)) {
      try {
        total += (await Deno.stat(`${this.dir}/${segmentName(n)}`)).size;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted meanwhile
      }
    }
    return total;
  }

  /** Writes what is queued and closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.sync();
    this.#closed = true;
    this.#file.close();
  }
}

/** Hands each intact frame to `fn`; returns the length of the intact prefix. */
function scan(
  bytes: Uint8Array,
  fn: (record: unknown, end: number) => void,
  start: number,
): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  while (at + HEADER <= bytes.length) {
    const len = view.getUint32(at, true);
    const crc = view.getUint32(at + 4, true);
    const end = at + HEADER + len;
    if (end > bytes.length) break;
    const payload = bytes.subarray(at + HEADER, end);
    if (crc32c(payload) !== crc) break;
    let record: unknown;
    try {
      record = JSON.parse(decoder.decode(payload));
    } catch {
      break;
    }
    fn(record, end);
    at = end;
  }
  return at;
}
