/**
 * Bindings for the ddsketch kernel.
 * @module
 */
export {};
