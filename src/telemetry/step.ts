/**
 * The telemetry `step`: a bucket width. A JSON API whose times are epoch
 * milliseconds takes a bare number as milliseconds (`3600000`), and people
 * write durations (`1h`, `15m`, `1d`, `1h30m`); both are accepted. Units
 * are fixed-length (ms s m h d w): a calendar month or year has no single
 * width, so `M` and `y` are refused rather than guessed.
 * @module
 */
import { parseCompoundDuration } from "../model/duration.ts";

const DIGITS = /^\d+$/;

/** Why a step was refused. */
export class StepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepError";
  }
}

/**
 * A step in milliseconds from a positive integer (ms), a digit string (ms)
 * or a duration string. Throws StepError when it is not a positive,
 * safe-integer number of milliseconds.
 */
export function parseStep(input: string | number): number {
  let ms: number;
  if (typeof input === "number") {
    if (!Number.isInteger(input)) {
      throw new StepError("a numeric step is whole milliseconds");
    }
    ms = input;
  } else if (DIGITS.test(input)) {
    ms = Number(input);
  } else {
    const parsed = parseCompoundDuration(input);
    if (parsed === null) {
      throw new StepError(
        `cannot parse ${
          JSON.stringify(input)
        } as a duration: use milliseconds or units ms s m h d w, like "15m" or "1h30m"`,
      );
    }
    ms = parsed;
  }
  if (!(ms > 0)) throw new StepError("step must be positive");
  if (!Number.isSafeInteger(ms)) throw new StepError("step is too large");
  return ms;
}
