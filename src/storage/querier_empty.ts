/**
 * A querier with nothing in it (a tenant that never wrote).
 * @module
 */
import type { Querier } from "./interface.ts";

export const EMPTY_QUERIER: Querier = {
  select: () => [],
  labelNames: () => [],
  labelValues: () => [],
  close: () => {},
};
