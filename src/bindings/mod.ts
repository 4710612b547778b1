/**
 * Bindings of the engine module for Deno and browsers: one loader, typed
 * views, and one wrapper per kernel.
 * @module
 */
export * from "./engine.ts";
export * from "./errors.ts";
export * from "./xor.ts";
export * from "./ddsketch.ts";
export * from "./hll.ts";
export * from "./agg.ts";
