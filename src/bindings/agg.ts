/**
 * Bindings for the agg kernel.
 * @module
 */
export {};
