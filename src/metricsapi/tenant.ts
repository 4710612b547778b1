/**
 * One tenant's Metrics API state: typed series with their rollups, events,
 * and the PromQL view's per-series state.
 * @module
 */
import type { Engine } from "../bindings/engine.ts";
import { TenantEvents } from "./events.ts";
import { TenantSeries } from "./series.ts";
import { ViewState } from "./view.ts";

/** A tenant's state (all in memory; durable through the log and snapshots). */
export interface TenantState {
  readonly series: TenantSeries;
  readonly events: TenantEvents;
  readonly view: ViewState;
}

/** An empty tenant. */
export function newTenant(engine: Engine): TenantState {
  return {
    series: new TenantSeries(engine),
    events: new TenantEvents(),
    view: new ViewState(),
  };
}
