/**
 * The Pushgateway group store, per tenant. Groups live in memory and in
 * one state file per tenant; their samples reach the TSDB as if a
 * Prometheus server scraped a Pushgateway with `honor_labels: true`:
 * written on every change and re-written every `intervalMs`, with stale
 * markers for series that leave a group.
 *
 * Operations of one tenant run one at a time (a promise chain), so a
 * push's check, state file, and samples never interleave with another's.
 * @module
 */
import { type Labels, labelsKey } from "../../model/labels.ts";
import type {
  AppendResult,
  Storage,
  TenantId,
} from "../../storage/interface.ts";
import type { MetricFamily } from "../exposition.ts";
import {
  checkConsistency,
  familySamples,
  type Group,
  type GroupFamily,
  groupSamples,
  InconsistentPushError,
  PUSH_FAILURE_TIME,
  PUSH_TIME,
} from "./group.ts";
import type { GroupingKey } from "./grouping.ts";
import { readStates, writeState } from "./state_file.ts";

/** Prometheus' stale marker, its exact bits held in a Float64Array. */
const STALE = new Float64Array(
  new BigUint64Array([0x7ff0000000000002n]).buffer,
);

/** Options of the store. */
export interface PushgatewayStoreOptions {
  /** Where samples go for periodic re-writes (the server's Db). */
  storage: Storage;
  /** The server's data directory; state lives in `<dataDir>/pushgateway/`. */
  dataDir: string;
  /** How often every group is re-written (ms; default 15 s, like a scrape interval). */
  intervalMs?: number;
  /** Wall clock in ms (default Date.now). */
  now?: () => number;
  /** Called with errors of background re-writes (default console.error). */
  onError?: (e: unknown) => void;
}

/** Per-call overrides: the request's storage and clock. */
export interface PushCallOptions {
  storage?: Storage;
  now?: number;
}

/** A push refused by the store: answered with 400, the group keeps its metrics. */
export class PushRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PushRejectedError";
  }
}

/** What a successful change wrote to the TSDB. */
export interface WriteReport {
  /** Sample timestamp used (ms). */
  t: number;
  samples: number;
  staleMarkers: number;
  /** Samples the TSDB refused (e.g. a series limit); the group state still holds them. */
  rejected: AppendResult["rejected"];
}

interface TenantState {
  groups: Map<string, Group>;
  /** Last sample time written for this tenant: later writes use a later ms. */
  lastT: number;
  queue: Promise<unknown>;
}

export class PushgatewayStore {
  readonly #tenants = new Map<TenantId, TenantState>();
  readonly #dir: string;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #onError: (e: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #scraping: Promise<void> | null = null;
  #running = false;

  private constructor(readonly options: PushgatewayStoreOptions) {
    this.#dir = `${options.dataDir}/pushgateway`;
    this.#interval = options.intervalMs ?? 15_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((e) => console.error(e));
  }

  /** Opens the store, reloading every tenant's persisted groups. */
  static async open(
    options: PushgatewayStoreOptions,
  ): Promise<PushgatewayStore> {
    const store = new PushgatewayStore(options);
    for (const [tenant, groups] of await readStates(store.#dir)) {
      const state = store.#state(tenant);
      for (const g of groups) state.groups.set(g.key.id, g);
    }
    return store;
  }

  /** Starts the periodic re-write (writes once at once, then every interval). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const loop = () => {
      this.#scraping = this.scrape().catch(this.#onError).finally(() => {
        this.#scraping = null;
        if (this.#running) this.#timer = setTimeout(loop, this.#interval);
      });
    };
    loop();
  }

  /** Stops the periodic re-write and waits for in-flight work. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#scraping;
    await Promise.all(
      [...this.#tenants.values()].map((s) => s.queue.catch(() => {})),
    );
  }

  /** The tenant's groups (a snapshot), in no particular order. */
  groups(tenant: TenantId): Group[] {
    return [...(this.#tenants.get(tenant)?.groups.values() ?? [])];
  }

  /**
   * PUT (`replace`: the group becomes exactly `families`) or POST (families
   * of the same names are replaced, others kept). Throws PushRejectedError
   * for timestamps or inconsistency; an existing group then records the
   * failure time and keeps its metrics.
   */
  push(
    tenant: TenantId,
    key: GroupingKey,
    families: ReadonlyMap<string, MetricFamily>,
    replace: boolean,
    call: PushCallOptions = {},
  ): Promise<WriteReport> {
    return this.#serial(tenant, async (state) => {
      const old = state.groups.get(key.id);
      const t = this.#nextT(state, call.now);
      let next: Group;
      try {
        next = buildGroup(old, key, families, replace, t);
        const all = new Map(state.groups);
        all.set(key.id, next);
        checkConsistency(all.values());
      } catch (e) {
        if (!(e instanceof InconsistentPushError)) throw e;
        if (old) {
          const failed = { ...old, failureTime: t / 1000 };
          await this.#commit(tenant, state, key, failed);
          await this.#write(tenant, call.storage, t, [failed], []);
        }
        throw new PushRejectedError(
          `pushed metrics are invalid or inconsistent with existing metrics: ${e.message}`,
        );
      }
      await this.#commit(tenant, state, key, next);
      const gone = old ? leaving(old, next) : [];
      return await this.#write(tenant, call.storage, t, [next], gone);
    });
  }

  /** DELETE: removes the group whose key is exactly `key` (a no-op when absent). */
  delete(
    tenant: TenantId,
    key: GroupingKey,
    call: PushCallOptions = {},
  ): Promise<WriteReport | null> {
    return this.#serial(tenant, async (state) => {
      const old = state.groups.get(key.id);
      if (!old) return null;
      const t = this.#nextT(state, call.now);
      await this.#commit(tenant, state, key, null);
      const gone = groupSamples(old).map((s) => s.labels);
      return await this.#write(tenant, call.storage, t, [], gone);
    });
  }

  /** Re-writes every group's current values at `now` (one "scrape"). */
  async scrape(now?: number): Promise<void> {
    const work = [...this.#tenants].map(([tenant]) =>
      this.#serial(tenant, async (state) => {
        if (state.groups.size === 0) return;
        const t = this.#nextT(state, now);
        await this.#write(tenant, undefined, t, state.groups.values(), []);
      })
    );
    await Promise.all(work);
  }

  #state(tenant: TenantId): TenantState {
    let s = this.#tenants.get(tenant);
    if (!s) {
      s = { groups: new Map(), lastT: -Infinity, queue: Promise.resolve() };
      this.#tenants.set(tenant, s);
    }
    return s;
  }

  #serial<T>(
    tenant: TenantId,
    fn: (state: TenantState) => Promise<T>,
  ): Promise<T> {
    const state = this.#state(tenant);
    const run = state.queue.then(() => fn(state), () => fn(state));
    state.queue = run.catch(() => {});
    return run;
  }

  /** A sample time after every earlier one of the tenant (series need increasing times). */
  #nextT(state: TenantState, now?: number): number {
    const t = Math.max(Math.floor(now ?? this.#now()), state.lastT + 1);
    state.lastT = t;
    return t;
  }

  /** Persists the tenant with `key`'s group set to `group` (or removed), then applies it. */
  async #commit(
    tenant: TenantId,
    state: TenantState,
    key: GroupingKey,
    group: Group | null,
  ): Promise<void> {
    const next = new Map(state.groups);
    if (group) next.set(key.id, group);
    else next.delete(key.id);
    await writeState(this.#dir, tenant, next.values());
    state.groups = next;
  }

  async #write(
    tenant: TenantId,
    storage: Storage | undefined,
    t: number,
    groups: Iterable<Group>,
    stale: Labels[],
  ): Promise<WriteReport> {
    const app = (storage ?? this.options.storage).appender(tenant);
    let samples = 0;
    for (const g of groups) {
      for (const s of groupSamples(g)) {
        app.append(s.labels, t, s.value);
        samples++;
      }
    }
    for (const labels of stale) app.appendFrom(labels, t, STALE, 0);
    const result = await app.commit();
    return {
      t,
      samples,
      staleMarkers: stale.length,
      rejected: result.rejected,
    };
  }
}

/** The group after a push at `t` (ms). */
function buildGroup(
  old: Group | undefined,
  key: GroupingKey,
  families: ReadonlyMap<string, MetricFamily>,
  replace: boolean,
  t: number,
): Group {
  for (const f of families.values()) {
    if (f.metrics.some((m) => m.timestampMs !== undefined)) {
      throw new InconsistentPushError(
        "pushed metrics must not have timestamps",
      );
    }
  }
  const next = new Map<string, GroupFamily>(
    replace || !old ? [] : old.families,
  );
  for (const f of families.values()) {
    // The Pushgateway's own gauges override pushed ones of the same name.
    if (f.name === PUSH_TIME || f.name === PUSH_FAILURE_TIME) continue;
    next.set(f.name, familySamples(f, key));
  }
  return {
    key,
    families: next,
    pushTime: t / 1000,
    failureTime: old?.failureTime ?? 0,
  };
}

/** Series of `old` that `next` no longer has. */
function leaving(old: Group, next: Group): Labels[] {
  const keep = new Set(groupSamples(next).map((s) => labelsKey(s.labels)));
  return groupSamples(old).map((s) => s.labels)
    .filter((l) => !keep.has(labelsKey(l)));
}
