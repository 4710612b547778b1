// The export list of the engine module, and nothing else. Every export takes
// and returns numbers only: pointers into linear memory, lengths, counts, and
// negative error codes (assembly/common/errors.ts). See docs/engine-abi.md.

export { alloc, free } from "./common/memory";
export * from "./xor/mod";
export * from "./ddsketch/mod";
export * from "./hll/mod";
export * from "./agg/mod";
export * from "./rw/mod";
