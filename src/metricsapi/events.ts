/**
 * A tenant's events in memory (the log is their durable form): kept sorted
 * by (timestamp, arrival sequence), overall and per name, and read newest
 * first in pages. A cursor names the last event returned, so pages stay
 * stable while newer events arrive; sequences come from log order, so
 * cursors stay valid across restarts.
 * @module
 */
import type { EventRecord } from "./types.ts";

/** A stored event: the record plus its arrival sequence. */
export interface StoredEvent extends EventRecord {
  readonly seq: number;
}

/** One page of events, newest first. */
export interface EventPage {
  readonly events: StoredEvent[];
  /** Pass as `cursor` for the next (older) page; null at the end. */
  readonly nextCursor: string | null;
}

/** What to read. */
export interface EventQuery {
  name?: string;
  /** Inclusive bounds, ms. */
  from: number;
  to: number;
  limit: number;
  cursor?: { t: number; seq: number };
}

const before = (a: StoredEvent, t: number, seq: number) =>
  a.t < t || (a.t === t && a.seq < seq);

/** Sorted insert (appends are O(1) when events arrive in time order). */
function insert(list: StoredEvent[], e: StoredEvent): void {
  if (
    list.length === 0 || !before(e, list[list.length - 1].t, list.at(-1)!.seq)
  ) {
    list.push(e);
    return;
  }
  list.splice(countBefore(list, e.t, e.seq), 0, e);
}

/** How many events sort strictly before (t, seq). */
function countBefore(list: StoredEvent[], t: number, seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid], t, seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Encodes a page cursor. */
export function encodeCursor(e: { t: number; seq: number }): string {
  return btoa(`${e.t}:${e.seq}`).replaceAll("=", "");
}

/** Decodes a page cursor; null when it is not one. */
export function decodeCursor(text: string): { t: number; seq: number } | null {
  let plain: string;
  try {
    plain = atob(text);
  } catch {
    return null;
  }
  const m = /^(-?\d{1,16}):(\d{1,16})$/.exec(plain);
  return m ? { t: Number(m[1]), seq: Number(m[2]) } : null;
}

/** The events of one tenant. */
export class TenantEvents {
  readonly #all: StoredEvent[] = [];
  readonly #byName = new Map<string, StoredEvent[]>();

  /** Number of events held. */
  get size(): number {
    return this.#all.length;
  }

  /** Every event, oldest first (for snapshots). */
  all(): readonly StoredEvent[] {
    return this.#all;
  }

  /** Stores one event with its sequence. */
  add(e: EventRecord, seq: number): void {
    const stored: StoredEvent = { ...e, seq };
    insert(this.#all, stored);
    let list = this.#byName.get(e.name);
    if (!list) this.#byName.set(e.name, list = []);
    insert(list, stored);
  }

  /** One page, newest first, within [from, to] and before the cursor. */
  read(q: EventQuery): EventPage {
    const list = q.name === undefined
      ? this.#all
      : this.#byName.get(q.name) ?? [];
    // Start just after the newest admissible event: <= to, before cursor.
    let end = countBefore(list, q.to, Number.MAX_SAFE_INTEGER);
    if (q.cursor) {
      end = Math.min(end, countBefore(list, q.cursor.t, q.cursor.seq));
    }
    const events: StoredEvent[] = [];
    let i = end - 1;
    for (; i >= 0 && events.length < q.limit; i--) {
      if (list[i].t < q.from) break;
      events.push(list[i]);
    }
    const more = i >= 0 && list[i].t >= q.from && events.length > 0;
    return {
      events,
      nextCursor: more ? encodeCursor(events[events.length - 1]) : null,
    };
  }
}
