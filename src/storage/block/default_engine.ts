/**
 * The engine module the block code uses when its caller passes none:
 * loaded once, on first use.
 * @module
 */
import { type Engine, loadEngine } from "../../bindings/engine.ts";

let shared: Promise<Engine> | null = null;

/** The shared engine (loaded from build/engine.wasm on first call). */
export function defaultEngine(): Promise<Engine> {
  shared ??= loadEngine().catch((e) => {
    shared = null;
    throw e;
  });
  return shared;
}
