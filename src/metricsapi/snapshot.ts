/**
 * Snapshots of the whole store state at a log position, so that a start
 * replays only the log after it. Written to a temporary file, fsynced,
 * renamed, directory fsynced; which files exist and which log segments they
 * allow deleting is `retention.ts`'s business.
 *
 * JSON: `{version: 1, position, eventSeq, tenants: [{id, defs, series,
 * view, events}]}`; a rollup is `[count, sum, min, max, last, lastT,
 * ddsketch base64 | null, distinct | null]`, where distinct is
 * `{exact: [...]}` or `{hll: base64}` (docs/format/ddsketch.md, hll.md).
 * Non-finite numbers are written as strings.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { DDSketch } from "../bindings/ddsketch.ts";
import type { Labels } from "../model/labels.ts";
import { Distinct } from "./distinct.ts";
import { type LogPosition, syncDir } from "./log.ts";
import type { StoredEvent } from "./events.ts";
import { Rollup } from "./rollup.ts";
import { RESOLUTIONS } from "./resolution.ts";
import { tagsKey, type TypedSeries } from "./series.ts";
import { newTenant, type TenantState } from "./tenant.ts";
import type { MetricType, Tags } from "./types.ts";

/** The state a snapshot holds. */
export interface StoreState {
  position: LogPosition;
  eventSeq: number;
  tenants: Map<string, TenantState>;
}

const VERSION = 1;
const encoder = new TextEncoder();

const num = (x: number): number | string => Number.isFinite(x) ? x : String(x);
const unnum = (x: number | string): number =>
  typeof x === "string" ? Number(x) : x;

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function saveRollup(b: Rollup): unknown[] {
  const d = b.distinct?.save();
  return [
    b.count,
    num(b.sum),
    num(b.min),
    num(b.max),
    num(b.last),
    num(b.lastT),
    b.sketch ? toBase64(b.sketch.serialize()) : null,
    d ? ("exact" in d ? d : { hll: toBase64(d.hll) }) : null,
  ];
}

type RollupJson = [
  number,
  number | string,
  number | string,
  number | string,
  number | string,
  number | string,
  string | null,
  { exact: string[] } | { hll: string } | null,
];

function loadRollup(engine: Engine, type: MetricType, j: RollupJson): Rollup {
  const b = new Rollup(engine, type);
  b.count = j[0];
  b.sum = unnum(j[1]);
  b.min = unnum(j[2]);
  b.max = unnum(j[3]);
  b.last = unnum(j[4]);
  b.lastT = unnum(j[5]);
  if (j[6] !== null) b.sketch = DDSketch.deserialize(engine, fromBase64(j[6]));
  const d = j[7];
  if (d !== null) {
    b.distinct = Distinct.load(
      engine,
      "exact" in d ? d : { hll: fromBase64(d.hll) },
    );
  }
  return b;
}

/** Steps of a snapshot write, for crash tests (`onStep`). */
export type SnapshotStep = "tmp-written" | "tmp-synced" | "renamed";

/** Options of `SnapshotWriter.write`. */
export interface SnapshotWriteOptions {
  /** fsync the file and the directory (default true). */
  fsync?: boolean;
  /** Serialized bytes per write; writers run between chunks (default 256 KiB). */
  chunkBytes?: number;
  /** Called after each step (tests kill the process there). */
  onStep?: (step: SnapshotStep) => void | Promise<void>;
}

interface CapturedTenant {
  readonly id: string;
  readonly state: TenantState;
  /** Series created after the capture (seq ≥ this) are not in the snapshot. */
  readonly seriesBefore: number;
  /** Series serialized early because a write was about to change them. */
  readonly early: Map<TypedSeries, string>;
  readonly done: Set<TypedSeries>;
  readonly defs: string;
  readonly view: [Labels, number, number][];
  readonly events: readonly StoredEvent[];
}

function seriesJson(name: string, ts: TypedSeries): string {
  return JSON.stringify({
    name,
    tags: ts.tags,
    levels: ts.levels.map((level) =>
      [...level].map(([start, b]) => [start, saveRollup(b)])
    ),
  });
}

const eventJson = (e: StoredEvent) =>
  JSON.stringify([e.name, e.value, e.t, e.properties, e.seq]);

/**
 * One snapshot of the state at a log position, written while writes go on.
 *
 * The constructor captures, synchronously and cheaply, what is small or
 * append-only (definitions, the view's per-series state, the event list,
 * the series count) and installs a copy-on-write hook on each tenant's
 * series: a series a write is about to change is serialized first, as it
 * was at the capture. `write` then serializes the series in chunks,
 * awaiting the file between chunks, so writers only wait for one chunk.
 * Series created after the capture are skipped. The owner must not prune
 * or free series until `write` settles (or `release` is called).
 */
export class SnapshotWriter {
  readonly #tenants: CapturedTenant[] = [];
  #released = false;

  constructor(readonly state: StoreState) {
    for (const [id, t] of state.tenants) {
      const c: CapturedTenant = {
        id,
        state: t,
        seriesBefore: t.series.created,
        early: new Map(),
        done: new Set(),
        defs: JSON.stringify(
          [...t.series.definitions.values()].map((d) => ({
            ...d,
            tagKeys: [...d.tagKeys],
          })),
        ),
        view: t.view.save(),
        events: t.events.all().slice(),
      };
      t.series.beforeChange = (name, ts) => {
        if (
          ts.seq < c.seriesBefore && !c.done.has(ts) && !c.early.has(ts)
        ) {
          c.early.set(ts, seriesJson(name, ts));
        }
      };
      this.#tenants.push(c);
    }
  }

  /** Removes the copy-on-write hooks (after `write`, or to abandon it). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const c of this.#tenants) c.state.series.beforeChange = null;
  }

  /** Writes the snapshot durably: `<path>.tmp`, fsync, rename, fsync dir. */
  async write(path: string, opts: SnapshotWriteOptions = {}): Promise<void> {
    const fsync = opts.fsync ?? true;
    const chunkBytes = opts.chunkBytes ?? 256 << 10;
    const tmp = `${path}.tmp`;
    const file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      let parts: string[] = [];
      let size = 0;
      const flush = async () => {
        const bytes = encoder.encode(parts.join(""));
        parts = [];
        size = 0;
        for (let off = 0; off < bytes.length;) {
          off += await file.write(bytes.subarray(off));
        }
      };
      const put = async (text: string) => {
        parts.push(text);
        size += text.length;
        if (size >= chunkBytes) await flush();
      };
      const s = this.state;
      await put(
        `{"version":${VERSION},"position":${
          JSON.stringify(s.position)
        },"eventSeq":${s.eventSeq},"tenants":[`,
      );
      for (let i = 0; i < this.#tenants.length; i++) {
        const c = this.#tenants[i];
        await put(
          `${i > 0 ? "," : ""}{"id":${
            JSON.stringify(c.id)
          },"defs":${c.defs},"view":[`,
        );
        for (let j = 0; j < c.view.length; j++) {
          const [l, lastT, total] = c.view[j];
          await put(
            (j > 0 ? "," : "") + JSON.stringify([l, num(lastT), num(total)]),
          );
        }
        await put(`],"series":[`);
        let first = true;
        // Map iteration is live: entries added during the awaits show up
        // and are skipped by their seq; none are deleted meanwhile.
        for (const [name, byTags] of c.state.series.series) {
          for (const ts of byTags.values()) {
            if (ts.seq >= c.seriesBefore) continue;
            const text = c.early.get(ts) ?? seriesJson(name, ts);
            c.early.delete(ts);
            c.done.add(ts);
            await put(first ? text : `,${text}`);
            first = false;
          }
        }
        await put(`],"events":[`);
        for (let j = 0; j < c.events.length; j++) {
          await put((j > 0 ? "," : "") + eventJson(c.events[j]));
        }
        await put("]}");
        c.state.series.beforeChange = null;
        c.early.clear();
        c.done.clear();
      }
      await put("]}");
      await flush();
      await opts.onStep?.("tmp-written");
      if (fsync) await file.syncData();
      await opts.onStep?.("tmp-synced");
    } catch (e) {
      file.close();
      this.release();
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    file.close();
    this.release();
    await Deno.rename(tmp, path);
    if (fsync) await syncDir(path.slice(0, path.lastIndexOf("/")) || ".");
    await opts.onStep?.("renamed");
  }
}

/** Writes the snapshot durably in one go (tmp, fsync, rename). */
export function saveSnapshot(
  path: string,
  s: StoreState,
  opts?: SnapshotWriteOptions,
): Promise<void> {
  return new SnapshotWriter(s).write(path, opts);
}

interface SnapshotJson {
  version: number;
  position: LogPosition;
  eventSeq: number;
  tenants: {
    id: string;
    defs: {
      name: string;
      type: MetricType;
      tagKeys: string[];
      firstSeen: number;
      lastSeen: number;
      dataPoints: number;
    }[];
    series: { name: string; tags: Tags; levels: [number, RollupJson][][] }[];
    view: [Labels, number | string, number | string][];
    events: [string, number | null, number, Record<string, unknown>, number][];
  }[];
}

/**
 * Reads a snapshot; null when there is none or it cannot be used (then the
 * caller tries an older one, or the whole log).
 */
export async function loadSnapshot(
  path: string,
  engine: Engine,
  warn: (m: string) => void,
): Promise<StoreState | null> {
  let j: SnapshotJson;
  try {
    j = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      warn(`metrics snapshot unreadable (${e}); trying an older one`);
    }
    return null;
  }
  if (j?.version !== VERSION || !j.position) {
    warn("metrics snapshot of another version; trying an older one");
    return null;
  }
  const tenants = new Map<string, TenantState>();
  try {
    restore(j, engine, tenants);
  } catch (e) {
    for (const t of tenants.values()) t.series.free();
    warn(`metrics snapshot damaged (${e}); trying an older one`);
    return null;
  }
  return { position: j.position, eventSeq: j.eventSeq, tenants };
}

function restore(
  j: SnapshotJson,
  engine: Engine,
  tenants: Map<string, TenantState>,
): void {
  for (const tj of j.tenants) {
    const t = newTenant(engine);
    tenants.set(tj.id, t);
    for (const d of tj.defs) {
      t.series.definitions.set(d.name, { ...d, tagKeys: new Set(d.tagKeys) });
    }
    for (const sj of tj.series) {
      const type = t.series.definitions.get(sj.name)!.type;
      let byTags = t.series.series.get(sj.name);
      if (!byTags) t.series.series.set(sj.name, byTags = new Map());
      const ts = t.series.newSeries(sj.tags);
      RESOLUTIONS.forEach((_, i) => {
        for (const [start, b] of sj.levels[i] ?? []) {
          ts.levels[i].set(start, loadRollup(engine, type, b));
        }
      });
      byTags.set(tagsKey(sj.tags), ts);
    }
    t.view.load(
      tj.view.map(([l, lastT, total]) => [l, unnum(lastT), unnum(total)]),
    );
    for (const [name, value, time, properties, seq] of tj.events) {
      t.events.add({ name, value, t: time, properties }, seq);
    }
  }
}
