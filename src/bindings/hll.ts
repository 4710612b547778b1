/**
 * Bindings for the hll kernel.
 * @module
 */
export {};
