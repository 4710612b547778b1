// Error codes returned by every exported function as a negative i32 (or
// negative i64/f64 where the result type is wider). Mirrored, with messages,
// in src/bindings/errors.ts: keep the two lists identical.

/** The input ended before the data it announced (truncated chunk or blob). */
export const ERR_TRUNCATED: i32 = -1;
/** The caller's output buffer is too small for the result. */
export const ERR_CAPACITY: i32 = -2;
/** A pointer/length pair reaches outside linear memory. */
export const ERR_BOUNDS: i32 = -3;
/** The input is not a valid encoding (corrupt chunk, impossible field). */
export const ERR_CORRUPT: i32 = -4;
/** The chunk holds the maximum number of samples, or its buffer is full. */
export const ERR_FULL: i32 = -5;
/** An argument is outside its documented domain. */
export const ERR_ARG: i32 = -6;
/** A serialized blob has an unknown magic number or version. */
export const ERR_FORMAT: i32 = -7;
/** Memory could not be allocated. */
export const ERR_NOMEM: i32 = -8;
