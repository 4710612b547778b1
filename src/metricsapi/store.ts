/**
 * The Metrics API store: typed observations and events of every tenant.
 *
 * Write path (one writer, group commit): requests queue; the writer takes
 * every queued request, checks names against their types (a name keeps its
 * first type), appends one log record per request, fsyncs the log once,
 * folds the records into the in-memory rollups and events, appends their
 * PromQL view samples to the Db, commits, and only then answers them all.
 *
 * Start: the newest usable snapshot is loaded and the log after it replayed
 * to rebuild rollups, events and the view state; view samples of records
 * past the view watermark (the log position whose samples are known
 * committed to the Db) are appended again, which the Db deduplicates.
 *
 * Snapshots roll the log to a new segment, capture the state (copy on
 * write) and are written in the background while writes go on; once one is
 * durable, segments covered by the previous snapshot are deleted
 * (retention.ts). See docs/design/metrics-api.md.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import type { Db } from "../storage/db.ts";
import type { Appender, TenantId } from "../storage/interface.ts";
import type { EventPage, EventQuery } from "./events.ts";
import {
  comparePositions,
  listSegments,
  type LogPosition,
  MetricsLog,
} from "./log.ts";
import { decodeRecord, encodeRecord, type WriteRecord } from "./record.ts";
import { type IntervalQuery, type QueryResult, runQuery } from "./query.ts";
import { RESOLUTIONS } from "./resolution.ts";
import type { Definition } from "./series.ts";
import {
  applyRetention,
  listSnapshots,
  removeStrayTemps,
  type RetentionStep,
  snapshotName,
} from "./retention.ts";
import {
  loadSnapshot,
  type SnapshotStep,
  SnapshotWriter,
  type StoreState,
} from "./snapshot.ts";
import { newTenant, type TenantState } from "./tenant.ts";
import type { EventRecord, ItemError, Observation } from "./types.ts";
import { appendView } from "./view.ts";

/** Options of `MetricsStore.open`. */
export interface MetricsStoreOptions {
  /** The server's data dir; the store lives in `<dataDir>/metricsapi`. */
  dataDir: string;
  /** The Db receiving the PromQL view (and lending its engine). */
  db: Db;
  /** Wall clock, ms (rollup horizons). Default Date.now. */
  now?: () => number;
  /** fdatasync the log before answering (default true). */
  fsync?: boolean;
  warn?: (message: string) => void;
  /** Snapshot after a write when this many ms (of `now`) passed (default 5 min). */
  snapshotEveryMs?: number;
  /** Log segment size (default 64 MiB). */
  segmentBytes?: number;
  /** Test hook: called after each step of a snapshot and its retention. */
  onSnapshotStep?: (
    step: SnapshotStep | RetentionStep | "rolled",
  ) => void | Promise<void>;
}

/** A write offered to the store: validated items with their request indices. */
export interface WriteRequest {
  readonly metrics: readonly { index: number; item: Observation }[];
  readonly events: readonly { index: number; item: EventRecord }[];
}

/** Items the store refused (type conflicts), by request index. */
export interface WriteOutcome {
  readonly metricErrors: ItemError[];
  readonly eventErrors: ItemError[];
}

/** What replay did, for logs and tests. */
export interface StoreReplayStats {
  records: number;
  observations: number;
  events: number;
  viewSamplesReappended: number;
  seconds: number;
  /** True when a snapshot was loaded and only the log after it replayed. */
  fromSnapshot: boolean;
  /** The snapshot file loaded, if any. */
  snapshot: string | null;
  /** Seconds spent loading the snapshot. */
  snapshotSeconds: number;
}

/** Snapshot and retention counters, for tests and stats. */
export interface SnapshotStats {
  written: number;
  failed: number;
  segmentsDeleted: number;
  snapshotsDeleted: number;
  /** Milliseconds of the last snapshot: capture (writes wait) and total. */
  lastCaptureMs: number;
  lastTotalMs: number;
}

interface Queued {
  readonly tenant: TenantId;
  readonly request: WriteRequest;
  resolve(o: WriteOutcome): void;
  reject(e: unknown): void;
}

const WATERMARK_EVERY_MS = 2000;
const SNAPSHOT_EVERY_MS = 5 * 60_000;

/** Thrown at start when the log needed to rebuild the state is gone. */
export class SnapshotMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotMissingError";
  }
}
const PRUNE_EVERY_MS = 60_000;

/** Typed metrics and events, durable in their own log. */
export class MetricsStore {
  readonly #tenants = new Map<TenantId, TenantState>();
  readonly #engine: Engine;
  readonly #now: () => number;
  #log!: MetricsLog;
  #queue: Queued[] = [];
  #writing: Promise<void> | null = null;
  #draining = false;
  #eventSeq = 0;
  #viewDone: LogPosition = { segment: 0, offset: 0 };
  #watermarkWritten = 0;
  #lastPrune = 0;
  #lastSnapshot = 0;
  #recordsSinceSnapshot = 0;
  #snapshotTask: Promise<void> | null = null;
  #snapshotPosition: LogPosition | null = null;
  #failed: unknown = null;
  #closed = false;
  /** Samples of the view the Db refused (out of window, limits). */
  viewRejected = 0;
  replay: StoreReplayStats = {
    records: 0,
    observations: 0,
    events: 0,
    viewSamplesReappended: 0,
    seconds: 0,
    fromSnapshot: false,
    snapshot: null,
    snapshotSeconds: 0,
  };
  snapshots: SnapshotStats = {
    written: 0,
    failed: 0,
    segmentsDeleted: 0,
    snapshotsDeleted: 0,
    lastCaptureMs: 0,
    lastTotalMs: 0,
  };

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    now: () => number,
    private readonly opts: MetricsStoreOptions,
    private readonly warn: (m: string) => void,
  ) {
    this.#engine = db.engine;
    this.#now = now;
  }

  /** Opens the store, replaying its log (see the module doc). */
  static async open(opts: MetricsStoreOptions): Promise<MetricsStore> {
    const t0 = performance.now();
    const dir = `${opts.dataDir}/metricsapi`;
    const warn = opts.warn ?? ((m: string) => console.warn(m));
    const store = new MetricsStore(
      dir,
      opts.db,
      opts.now ?? Date.now,
      opts,
      warn,
    );
    await Deno.mkdir(dir, { recursive: true });
    await removeStrayTemps(dir);
    const watermark = await readWatermark(`${dir}/view-watermark.json`);
    const s0 = performance.now();
    const snap = await store.#loadNewestSnapshot();
    store.replay.snapshotSeconds = (performance.now() - s0) / 1000;
    if (snap) {
      for (const [id, t] of snap.tenants) store.#tenants.set(id, t);
      store.#eventSeq = snap.eventSeq;
      store.replay.fromSnapshot = true;
      store.#snapshotPosition = snap.position;
    }
    const appenders = new Map<TenantId, Appender>();
    let reappended = 0;
    const now = store.#now();
    store.#log = await MetricsLog.open(
      `${dir}/log`,
      { fsync: opts.fsync, warn, segmentBytes: opts.segmentBytes },
      (json, end) => {
        const rec = decodeRecord(json);
        const samples = store.#apply(rec, now);
        store.replay.records++;
        store.replay.observations += rec.observations.length;
        store.replay.events += rec.events.length;
        if (comparePositions(end, watermark) <= 0) return;
        let app = appenders.get(rec.tenant);
        if (!app) appenders.set(rec.tenant, app = opts.db.appender(rec.tenant));
        appendView(app, samples);
        reappended += samples.length;
      },
      snap?.position,
    );
    for (const app of appenders.values()) {
      const r = await app.commit();
      store.viewRejected += r.rejected.length;
    }
    store.#viewDone = store.#log.position;
    await store.#writeWatermark();
    store.#prune();
    // A long replay is not repeated at the next start.
    store.#recordsSinceSnapshot = store.replay.records;
    store.#lastSnapshot = store.#now();
    if (store.#recordsSinceSnapshot > 0) await store.snapshotNow();
    store.replay.viewSamplesReappended = reappended;
    store.replay.seconds = (performance.now() - t0) / 1000;
    return store;
  }

  #tenant(id: TenantId): TenantState {
    let t = this.#tenants.get(id);
    if (!t) {
      t = newTenant(this.#engine);
      this.#tenants.set(id, t);
    }
    return t;
  }

  /** Folds a record into the tenant's state; returns its view samples. */
  #apply(rec: WriteRecord, now: number) {
    const t = this.#tenant(rec.tenant);
    for (const o of rec.observations) {
      if (o.type === "set") {
        t.series.add(o.name, o.type, o.tags, o.t, 1, now, o.value as string);
      } else {
        t.series.add(o.name, o.type, o.tags, o.t, o.value as number, now);
      }
    }
    for (const e of rec.events) {
      t.events.add(e, this.#eventSeq++);
      t.series.add(e.name, "event", {}, e.t, e.value ?? 0, now);
    }
    return t.view.derive(
      rec.observations,
      (name, tags, ts) => t.series.bucket(name, tags, 0, ts),
    );
  }

  /**
   * Writes validated items durably. Resolves once they are in the fsynced
   * log, the rollups and the Db; items whose name has another type are
   * refused (invalid_type) and not written.
   */
  write(tenant: TenantId, request: WriteRequest): Promise<WriteOutcome> {
    if (this.#closed) return Promise.reject(new Error("metrics store closed"));
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ tenant, request, resolve, reject });
      if (!this.#draining) {
        // Set and cleared synchronously with the queue checks: no gap in
        // which a queued write could find a drain that is just ending.
        this.#draining = true;
        this.#writing = this.#drain();
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainQueue();
    } finally {
      this.#draining = false;
    }
  }

  async #drainQueue(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        await this.#commitGroup(group);
      } catch (e) {
        // The log may hold records that were not applied: stop writing.
        this.#failed = e;
        for (const q of [...group, ...this.#queue]) q.reject(e);
        this.#queue = [];
        return;
      }
    }
  }

  async #commitGroup(group: Queued[]): Promise<void> {
    const claimed = new Map<string, string>(); // tenant\0name → type, in this group
    const outcomes: WriteOutcome[] = [];
    const records: (WriteRecord | null)[] = [];
    for (const q of group) {
      const t = this.#tenant(q.tenant);
      const typeOf = (name: string) =>
        t.series.typeOf(name) ?? claimed.get(`${q.tenant}\0${name}`);
      const claim = (name: string, type: string, index: number) => {
        const have = typeOf(name);
        if (have !== undefined && have !== type) {
          return {
            index,
            code: "invalid_type" as const,
            message: `${JSON.stringify(name)} is a ${have}, not a ${type}`,
          };
        }
        claimed.set(`${q.tenant}\0${name}`, type);
        return null;
      };
      const outcome: WriteOutcome = { metricErrors: [], eventErrors: [] };
      const observations: Observation[] = [];
      const events: EventRecord[] = [];
      for (const { index, item } of q.request.metrics) {
        const err = claim(item.name, item.type, index);
        if (err) outcome.metricErrors.push(err);
        else observations.push(item);
      }
      for (const { index, item } of q.request.events) {
        const err = claim(item.name, "event", index);
        if (err) outcome.eventErrors.push(err);
        else events.push(item);
      }
      outcomes.push(outcome);
      const empty = observations.length === 0 && events.length === 0;
      const rec = empty ? null : { tenant: q.tenant, observations, events };
      if (rec) this.#log.append(encodeRecord(rec));
      records.push(rec);
    }
    const end = this.#log.position;
    await this.#log.sync();
    const now = this.#now();
    const appenders = new Map<TenantId, Appender>();
    for (const rec of records) {
      if (!rec) continue;
      const samples = this.#apply(rec, now);
      let app = appenders.get(rec.tenant);
      if (!app) appenders.set(rec.tenant, app = this.db.appender(rec.tenant));
      appendView(app, samples);
    }
    for (const app of appenders.values()) {
      this.viewRejected += (await app.commit()).rejected.length;
    }
    this.#viewDone = end;
    group.forEach((q, i) => q.resolve(outcomes[i]));
    if (now - this.#watermarkWritten >= WATERMARK_EVERY_MS) {
      await this.#writeWatermark();
    }
    // Pruning frees buckets a snapshot in progress may still read.
    if (now - this.#lastPrune >= PRUNE_EVERY_MS && !this.#snapshotTask) {
      this.#prune();
    }
    this.#recordsSinceSnapshot += records.length;
    await this.#maybeSnapshot();
  }

  /**
   * The newest snapshot that loads and whose log is still there; null when
   * there is none and the log is whole (from segment 1). Throws
   * SnapshotMissingError when none is usable but segments were deleted:
   * starting would silently lose what they held.
   */
  async #loadNewestSnapshot(): Promise<StoreState | null> {
    const segments = await listSegments(`${this.dir}/log`);
    const firstSegment = segments[0] ?? 1;
    for (const file of await listSnapshots(this.dir)) {
      const snap = await loadSnapshot(file.path, this.#engine, this.warn);
      if (!snap) continue;
      if (snap.position.segment < firstSegment && segments.length > 0) {
        this.warn(
          `metrics snapshot ${file.path} predates the log kept (from segment ${firstSegment}); skipped`,
        );
        for (const t of snap.tenants.values()) t.series.free();
        continue;
      }
      this.replay.snapshot = file.path;
      return snap;
    }
    if (firstSegment > 1) {
      throw new SnapshotMissingError(
        `metrics store: no usable snapshot in ${this.dir}, and log segments before ${firstSegment} were deleted after snapshots; refusing to start without them`,
      );
    }
    return null;
  }

  /** Starts a background snapshot when one is due and none is running. */
  async #maybeSnapshot(): Promise<void> {
    if (this.#snapshotTask || this.#recordsSinceSnapshot === 0) return;
    const every = this.opts.snapshotEveryMs ?? SNAPSHOT_EVERY_MS;
    if (this.#now() - this.#lastSnapshot < every) return;
    await this.#startSnapshot();
  }

  /**
   * Rolls the log (so the snapshot covers whole segments), captures the
   * state and writes it in the background. Call only from the writer (no
   * record may be appended between the roll and the capture).
   */
  async #startSnapshot(): Promise<void> {
    this.#lastSnapshot = this.#now();
    const t0 = performance.now();
    const step = this.opts.onSnapshotStep;
    const position = await this.#log.rollover();
    await step?.("rolled");
    if (
      this.#snapshotPosition &&
      comparePositions(position, this.#snapshotPosition) === 0
    ) {
      this.#recordsSinceSnapshot = 0;
      return;
    }
    const writer = new SnapshotWriter({
      position,
      eventSeq: this.#eventSeq,
      tenants: this.#tenants,
    });
    const captureMs = performance.now() - t0;
    const pending = this.#recordsSinceSnapshot;
    this.#recordsSinceSnapshot = 0;
    this.#snapshotTask = (async () => {
      try {
        await writer.write(`${this.dir}/${snapshotName(position.segment)}`, {
          fsync: this.opts.fsync ?? true,
          onStep: step,
        });
        this.#snapshotPosition = position;
        this.snapshots.written++;
        const r = await applyRetention(this.dir, this.#log, step);
        this.snapshots.segmentsDeleted += r.segments;
        this.snapshots.snapshotsDeleted += r.snapshots;
      } catch (e) {
        // Nothing is deleted unless the new snapshot is durable; retry later.
        this.snapshots.failed++;
        this.#recordsSinceSnapshot += Math.max(pending, 1);
        this.warn(`metrics snapshot failed: ${e}`);
      } finally {
        writer.release();
        this.snapshots.lastCaptureMs = captureMs;
        this.snapshots.lastTotalMs = performance.now() - t0;
        this.#snapshotTask = null;
      }
    })();
  }

  /**
   * Takes a snapshot now (after queued writes) and waits until it is
   * written and retention applied. For close, start, tests and benchmarks.
   */
  async snapshotNow(): Promise<void> {
    while (this.#draining) await this.#writing?.catch(() => {});
    while (this.#snapshotTask) await this.#snapshotTask;
    if (this.#recordsSinceSnapshot === 0 || this.#failed) return;
    // Hold the writer: no record may be appended between roll and capture.
    this.#draining = true;
    try {
      await this.#startSnapshot();
    } finally {
      this.#draining = false;
    }
    if (this.#queue.length > 0) {
      this.#draining = true;
      this.#writing = this.#drain();
    }
    while (this.#snapshotTask) await this.#snapshotTask;
  }

  /** Log bytes on disk (tests: bounded across snapshot cycles). */
  logDiskBytes(): Promise<number> {
    return this.#log.diskBytes();
  }

  #prune(): void {
    const now = this.#now();
    this.#lastPrune = now;
    for (const t of this.#tenants.values()) t.series.prune(now);
  }

  async #writeWatermark(): Promise<void> {
    this.#watermarkWritten = this.#now();
    const path = `${this.dir}/view-watermark.json`;
    // Rename makes it atomic; an older watermark is always safe (replay
    // re-appends more, the Db deduplicates), so no fsync is needed.
    await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(this.#viewDone));
    await Deno.rename(`${path}.tmp`, path);
  }

  /** Definitions of a tenant's names, sorted by name. */
  definitions(tenant: TenantId): Definition[] {
    const defs = this.#tenants.get(tenant)?.series.definitions;
    return defs
      ? [...defs.values()].sort((
        a,
        b,
      ) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      : [];
  }

  /** One name's definition, if known. */
  definition(tenant: TenantId, name: string): Definition | undefined {
    return this.#tenants.get(tenant)?.series.definitions.get(name);
  }

  /** Evaluates an interval query (throws ResolutionError when rollups are gone). */
  query(tenant: TenantId, q: IntervalQuery): QueryResult {
    const t = this.#tenant(tenant);
    return runQuery(this.#engine, t.series, q, this.#now());
  }

  /** One page of events. */
  events(tenant: TenantId, q: EventQuery): EventPage {
    return this.#tenants.get(tenant)?.events.read(q) ??
      { events: [], nextCursor: null };
  }

  /** Resolutions and horizons (for docs and errors). */
  get resolutions() {
    return RESOLUTIONS;
  }

  /** Finishes queued writes, records the watermark, closes the log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#draining) await this.#writing?.catch(() => {});
    while (this.#snapshotTask) await this.#snapshotTask;
    if (!this.#failed) {
      await this.#log.sync();
      await this.#writeWatermark();
      if (this.#recordsSinceSnapshot > 0) await this.snapshotNow();
    }
    await this.#log.close();
    for (const t of this.#tenants.values()) t.series.free();
    this.#tenants.clear();
  }
}

async function readWatermark(path: string): Promise<LogPosition> {
  try {
    const w = JSON.parse(await Deno.readTextFile(path));
    if (Number.isInteger(w?.segment) && Number.isInteger(w?.offset)) return w;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) {
      throw e;
    }
  }
  return { segment: 0, offset: 0 };
}
