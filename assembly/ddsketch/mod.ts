// Exports of the ddsketch kernel (filled in by its owner).
export const ddsketch_version: i32 = 1;
