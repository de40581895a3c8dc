import { delay, ResourceError, type ResourcePoolOptions, type ResourceProvider } from '@fsm/core';
import { PoolCounters, type PoolMetrics } from './pool-metrics.js';

interface Idle<H> {
  handle: H;
  since: number;
}

interface Waiter<H> {
  resolve: (handle: H) => void;
  reject: (error: unknown) => void;
}

/**
 * A bounded pool of handles of one provider. Handles are made on demand up to `maxSize`; callers beyond
 * that wait in FIFO order until a handle is released, their signal aborts, or `acquireTimeoutMs` passes
 * (`RESOURCE_TIMEOUT`). Idle handles are validated on borrow, evicted after `idleTimeoutMs`, and checked
 * every `healthCheckIntervalMs`. Creation failures are retried `retryAttempts` times, `retryDelayMs` apart.
 */
export class ResourcePool<H = unknown> {
  private readonly idle: Idle<H>[] = [];
  private readonly busy = new Set<H>();
  private readonly waiters: Waiter<H>[] = [];
  private pendingCreates = 0;
  /** Handles out of the idle list while being validated: still counted against `maxSize`. */
  private checking = 0;
  private readonly counters = new PoolCounters();
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly provider: ResourceProvider<H>,
    private readonly options: ResourcePoolOptions,
  ) {
    const interval = options.healthCheckIntervalMs ?? options.idleTimeoutMs;
    if (interval !== undefined && interval > 0) {
      this.timer = setInterval(() => void this.maintain(), interval);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.idle.length + this.busy.size + this.pendingCreates + this.checking;
  }

  /** Whether `acquire` would return without waiting. */
  hasCapacity(): boolean {
    return this.idle.length > 0 || this.size < this.options.maxSize;
  }

  async acquire(signal?: AbortSignal): Promise<H> {
    this.assertOpen();
    signal?.throwIfAborted();
    const started = performance.now();
    // `obtain` marks the handle busy itself, in the same tick it is counted out of idle or created.
    const handle = await this.obtain(signal);
    this.counters.recordAcquire(performance.now() - started);
    return handle;
  }

  /** Returns a handle; a handle marked broken is destroyed instead of reused. */
  async release(handle: H, broken = false): Promise<void> {
    if (!this.busy.delete(handle)) return;
    this.counters.releases++;
    if (broken || this.closed) {
      await this.destroy(handle);
      this.serveWaiters();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      this.busy.add(handle);
      waiter.resolve(handle);
      return;
    }
    this.idle.push({ handle, since: Date.now() });
  }

  metrics(): PoolMetrics {
    return this.counters.snapshot(this.busy.size, this.idle.length, this.waiters.length);
  }

  /** Destroys idle handles and closes the provider; handles still out are destroyed as they come back. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const closing = new ResourceError(
      'RESOURCE_UNAVAILABLE',
      this.name,
      `resource "${this.name}" is closing`,
    );
    for (const waiter of this.waiters.splice(0)) waiter.reject(closing);
    const handles = [...this.idle.splice(0).map((i) => i.handle), ...this.busy];
    this.busy.clear();
    const failures: unknown[] = [];
    for (const outcome of await Promise.allSettled(handles.map((h) => this.destroyRaw(h))))
      if (outcome.status === 'rejected') failures.push(outcome.reason);
    try {
      await this.provider.close();
    } catch (error) {
      failures.push(error);
    }
    if (failures.length > 0)
      throw new AggregateError(failures, `closing resource "${this.name}": ${failures.length} failure(s)`);
  }

  private async obtain(signal: AbortSignal | undefined): Promise<H> {
    for (;;) {
      const idle = this.idle.pop();
      if (!idle) break;
      this.checking++;
      let valid: boolean;
      try {
        valid = await this.isValid(idle.handle);
      } finally {
        this.checking--;
      }
      if (valid) {
        this.busy.add(idle.handle);
        return idle.handle;
      }
      await this.destroy(idle.handle);
    }
    if (this.size < this.options.maxSize) return this.create(signal);
    return this.wait(signal);
  }

  private wait(signal: AbortSignal | undefined): Promise<H> {
    return new Promise<H>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter<H> = {
        resolve: (handle) => {
          cleanup();
          resolve(handle);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.counters.recordTimeout();
        waiter.reject(
          new ResourceError(
            'RESOURCE_TIMEOUT',
            this.name,
            `no "${this.name}" handle free within ${this.options.acquireTimeoutMs} ms (pool of ${this.options.maxSize}, ${this.waiters.length} waiting)`,
          ),
        );
      }, this.options.acquireTimeoutMs);
      const onAbort = () => waiter.reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private async create(signal: AbortSignal | undefined): Promise<H> {
    this.pendingCreates++;
    try {
      const attempts = Math.max(1, this.options.retryAttempts + 1);
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        signal?.throwIfAborted();
        try {
          const handle = await this.provider.create(signal);
          this.counters.created++;
          this.busy.add(handle);
          return handle;
        } catch (error) {
          if (signal?.aborted) throw error;
          this.counters.failures++;
          lastError = error;
          if (attempt < attempts && this.options.retryDelayMs > 0)
            await delay(this.options.retryDelayMs, signal);
        }
      }
      throw new ResourceError(
        'RESOURCE_UNAVAILABLE',
        this.name,
        `could not create resource "${this.name}" after ${attempts} attempt(s): ${(lastError as Error)?.message ?? lastError}`,
        { cause: lastError },
      );
    } finally {
      this.pendingCreates--;
    }
  }

  /** A waiter whose handle was destroyed gets a new one, if there is room. */
  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.size < this.options.maxSize) {
      const waiter = this.waiters.shift() as Waiter<H>;
      this.create(undefined).then(
        (handle) => {
          this.busy.add(handle);
          waiter.resolve(handle);
        },
        (error: unknown) => waiter.reject(error),
      );
    }
  }

  private async isValid(handle: H): Promise<boolean> {
    if (!this.provider.validate) return true;
    try {
      return await this.provider.validate(handle);
    } catch (error) {
      this.counters.failures++;
      // A validation that throws means the handle is broken: it is destroyed and replaced.
      void error;
      return false;
    }
  }

  private async destroy(handle: H): Promise<void> {
    try {
      await this.destroyRaw(handle);
    } catch (error) {
      this.counters.failures++;
      throw new ResourceError(
        'RESOURCE_RELEASE_FAILED',
        this.name,
        `destroying a "${this.name}" handle failed`,
        {
          cause: error,
        },
      );
    }
  }

  private async destroyRaw(handle: H): Promise<void> {
    this.counters.destroyed++;
    await this.provider.destroy(handle);
  }

  /** Evicts idle handles past their idle time (keeping `minSize`) and drops those that fail validation. */
  private async maintain(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const keep: Idle<H>[] = [];
    const drop: H[] = [];
    const entries = this.idle.splice(0);
    this.checking += entries.length;
    for (const entry of entries) {
      const expired =
        this.options.idleTimeoutMs !== undefined &&
        now - entry.since > this.options.idleTimeoutMs &&
        keep.length + this.busy.size >= (this.options.minSize ?? 0);
      if (expired || !(await this.isValid(entry.handle))) drop.push(entry.handle);
      else keep.push(entry);
    }
    this.checking -= entries.length;
    this.idle.push(...keep);
    const outcomes = await Promise.allSettled(drop.map((h) => this.destroyRaw(h)));
    for (const outcome of outcomes) if (outcome.status === 'rejected') this.counters.failures++;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ResourceError('RESOURCE_UNAVAILABLE', this.name, `resource "${this.name}" is closed`);
  }
}
