// Exports of the xor kernel (filled in by its owner).
export const xor_version: i32 = 1;
