/**
 * A counting gate: at most `limit` holders at once; others wait in order,
 * as Prometheus' --storage.remote.read-concurrent-limit makes remote reads
 * wait rather than fail. A waiter whose signal aborts leaves the queue.
 * @module
 */

/** Releases a held slot (idempotent). */
export type Release = () => void;

/** A FIFO gate of `limit` slots (0: unlimited). */
export class Gate {
  #held = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Slots held now. */
  get held(): number {
    return this.#held;
  }

  /** Waits for a slot; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.limit <= 0 || this.#held < this.limit) {
      this.#held++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.#held++;
        resolve(this.#releaser());
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#held--;
      this.#waiting.shift()?.();
    };
  }
}
