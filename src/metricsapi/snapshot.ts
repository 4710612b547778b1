/**
 * Snapshots of the whole store state at a log position, so that a start
 * replays only the log after it. `<dataDir>/metricsapi/snapshot.json`,
 * written to a temporary file, fsynced, then renamed over the old one. The
 * log is kept whole, so a snapshot is only an accelerator: one that is
 * missing or does not parse means a replay from the beginning.
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
import type { LogPosition } from "./log.ts";
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

/** Writes the snapshot durably (tmp, fsync, rename). */
export async function saveSnapshot(path: string, s: StoreState): Promise<void> {
  const tenants = [...s.tenants].map(([id, t]) => ({
    id,
    defs: [...t.series.definitions.values()].map((d) => ({
      ...d,
      tagKeys: [...d.tagKeys],
    })),
    series: [...t.series.series].flatMap(([name, byTags]) =>
      [...byTags.values()].map((ts) => ({
        name,
        tags: ts.tags,
        levels: ts.levels.map((level) =>
          [...level].map(([start, b]) => [start, saveRollup(b)])
        ),
      }))
    ),
    view: t.view.save().map(([l, lastT, total]) => [l, num(lastT), num(total)]),
    events: t.events.all().map((
      e,
    ) => [e.name, e.value, e.t, e.properties, e.seq]),
  }));
  const text = JSON.stringify({
    version: VERSION,
    position: s.position,
    eventSeq: s.eventSeq,
    tenants,
  });
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  const f = await Deno.open(tmp, { read: true, write: true });
  try {
    await f.syncData();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
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
 * Reads the snapshot; null when there is none or it cannot be used (then
 * the caller replays the whole log).
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
      warn(`metrics snapshot unreadable (${e}); replaying the whole log`);
    }
    return null;
  }
  if (j?.version !== VERSION || !j.position) {
    warn("metrics snapshot of another version; replaying the whole log");
    return null;
  }
  const tenants = new Map<string, TenantState>();
  try {
    restore(j, engine, tenants);
  } catch (e) {
    for (const t of tenants.values()) t.series.free();
    warn(`metrics snapshot damaged (${e}); replaying the whole log`);
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
      const ts: TypedSeries = {
        tags: sj.tags,
        levels: RESOLUTIONS.map((_, i) =>
          new Map(
            (sj.levels[i] ?? []).map((
              [start, b],
            ) => [start, loadRollup(engine, type, b)]),
          )
        ),
      };
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
