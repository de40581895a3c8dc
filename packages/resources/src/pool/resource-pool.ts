import { delay, onAbort, ResourceError, type ResourcePoolOptions, type ResourceProvider } from '@fsm/core';
import { PoolCounters, type PoolMetrics } from './pool-metrics.js';

interface Idle<H> {
  handle: H;
  since: number;
}

/** Pool settings of this package on top of core's: how long a handle may sit idle and still skip `validate`. */
export interface PoolOptions extends ResourcePoolOptions {
  /**
   * A handle idle for less than this is lent without `validate` (default 500 ms, like HikariCP's bypass
   * window): validating a handle that was fine a moment ago costs a round trip per borrow and finds nothing.
   */
  validateAfterIdleMs?: number;
}

const VALIDATE_AFTER_IDLE_MS = 500;

/** A queued `acquire`: woken with a handle (already marked busy) or with `null` ("room freed, try again"). */
interface Waiter<H> {
  wake: (granted: { handle: H } | null) => void;
}

/**
 * A bounded pool of handles of one provider. Handles are made on demand up to `maxSize`; callers beyond
 * that wait in FIFO order until a handle is released, their signal aborts, or `acquireTimeoutMs` passes
 * (`RESOURCE_TIMEOUT`; the deadline covers creation too). Idle handles are validated on borrow, evicted
 * after `idleTimeoutMs` (keeping `minSize`, which maintenance tops up once the pool is in use) and checked
 * every `healthCheckIntervalMs`. A handle that was idle less than `validateAfterIdleMs` is lent at once (no
 * timer, no listener, no `validate`). A provider marked `shared` lends one handle to many borrowers at once
 * (a synchronous SQLite connection): a borrower then never waits for another to give the handle back, and
 * a new handle is made only when none is out. Creation failures are retried `retryAttempts` times, `retryDelayMs` apart.
 * `close()` stops every acquire in flight, waits for it, then destroys every handle and closes the provider.
 */
export class ResourcePool<H = unknown> {
  private readonly idle: Idle<H>[] = [];
  private readonly busy = new Set<H>();
  /** Shared providers: borrowers of each handle out (every handle in `busy` has an entry). */
  private readonly borrowers: Map<H, number> | undefined;
  private readonly validateAfterIdleMs: number;
  /** Shared handles reported broken while others still held them. */
  private readonly broken = new Set<H>();
  private readonly waiters: Waiter<H>[] = [];
  private pendingCreates = 0;
  /** Handles out of the idle list while being validated: still counted against `maxSize`. */
  private checking = 0;
  private readonly counters = new PoolCounters();
  /** Acquires and maintenance runs in flight; `close()` waits for them before destroying handles. */
  private readonly tasks = new Set<Promise<unknown>>();
  /** Aborted by `close()`: stops maintenance creations. */
  private readonly closing = new AbortController();
  /** One controller per acquire in flight, aborted by `close()` (no shared signal piling up listeners). */
  private readonly stops = new Set<AbortController>();
  /** Destroy failures of handles that came back while closing; reported by `close()`. */
  private readonly closeFailures: unknown[] = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private lastHealthCheck = Date.now();
  private maintaining = false;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly provider: ResourceProvider<H>,
    private readonly options: PoolOptions,
  ) {
    this.borrowers = provider.shared === true ? new Map() : undefined;
    this.validateAfterIdleMs = options.validateAfterIdleMs ?? VALIDATE_AFTER_IDLE_MS;
    const intervals = [options.healthCheckIntervalMs, options.idleTimeoutMs].filter(
      (ms): ms is number => ms !== undefined && ms > 0,
    );
    if (intervals.length > 0) {
      this.timer = setInterval(() => this.track(this.maintain()), Math.min(...intervals));
      // Maintenance must not keep a finished process alive.
      this.timer.unref();
    }
  }

  get size(): number {
    return this.idle.length + this.busy.size + this.pendingCreates + this.checking;
  }

  /** Whether `acquire` would return without waiting. */
  hasCapacity(): boolean {
    return !this.closed && (this.idle.length > 0 || this.size < this.options.maxSize);
  }

  async acquire(signal?: AbortSignal): Promise<H> {
    this.assertOpen();
    signal?.throwIfAborted();
    // The common case (a handle free or shareable right now) needs no deadline, no listener, no check.
    const ready = this.lendNow();
    if (ready !== undefined) {
      this.counters.recordAcquire(0);
      return ready.handle;
    }
    const started = performance.now();
    // One signal for the three ways an acquire stops: the caller's signal, the deadline, close().
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort(
        new ResourceError(
          'RESOURCE_TIMEOUT',
          this.name,
          `no "${this.name}" handle within ${this.options.acquireTimeoutMs} ms (pool of ${this.options.maxSize}, ${this.busy.size} in use, ${this.waiters.length} waiting)`,
        ),
      );
    }, this.options.acquireTimeoutMs);
    // Through the signal's shared hub: callers of many records share one signal.
    const off = signal ? onAbort(signal, () => stop.abort(signal.reason)) : undefined;
    this.stops.add(stop);
    try {
      const handle = await this.track(this.obtain(stop.signal));
      this.counters.recordAcquire(performance.now() - started);
      return handle;
    } catch (error) {
      if (timedOut) this.counters.recordTimeout();
      throw error;
    } finally {
      clearTimeout(timer);
      off?.();
      this.stops.delete(stop);
    }
  }

  /** Returns a handle; a handle marked broken is destroyed instead of reused. Unknown handles are ignored. */
  async release(handle: H, broken = false): Promise<void> {
    if (this.borrowers) {
      const count = this.borrowers.get(handle);
      if (count === undefined) return;
      if (count > 1) {
        // Others still use it; a broken shared handle is destroyed by its last borrower's release.
        this.borrowers.set(handle, count - 1);
        if (broken) this.broken.add(handle);
        this.counters.releases++;
        return;
      }
      this.borrowers.delete(handle);
      if (this.broken.delete(handle)) broken = true;
    }
    if (!this.busy.delete(handle)) return;
    this.counters.releases++;
    if (!broken) return this.giveBack(handle);
    try {
      await this.destroy(handle);
    } finally {
      // The destroyed handle's room goes to the next waiter, whether or not its destroy succeeded.
      this.wakeWaiters();
    }
  }

  metrics(): PoolMetrics {
    return this.counters.snapshot(this.busy.size, this.idle.length, this.waiters.length);
  }

  /**
   * Stops every acquire in flight and waits for it, destroys every handle (idle or still out), closes the
   * provider, then throws one AggregateError of every failure.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const reason = new ResourceError('RESOURCE_UNAVAILABLE', this.name, `resource "${this.name}" is closing`);
    this.closing.abort(reason);
    for (const stop of this.stops) stop.abort(reason);
    await Promise.allSettled([...this.tasks]);
    const handles = [...this.idle.splice(0).map((i) => i.handle), ...this.busy];
    this.busy.clear();
    this.borrowers?.clear();
    this.broken.clear();
    const failures = this.closeFailures.splice(0);
    for (const outcome of await Promise.allSettled(handles.map((h) => this.destroy(h))))
      if (outcome.status === 'rejected') failures.push(outcome.reason);
    try {
      await this.provider.close();
    } catch (error) {
      failures.push(
        new ResourceError(
          'RESOURCE_RELEASE_FAILED',
          this.name,
          `closing the provider of "${this.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      );
    }
    if (failures.length > 0) {
      const detail = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ');
      throw new AggregateError(
        failures,
        `closing resource "${this.name}": ${failures.length} failure(s): ${detail}`,
      );
    }
  }

  /** An idle handle (validated), a new one if there is room, else a place in the queue. */
  private async obtain(signal: AbortSignal): Promise<H> {
    let requeued = false;
    for (;;) {
      signal.throwIfAborted();
      const ready = this.lendNow();
      if (ready !== undefined) return ready.handle;
      const idle = this.idle.pop();
      if (idle) {
        this.checking++;
        let valid: boolean;
        try {
          valid = await this.isValid(idle.handle);
        } finally {
          this.checking--;
        }
        if (!valid) {
          await this.destroyInBackground(idle.handle);
          this.wakeWaiters();
          continue;
        }
        this.lend(idle.handle);
        return this.keepUnlessStopped(idle.handle, signal);
      }
      if (this.size < this.options.maxSize) {
        return this.keepUnlessStopped(await this.create(signal), signal);
      }
      const granted = await this.wait(signal, requeued);
      if (granted) return granted.handle;
      // Woken because room was freed: try again, ahead of callers that came later.
      requeued = true;
    }
  }

  /**
   * A handle to lend without waiting: another borrower's shared handle (while no idle one is left), or the
   * most recently returned idle handle if it came back less than `validateAfterIdleMs` ago.
   */
  private lendNow(): { handle: H } | undefined {
    if (this.closed) return undefined;
    if (this.borrowers && this.busy.size > 0 && this.idle.length === 0) {
      let best: H | undefined;
      let least = Number.POSITIVE_INFINITY;
      for (const [handle, count] of this.borrowers) {
        if (count < least && !this.broken.has(handle)) {
          best = handle;
          least = count;
        }
      }
      if (best !== undefined) {
        this.borrowers.set(best, least + 1);
        return { handle: best };
      }
    }
    const last = this.idle.at(-1);
    if (last && (!this.provider.validate || Date.now() - last.since < this.validateAfterIdleMs)) {
      this.idle.pop();
      this.lend(last.handle);
      return last;
    }
    return undefined;
  }

  /** Marks an idle (or new) handle as out, with its first borrower. */
  private lend(handle: H): void {
    this.busy.add(handle);
    this.borrowers?.set(handle, 1);
  }

  /** A handle obtained after the acquire was stopped goes back (or, when closing, is destroyed). */
  private async keepUnlessStopped(handle: H, signal: AbortSignal): Promise<H> {
    if (!signal.aborted) return handle;
    if (this.borrowers) {
      // Shared: give back only this acquire's share.
      const count = this.borrowers.get(handle) ?? 1;
      if (count > 1) {
        this.borrowers.set(handle, count - 1);
        throw signal.reason;
      }
      this.borrowers.delete(handle);
    }
    this.busy.delete(handle);
    try {
      await this.giveBack(handle);
    } catch (error) {
      this.closeFailures.push(error);
    }
    throw signal.reason;
  }

  private wait(signal: AbortSignal, front: boolean): Promise<{ handle: H } | null> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<H> = {
        wake: (granted) => {
          signal.removeEventListener('abort', onAbort);
          resolve(granted);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (front) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }

  /** Hands a free handle to the first waiter, else keeps it idle; destroys it when the pool is closed. */
  private async giveBack(handle: H): Promise<void> {
    if (this.closed) return this.destroy(handle);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.lend(handle);
      waiter.wake({ handle });
      // Shared: every other waiter can borrow the same handle now.
      if (this.borrowers) this.wakeWaiters();
      return;
    }
    this.idle.push({ handle, since: Date.now() });
  }

  /** Room was freed (a handle destroyed, a creation failed): waiters retry, at most one per free slot. */
  private wakeWaiters(): void {
    // Shared: a handle out can serve every waiter, so all of them try again.
    let free = this.borrowers && this.busy.size > 0 ? this.waiters.length : this.options.maxSize - this.size;
    while (free-- > 0) {
      const waiter = this.waiters.shift();
      if (!waiter) return;
      waiter.wake(null);
    }
  }

  private async create(signal: AbortSignal): Promise<H> {
    this.pendingCreates++;
    try {
      const attempts = Math.max(1, this.options.retryAttempts + 1);
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        signal.throwIfAborted();
        try {
          const handle = await this.provider.create(signal);
          this.counters.created++;
          this.lend(handle);
          return handle;
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          this.counters.recordFailure(error);
          lastError = error;
          if (attempt < attempts && this.options.retryDelayMs > 0)
            await delay(this.options.retryDelayMs, signal);
        }
      }
      throw new ResourceError(
        'RESOURCE_UNAVAILABLE',
        this.name,
        `could not create resource "${this.name}" after ${attempts} attempt(s): ${lastError instanceof Error ? lastError.message : String(lastError)}`,
        { cause: lastError },
      );
    } finally {
      this.pendingCreates--;
      if (this.waiters.length > 0) this.wakeWaiters();
    }
  }

  /** `validate` throwing means the same as `false`: the handle is broken (counted as a failure). */
  private async isValid(handle: H): Promise<boolean> {
    if (!this.provider.validate) return true;
    try {
      return await this.provider.validate(handle);
    } catch (error) {
      this.counters.recordFailure(error);
      return false;
    }
  }

  private async destroy(handle: H): Promise<void> {
    this.counters.destroyed++;
    try {
      await this.provider.destroy(handle);
    } catch (error) {
      this.counters.recordFailure(error);
      throw new ResourceError(
        'RESOURCE_RELEASE_FAILED',
        this.name,
        `destroying a "${this.name}" handle failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Destroys a broken or expired handle nobody holds. Its failure cannot go to a caller (the acquire that
   * found the handle broken gets a fresh one), so it is counted in `failures` and kept as `lastFailure`.
   */
  private async destroyInBackground(handle: H): Promise<void> {
    try {
      await this.destroy(handle);
    } catch (error) {
      // Already recorded by destroy(); reported through metrics().failures / lastFailure.
      void error;
    }
  }

  /** Evicts expired idle handles (keeping `minSize`), drops those failing a health check, tops up to `minSize`. */
  private async maintain(): Promise<void> {
    if (this.closed || this.maintaining) return;
    this.maintaining = true;
    try {
      const now = Date.now();
      const healthDue =
        this.options.healthCheckIntervalMs !== undefined &&
        now - this.lastHealthCheck >= this.options.healthCheckIntervalMs;
      if (healthDue) this.lastHealthCheck = now;
      const minSize = this.options.minSize ?? 0;
      const entries = this.idle.splice(0);
      this.checking += entries.length;
      const keep: Idle<H>[] = [];
      const drop: H[] = [];
      try {
        for (const entry of entries) {
          const expired =
            this.options.idleTimeoutMs !== undefined &&
            now - entry.since > this.options.idleTimeoutMs &&
            keep.length + this.busy.size >= minSize;
          if (expired || (healthDue && !(await this.isValid(entry.handle)))) drop.push(entry.handle);
          else keep.push(entry);
        }
      } finally {
        this.checking -= entries.length;
        this.idle.push(...keep);
      }
      await Promise.all(drop.map((h) => this.destroyInBackground(h)));
      if (drop.length > 0) this.wakeWaiters();
      // Stay lazy: warm up to minSize only once the pool has been used.
      if (this.counters.acquisitions > 0) await this.topUp(minSize);
    } finally {
      this.maintaining = false;
    }
  }

  private async topUp(minSize: number): Promise<void> {
    while (!this.closed && this.size < Math.min(minSize, this.options.maxSize)) {
      let handle: H;
      try {
        handle = await this.create(this.closing.signal);
      } catch {
        // create() counted the failure (or the pool is closing); the next maintenance run tries again.
        return;
      }
      this.busy.delete(handle);
      this.borrowers?.delete(handle);
      await this.giveBack(handle);
    }
  }

  /** Remembers a running operation so `close()` can wait for it. */
  private track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task);
    const forget = () => this.tasks.delete(task);
    task.then(forget, forget);
    return task;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ResourceError('RESOURCE_UNAVAILABLE', this.name, `resource "${this.name}" is closed`);
  }
}
