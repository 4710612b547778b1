// Exports of the agg kernel (filled in by its owner).
export const agg_version: i32 = 1;
