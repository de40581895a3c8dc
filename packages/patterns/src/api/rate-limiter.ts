import { delay } from '@fsm/core';

/** A token bucket: `perSecond` calls per second on average, bursts up to `burst`; waiters go in order. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, Math.ceil(perSecond)),
  ) {
    this.tokens = this.burst;
  }

  /** Resolves when a call may go; rejects if `signal` aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.chain.then(() => this.take(signal));
    // The next caller waits for this one's turn whatever its outcome (an abort only ends this wait).
    this.chain = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
      await delay(waitMs, signal);
    }
  }
}
