/**
 * Bindings for the xor kernel.
 * @module
 */
export {};
