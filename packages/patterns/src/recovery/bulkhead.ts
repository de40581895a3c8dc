import { BulkheadTimeoutError } from '@fsm/core';

/**
 * At most `maxConcurrent` calls at once; up to `maxQueue` more wait in FIFO order for at most
 * `queueTimeoutMs`, then fail with `BulkheadTimeoutError` (code `BULKHEAD_FULL`), as does a call that
 * finds the queue full. (cockatiel's bulkhead has no queue timeout, hence this small one.)
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: { start: () => void; fail: (error: Error) => void }[] = [];
  rejected = 0;

  constructor(
    private readonly name: string,
    private readonly maxConcurrent: number,
    private readonly maxQueue: number,
    private readonly queueTimeoutMs: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) await this.wait();
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.queue.shift()?.start();
    }
  }

  private wait(): Promise<void> {
    if (this.queue.length >= this.maxQueue) {
      this.rejected++;
      return Promise.reject(
        new BulkheadTimeoutError(
          `bulkhead "${this.name}" is full: ${this.maxConcurrent} running, ${this.queue.length} queued`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: reject,
      };
      const timer = setTimeout(() => {
        const index = this.queue.indexOf(entry);
        if (index >= 0) this.queue.splice(index, 1);
        this.rejected++;
        reject(
          new BulkheadTimeoutError(`bulkhead "${this.name}": waited ${this.queueTimeoutMs} ms for a slot`),
        );
      }, this.queueTimeoutMs);
      this.queue.push(entry);
    });
  }
}
