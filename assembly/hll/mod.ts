// Exports of the hll kernel (filled in by its owner).
export const hll_version: i32 = 1;
