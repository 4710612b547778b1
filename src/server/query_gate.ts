/**
 * PromQL evaluation is synchronous and the server has one JavaScript
 * thread: while a query evaluates, nothing else runs. The gate lets one
 * evaluation run at a time and hands the turn to the next waiter through
 * a macrotask, so the I/O that arrived meanwhile (remote writes, health
 * checks, other requests' bodies) is served between two queries instead
 * of waiting behind all of them. Writes in flight also defer the start of
 * the next evaluation (for at most `maxDeferMs`): a write needs several
 * event-loop turns (body chunks, WAL write) and would otherwise wait one
 * whole evaluation per turn.
 * @module
 */
import { HttpError } from "./http/errors.ts";

/** Serializes evaluations with I/O turns between them. */
export class EvaluationGate {
  #busy = false;
  readonly #waiters: (() => void)[] = [];
  #writes = 0;
  #writesIdle: (() => void)[] = [];

  /**
   * @param maxQueued waiters beyond which new work is refused (503).
   * @param maxDeferMs longest an evaluation waits for writes in flight.
   */
  constructor(readonly maxQueued = 1000, readonly maxDeferMs = 250) {}

  /** Marks a write request in flight until the returned function is called. */
  writeStarted(): () => void {
    this.#writes++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#writes === 0) {
        const idle = this.#writesIdle;
        this.#writesIdle = [];
        for (const f of idle) f();
      }
    };
  }

  #writesDone(): Promise<void> {
    if (this.#writes === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.maxDeferMs);
      this.#writesIdle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waiting evaluations. */
  get queued(): number {
    return this.#waiters.length;
  }

  /** Runs `fn` when its turn comes; `signal` drops it from the queue. */
  async run<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    if (this.#busy) {
      if (this.#waiters.length >= this.maxQueued) {
        throw new HttpError(
          503,
          "unavailable",
          `too many queries waiting (${this.maxQueued}); retry later`,
        );
      }
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.#waiters.indexOf(turn);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(new HttpError(503, "canceled", "query canceled while queued"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiters.push(turn);
      });
    }
    this.#busy = true;
    try {
      await this.#writesDone();
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next) yieldToIo(next);
      else this.#busy = false;
    }
  }
}

/**
 * Runs `fn` after the event loop has polled I/O. A 0 ms timer or a
 * microtask does not do it: Deno runs every due timer in one go, so
 * chained evaluations would never let a socket be read; a 1 ms timer is
 * not due yet when it is set, so the loop polls I/O first.
 */
function yieldToIo(fn: () => void): void {
  setTimeout(fn, 1);
}

/** The process-wide gate (one JavaScript thread evaluates). */
export const evaluationGate = new EvaluationGate();
