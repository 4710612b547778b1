/**
 * Error codes of the engine module, mirrored from assembly/common/errors.ts
 * (keep both lists identical), and the error the bindings throw for them.
 * @module
 */

export const ERR_TRUNCATED = -1;
export const ERR_CAPACITY = -2;
export const ERR_BOUNDS = -3;
export const ERR_CORRUPT = -4;
export const ERR_FULL = -5;
export const ERR_ARG = -6;
export const ERR_FORMAT = -7;
export const ERR_NOMEM = -8;

const messages: Record<number, string> = {
  [ERR_TRUNCATED]: "input ends before the data it announces (truncated)",
  [ERR_CAPACITY]: "output buffer too small",
  [ERR_BOUNDS]: "buffer reaches outside engine memory",
  [ERR_CORRUPT]: "input is not a valid encoding (corrupt)",
  [ERR_FULL]: "chunk is full",
  [ERR_ARG]: "argument out of range",
  [ERR_FORMAT]: "unknown serialization format or version",
  [ERR_NOMEM]: "engine memory exhausted",
};

/** A failure reported by the engine module: `code` is one of the ERR_* constants. */
export class EngineError extends Error {
  readonly code: number;
  constructor(code: number, context: string) {
    super(`${context}: ${messages[code] ?? `engine error ${code}`}`);
    this.name = "EngineError";
    this.code = code;
  }
}

/** Throws an EngineError when `result` is negative, else returns it. */
export function check(result: number, context: string): number {
  if (result < 0) throw new EngineError(result, context);
  return result;
}
