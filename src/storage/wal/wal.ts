/**
 * The write-ahead log writer. Records are encoded synchronously into a
 * buffer (`logSeries`, `logSamples`, `logTombstones`); `commit()` writes
 * everything buffered with one write() per segment touched and resolves
 * once the kernel has the bytes: the acknowledgement point. A completed
 * write() survives kill -9 (the page cache outlives the process); surviving
 * a machine crash is the fsync policy's job.
 *
 * Writes are serialized: concurrent commits never interleave bytes, and
 * commits arriving while a write is in flight share the next write.
 * @module
 */
import { join } from "node:path";
import type { Labels } from "../../model/labels.ts";
import type { TenantId } from "../interface.ts";
import { ByteBuf } from "./bytes.ts";
import { RecordEncoder } from "./encode.ts";
import {
  checkpointName,
  DEFAULT_SEGMENT_BYTES,
  FILE_HEADER_SIZE,
  fileHeader,
  MAX_SAMPLES_PER_RECORD,
  segmentName,
} from "./format.ts";
import { scanFile } from "./reader.ts";
import { listWal } from "./replay.ts";
import type { CheckpointContent } from "./types.ts";

/**
 * When written data is fsynced:
 * - `always`: before every commit resolves (survives power loss, slowest);
 * - `interval`: every `fsyncIntervalMs` if anything was written (default);
 * - `never`: only when a segment is closed and on `close()`.
 */
export type FsyncPolicy = "always" | "interval" | "never";

/** Options of `Wal.open`. */
export interface WalOptions {
  /** Segment size limit in bytes (default 128 MiB). */
  segmentBytes?: number;
  /** Default "interval". */
  fsync?: FsyncPolicy;
  /** Default 1000. */
  fsyncIntervalMs?: number;
  /** Print a warning when open() truncates a torn tail (default true). */
  log?: boolean;
}

/** Counters, for tests and telemetry. */
export interface WalStats {
  /** Flushes that wrote something. */
  flushes: number;
  /** write() calls that completed. */
  writes: number;
  bytes: number;
  syncs: number;
  segmentsCreated: number;
}

/** A segment's worth of encoded bytes waiting for a write. */
interface Pending {
  segment: number;
  buf: ByteBuf;
}

const RECYCLE_LIMIT = 8 * 1024 * 1024;
const CHECKPOINT_FLUSH_BYTES = 4 * 1024 * 1024;

/** An open write-ahead log in one directory. */
export class Wal {
  readonly dir: string;
  readonly #segmentBytes: number;
  readonly #fsync: FsyncPolicy;
  #timer = 0;

  /** Logical segment that new records go to. */
  #segment: number;
  /** Bytes in #segment, written and buffered. */
  #segBytes = FILE_HEADER_SIZE;
  #enc: RecordEncoder;
  /** Finished earlier segments not yet written. */
  #queue: Pending[] = [];
  #spare: ByteBuf | null = null;

  #file: Deno.FsFile | null = null;
  #fileSegment = -1;
  #dirty = false;

  /** Tail of the serialized write/sync/close operations. */
  #chain: Promise<unknown> = Promise.resolve();
  #nextFlush: Promise<number> | null = null;
  #truncating: Promise<void> = Promise.resolve();
  #checkpoint: number;
  #failed: Error | null = null;
  #closed = false;

  readonly stats: WalStats = {
    flushes: 0,
    writes: 0,
    bytes: 0,
    syncs: 0,
    segmentsCreated: 0,
  };

  private constructor(
    dir: string,
    segment: number,
    checkpoint: number,
    opts: WalOptions,
  ) {
    this.dir = dir;
    this.#segment = segment;
    this.#checkpoint = checkpoint;
    this.#segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.#fsync = opts.fsync ?? "interval";
    this.#enc = new RecordEncoder(this.#headedBuffer());
    if (this.#fsync === "interval") {
      // Deno's timer ids are numbers (the Node typings say Timeout).
      this.#timer = setInterval(
        () => this.#periodicSync(),
        opts.fsyncIntervalMs ?? 1000,
      ) as unknown as number;
      Deno.unrefTimer(this.#timer);
    }
  }

  /**
   * Opens the WAL in `dir` (created if missing) for appending. Finishes an
   * interrupted truncation, cuts a torn tail off the last segment, and
   * starts a new segment after the last one. Replay before opening.
   */
  static async open(dir: string, opts: WalOptions = {}): Promise<Wal> {
    await Deno.mkdir(dir, { recursive: true });
    const listing = await listWal(dir);
    for (const t of listing.temporary) await removeIfPresent(join(dir, t));
    const checkpoint = listing.checkpoints.at(-1) ?? 0;
    await deleteCovered(dir, checkpoint, listing);
    const live = listing.segments.filter((s) => s > checkpoint);
    const last = live.at(-1);
    if (last !== undefined) {
      const path = join(dir, segmentName(last));
      const res = await scanFile(path, null);
      if (res.problem) {
        const keep = res.goodEnd < FILE_HEADER_SIZE ? 0 : res.goodEnd;
        await Deno.truncate(path, keep);
        if (opts.log ?? true) {
          console.warn(
            `WAL: ${res.problem.kind} tail in ${path} at byte ${res.goodEnd} ` +
              `(${res.problem.message}); truncated to ${keep} bytes`,
          );
        }
      }
    }
    return new Wal(dir, Math.max(last ?? 0, checkpoint) + 1, checkpoint, opts);
  }

  /** The segment new records go to; segments below it hold only older records. */
  get segment(): number {
    return this.#segment;
  }

  /** Last segment replaced by a checkpoint (0 if none). */
  get checkpoint(): number {
    return this.#checkpoint;
  }

  /** Buffers a series creation (written by the next commit). */
  logSeries(tenant: TenantId, ref: number, labels: Labels): void {
    this.#check();
    let est = 64 + 3 * tenant.length;
    for (const l of labels) est += 3 * (l.name.length + l.value.length) + 10;
    this.#reserve(est);
    const before = this.#enc.buf.pos;
    this.#enc.series(tenant, ref, labels);
    this.#segBytes += this.#enc.buf.pos - before;
  }

  /**
   * Buffers samples i < n as one SAMPLES record (so one batch is all or
   * nothing after a crash; batches above 2^20 samples are split). Values
   * are copied as raw bytes: NaN payloads such as the stale marker keep
   * their bits. Timestamps are integer ms; others are kept exactly too.
   */
  logSamples(
    tenant: TenantId,
    refs: Uint32Array,
    ts: Float64Array,
    values: Float64Array,
    n: number = refs.length,
  ): void {
    this.#check();
    if (n > refs.length || n > ts.length || n > values.length || n < 0) {
      throw new RangeError(`n=${n} exceeds the arrays`);
    }
    for (let from = 0; from < n; from += MAX_SAMPLES_PER_RECORD) {
      const k = Math.min(MAX_SAMPLES_PER_RECORD, n - from);
      this.#reserve(21 * k + 64 + 3 * tenant.length);
      const before = this.#enc.buf.pos;
      this.#enc.samples(tenant, refs, ts, values, from, k);
      this.#segBytes += this.#enc.buf.pos - before;
    }
  }

  /** Buffers a deletion of [mint, maxt] (inclusive) for series `refs`. */
  logTombstones(
    tenant: TenantId,
    refs: Uint32Array,
    mint: number,
    maxt: number,
  ): void {
    this.#check();
    this.#reserve(5 * refs.length + 64 + 3 * tenant.length);
    const before = this.#enc.buf.pos;
    this.#enc.tombstones(tenant, refs, mint, maxt);
    this.#segBytes += this.#enc.buf.pos - before;
  }

  /**
   * Writes everything buffered so far (by any caller). Resolves once the
   * bytes are written (and fsynced under "always"); rejects if the WAL
   * failed, after which every later call fails too.
   */
  commit(): Promise<void> {
    return this.#commitUpTo().then(() => {});
  }

  /** Commits; resolves to a segment number below which every segment is complete. */
  #commitUpTo(): Promise<number> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new Error("WAL is closed"));
    if (!this.#nextFlush) {
      this.#nextFlush = this.#enqueue(() => {
        this.#nextFlush = null;
        return this.#flush();
      });
    }
    return this.#nextFlush;
  }

  /**
   * Ends the current segment: records logged before the call are written
   * (to segments below the returned number) and later ones go to the
   * returned segment or after. Doesn't start a new segment while the
   * current one holds no record.
   */
  async cut(): Promise<number> {
    this.#check();
    if (this.#segBytes > FILE_HEADER_SIZE) this.#rotate();
    const next = this.#segment;
    await this.commit();
    return next;
  }

  /**
   * Drops segments below `beforeSegment` (whose data the caller has
   * persisted elsewhere) after writing a checkpoint that carries what must
   * outlive them: the live series and tombstones. The checkpoint is made
   * durable (fsync, atomic rename) before any segment is deleted.
   */
  truncate(beforeSegment: number, content: CheckpointContent): Promise<void> {
    this.#check();
    const run = async () => {
      const complete = await this.#commitUpTo();
      if (beforeSegment > complete) {
        throw new RangeError(
          `cannot truncate segment ${complete} while writing it; cut() first`,
        );
      }
      const covers = beforeSegment - 1;
      if (covers <= this.#checkpoint) return;
      await writeCheckpoint(this.dir, covers, content);
      const old = this.#checkpoint;
      this.#checkpoint = covers;
      const listing = await listWal(this.dir);
      await deleteCovered(this.dir, covers, listing);
      if (old > 0 && old !== covers) {
        await removeIfPresent(join(this.dir, checkpointName(old)));
      }
    };
    const p = this.#truncating.then(run);
    this.#truncating = p.catch(() => {});
    return p;
  }

  /** Writes what is buffered, fsyncs, and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    let err: unknown = null;
    try {
      if (!this.#failed) await this.commit();
    } catch (e) {
      err = e;
    }
    this.#closed = true;
    await this.#truncating;
    await this.#enqueue(() => this.#closeFile()).catch((e) => err ??= e);
    if (err) throw err;
  }

  #check(): void {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw new Error("WAL is closed");
  }

  /** Starts a new segment first if `bytes` more would overflow a non-empty one. */
  #reserve(bytes: number): void {
    if (
      this.#segBytes > FILE_HEADER_SIZE &&
      this.#segBytes + bytes > this.#segmentBytes
    ) {
      this.#rotate();
    }
  }

  /** Queues the current segment's bytes and moves to the next segment (fresh tenant table). */
  #rotate(): void {
    this.#enc.seal();
    this.#queue.push({ segment: this.#segment, buf: this.#enc.buf });
    this.#segment++;
    this.#segBytes = FILE_HEADER_SIZE;
    this.#enc = new RecordEncoder(this.#headedBuffer());
  }

  #headedBuffer(): ByteBuf {
    const buf = this.#takeSpare();
    buf.bytes.set(fileHeader());
    buf.pos = FILE_HEADER_SIZE;
    return buf;
  }

  #takeSpare(): ByteBuf {
    const b = this.#spare ?? new ByteBuf();
    this.#spare = null;
    b.pos = 0;
    return b;
  }

  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(op);
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Writes all buffered bytes; runs on the chain, never concurrently.
   * Returns the segment being filled when it started: every segment below
   * it is complete once this resolves.
   */
  async #flush(): Promise<number> {
    if (this.#failed) throw this.#failed;
    const current = this.#segment;
    const items = this.#queue;
    this.#queue = [];
    this.#enc.seal();
    // A segment holding only its file header is not created until it has records.
    const headerOnly = this.#fileSegment !== this.#segment &&
      this.#enc.buf.pos === FILE_HEADER_SIZE;
    if (!headerOnly) {
      items.push({
        segment: this.#segment,
        buf: this.#enc.swapBuffer(this.#takeSpare()),
      });
    }
    try {
      let wrote = false;
      for (const { segment, buf } of items) {
        if (buf.pos === 0) continue;
        if (this.#fileSegment !== segment) await this.#openSegment(segment);
        await writeAll(this.#file!, buf.written());
        this.stats.writes++;
        this.stats.bytes += buf.pos;
        this.#dirty = true;
        wrote = true;
        if (buf.bytes.length <= RECYCLE_LIMIT) this.#spare = buf;
      }
      if (wrote) this.stats.flushes++;
      if (this.#fsync === "always" && this.#dirty) await this.#sync();
      return current;
    } catch (e) {
      // Bytes of this flush may be half on disk and later records would
      // reference tenants they declared: stop rather than corrupt the log.
      this.#failed = e instanceof Error ? e : new Error(String(e));
      throw this.#failed;
    }
  }

  async #openSegment(segment: number): Promise<void> {
    await this.#closeFile();
    this.#file = await Deno.open(join(this.dir, segmentName(segment)), {
      write: true,
      createNew: true,
    });
    this.#fileSegment = segment;
    this.stats.segmentsCreated++;
    if (this.#fsync !== "never") await syncDir(this.dir);
  }

  /** Fsyncs and closes the open segment (every policy syncs a segment it leaves). */
  async #closeFile(): Promise<void> {
    if (!this.#file) return;
    if (this.#dirty) await this.#sync();
    this.#file.close();
    this.#file = null;
    this.#fileSegment = -1;
  }

  async #sync(): Promise<void> {
    this.#dirty = false;
    await this.#file!.syncData();
    this.stats.syncs++;
  }

  #periodicSync(): void {
    if (!this.#dirty || this.#closed || this.#failed) return;
    this.#enqueue(async () => {
      if (this.#file && this.#dirty) await this.#sync();
    }).catch((e) => {
      this.#failed ??= e instanceof Error ? e : new Error(String(e));
    });
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** Makes a new directory entry durable (best effort: not every OS allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    using d = await Deno.open(dir, { read: true });
    await d.sync();
  } catch {
    // Directories cannot be opened for sync on some platforms.
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Deletes segments ≤ `covers` and checkpoints older than `covers`. */
async function deleteCovered(
  dir: string,
  covers: number,
  listing: { segments: number[]; checkpoints: number[] },
): Promise<void> {
  for (const s of listing.segments) {
    if (s <= covers) await removeIfPresent(join(dir, segmentName(s)));
  }
  for (const c of listing.checkpoints) {
    if (c < covers) await removeIfPresent(join(dir, checkpointName(c)));
  }
}

/** Writes checkpoint.<covers> via a temporary file, fsync and rename. */
async function writeCheckpoint(
  dir: string,
  covers: number,
  content: CheckpointContent,
): Promise<void> {
  const final = join(dir, checkpointName(covers));
  const tmp = `${final}.tmp`;
  const buf = new ByteBuf(1024 * 1024);
  buf.bytes.set(fileHeader());
  buf.pos = FILE_HEADER_SIZE;
  const enc = new RecordEncoder(buf);
  enc.checkpoint(covers, Date.now());
  {
    using file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
    });
    const drain = async (force: boolean) => {
      if (!force && enc.buf.pos < CHECKPOINT_FLUSH_BYTES) return;
      enc.seal();
      await writeAll(file, enc.buf.written());
      enc.buf.pos = 0;
    };
    for (const s of content.series) {
      enc.series(s.tenant, s.ref, s.labels);
      await drain(false);
    }
    for (const t of content.tombstones ?? []) {
      enc.tombstones(t.tenant, t.refs, t.mint, t.maxt);
      await drain(false);
    }
    await drain(true);
    await file.syncData();
  }
  await Deno.rename(tmp, final);
  await syncDir(dir);
}
