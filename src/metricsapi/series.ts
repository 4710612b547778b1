/**
 * A tenant's typed series: the definitions (type, tag keys, first/last
 * seen, observation count) and, per series (name + tags), one map of
 * rollup buckets per resolution. Observations are folded in as they are
 * applied; nothing raw is kept in memory.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { Rollup } from "./rollup.ts";
import { RESOLUTIONS } from "./resolution.ts";
import type { MetricType, Tags } from "./types.ts";

/** What is known of one metric name. */
export interface Definition {
  readonly name: string;
  readonly type: MetricType;
  readonly tagKeys: Set<string>;
  firstSeen: number;
  lastSeen: number;
  dataPoints: number;
}

/** One series: its tags and a bucket map per resolution (bucket start → rollup). */
export interface TypedSeries {
  /** Creation order within the tenant (a snapshot skips newer series). */
  readonly seq: number;
  readonly tags: Tags;
  readonly levels: Map<number, Rollup>[];
}

/** The stable key of a tag set. */
export function tagsKey(tags: Tags): string {
  const keys = Object.keys(tags).sort();
  return JSON.stringify(keys.map((k) => [k, tags[k]]));
}

/** True when two tag sets hold the same pairs. */
export function sameTags(a: Tags, b: Tags): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** Every typed series and definition of one tenant. */
export class TenantSeries {
  readonly definitions = new Map<string, Definition>();
  readonly series = new Map<string, Map<string, TypedSeries>>();
  // The series of the previous add: batches mostly repeat a series.
  #last: { name: string; series: TypedSeries; def: Definition } | null = null;
  #created = 0;
  /**
   * Called with a series just before an observation changes it: a
   * snapshot in progress records the series' state first (copy on write).
   */
  beforeChange: ((name: string, s: TypedSeries) => void) | null = null;

  constructor(private readonly engine: Engine) {}

  /** How many series were created so far (the next one's `seq`). */
  get created(): number {
    return this.#created;
  }

  /** A new empty series (not yet in any map). */
  newSeries(tags: Tags): TypedSeries {
    return {
      seq: this.#created++,
      tags,
      levels: RESOLUTIONS.map(() => new Map()),
    };
  }

  /** The type a name was first used with, if any. */
  typeOf(name: string): MetricType | undefined {
    return this.definitions.get(name)?.type;
  }

  /**
   * Folds one observation into every resolution whose horizon (relative to
   * `now`) still covers t. `member` is a set's value. The caller has checked
   * that `type` matches the name's type.
   */
  add(
    name: string,
    type: MetricType,
    tags: Tags,
    t: number,
    value: number,
    now: number,
    member?: string,
  ): void {
    const last = this.#last;
    let def: Definition;
    let s: TypedSeries;
    if (last && last.name === name && sameTags(last.series.tags, tags)) {
      def = last.def;
      s = last.series;
    } else {
      ({ def, s } = this.#lookup(name, type, tags, t));
      this.#last = { name, series: s, def };
    }
    this.beforeChange?.(name, s);
    if (t < def.firstSeen) def.firstSeen = t;
    if (t > def.lastSeen) def.lastSeen = t;
    def.dataPoints++;
    for (let i = 0; i < RESOLUTIONS.length; i++) {
      const r = RESOLUTIONS[i];
      const start = Math.floor(t / r.ms) * r.ms;
      if (start + r.ms <= now - r.horizonMs) continue;
      const level = s.levels[i];
      let b = level.get(start);
      if (!b) level.set(start, b = new Rollup(this.engine, type));
      b.add(t, value, member);
    }
  }

  #lookup(name: string, type: MetricType, tags: Tags, t: number) {
    let def = this.definitions.get(name);
    if (!def) {
      def = {
        name,
        type,
        tagKeys: new Set(),
        firstSeen: t,
        lastSeen: t,
        dataPoints: 0,
      };
      this.definitions.set(name, def);
    }
    for (const k in tags) def.tagKeys.add(k);
    let byTags = this.series.get(name);
    if (!byTags) this.series.set(name, byTags = new Map());
    const key = tagsKey(tags);
    let s = byTags.get(key);
    if (!s) {
      s = this.newSeries(tags);
      byTags.set(key, s);
    }
    return { def, s };
  }

  /** The bucket of `name`/`tags` at resolution index `level` containing t. */
  bucket(
    name: string,
    tags: Tags,
    level: number,
    t: number,
  ): Rollup | undefined {
    const r = RESOLUTIONS[level];
    return this.series.get(name)?.get(tagsKey(tags))?.levels[level].get(
      Math.floor(t / r.ms) * r.ms,
    );
  }

  /** Drops buckets past their resolution's horizon; returns how many. */
  prune(now: number): number {
    let dropped = 0;
    for (const byTags of this.series.values()) {
      for (const s of byTags.values()) {
        RESOLUTIONS.forEach((r, i) => {
          if (!Number.isFinite(r.horizonMs)) return;
          for (const [start, b] of s.levels[i]) {
            if (start + r.ms <= now - r.horizonMs) {
              b.free();
              s.levels[i].delete(start);
              dropped++;
            }
          }
        });
      }
    }
    return dropped;
  }

  /** Releases every sketch. */
  free(): void {
    for (const byTags of this.series.values()) {
      for (const s of byTags.values()) {
        for (const level of s.levels) {
          for (const b of level.values()) b.free();
        }
      }
    }
    this.series.clear();
    this.#last = null;
  }
}
