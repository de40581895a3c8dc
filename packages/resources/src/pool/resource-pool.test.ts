import type { ResourceProvider } from '@fsm/core';
import { describe, expect, it, vi } from 'vitest';
import { ResourcePool } from './resource-pool.js';

function counting(options: { failCreates?: number; invalid?: Set<number>; failDestroy?: boolean } = {}) {
  let next = 0;
  let creates = 0;
  const live = new Set<number>();
  const provider: ResourceProvider<number> & { live: Set<number> } = {
    specificationVersion: 'v1',
    type: 'test',
    name: 'counter',
    live,
    async create(signal) {
      signal?.throwIfAborted();
      if (creates++ < (options.failCreates ?? 0)) throw new Error('server not ready');
      const id = ++next;
      live.add(id);
      return id;
    },
    async validate(id) {
      return !options.invalid?.has(id);
    },
    async destroy(id) {
      live.delete(id);
      if (options.failDestroy) throw new Error(`destroy ${id} failed`);
    },
    async close() {
      // Nothing shared in this test provider.
    },
  };
  return provider;
}

const base = { maxSize: 2, acquireTimeoutMs: 1000, retryAttempts: 0, retryDelayMs: 0 };

describe('ResourcePool', () => {
  it('reuses released handles and never exceeds maxSize; waiters are served in order', async () => {
    const provider = counting();
    const pool = new ResourcePool('db', provider, base);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: number[] = [];
    const third = pool.acquire().then((h) => order.push(3) && h);
    const fourth = pool.acquire().then((h) => order.push(4) && h);
    expect(pool.metrics()).toMatchObject({ inUse: 2, waiting: 2, created: 2 });
    await pool.release(a);
    await pool.release(b);
    expect([await third, await fourth].sort()).toEqual([1, 2]);
    expect(order).toEqual([3, 4]);
    expect(pool.metrics()).toMatchObject({ created: 2, acquisitions: 4, releases: 2, waiting: 0 });
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('times out with RESOURCE_TIMEOUT and records the timeout in the metrics', async () => {
    const pool = new ResourcePool('db', counting(), { ...base, maxSize: 1, acquireTimeoutMs: 30 });
    await pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'RESOURCE_TIMEOUT', resource: 'db' });
    const m = pool.metrics();
    expect(m.timeouts).toBe(1);
    expect(m.lastTimeoutAt).toBeGreaterThan(Date.now() - 5000);
    expect(m.waiting).toBe(0);
    await pool.close();
  });

  it('an aborted waiter leaves the queue', async () => {
    const pool = new ResourcePool('db', counting(), { ...base, maxSize: 1 });
    await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(pool.metrics().waiting).toBe(0);
    await pool.close();
  });

  it('validates on borrow: a broken idle handle is destroyed and replaced', async () => {
    const invalid = new Set<number>();
    const provider = counting({ invalid });
    const pool = new ResourcePool('db', provider, { ...base, validateAfterIdleMs: 0 });
    const first = await pool.acquire();
    await pool.release(first);
    invalid.add(first);
    const second = await pool.acquire();
    expect(second).not.toBe(first);
    expect(provider.live.has(first)).toBe(false);
    expect(pool.metrics()).toMatchObject({ created: 2, destroyed: 1, failures: 0 });
    await pool.close();
  });

  it('lends a handle back within validateAfterIdleMs without validating it; later it validates again', async () => {
    const invalid = new Set<number>();
    const provider = counting({ invalid });
    const validate = vi.spyOn(provider, 'validate');
    const pool = new ResourcePool('db', provider, { ...base, validateAfterIdleMs: 60_000 });
    const first = await pool.acquire();
    await pool.release(first);
    expect(await pool.acquire()).toBe(first);
    expect(validate).not.toHaveBeenCalled();
    await pool.release(first);
    await pool.close();
    const strict = new ResourcePool('db', provider, { ...base, validateAfterIdleMs: 0 });
    const h = await strict.acquire();
    await strict.release(h);
    await strict.acquire();
    expect(validate).toHaveBeenCalledTimes(1);
    await strict.close();
  });

  it('a shared provider lends one handle to many borrowers; the last release returns it', async () => {
    const provider = { ...counting(), shared: true };
    const pool = new ResourcePool('db', provider, { ...base, maxSize: 1, acquireTimeoutMs: 50 });
    const handles = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(handles).toEqual([1, 1, 1]);
    expect(pool.metrics()).toMatchObject({ inUse: 1, idle: 0, waiting: 0, created: 1, acquisitions: 3 });
    await pool.release(1);
    await pool.release(1);
    expect(pool.metrics()).toMatchObject({ inUse: 1, idle: 0 });
    await pool.release(1);
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1 });
    // Released once too often: ignored, as for any handle the pool does not lend out.
    await pool.release(1);
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1, releases: 3 });
    expect(await pool.acquire()).toBe(1);
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('a shared handle reported broken is destroyed when its last borrower returns it', async () => {
    const provider = { ...counting(), shared: true };
    const pool = new ResourcePool('db', provider, { ...base, maxSize: 2 });
    const a = await pool.acquire();
    expect(await pool.acquire()).toBe(a);
    await pool.release(a, true);
    expect(provider.live.has(a)).toBe(true);
    // A broken handle is lent to nobody new.
    const b = await pool.acquire();
    expect(b).not.toBe(a);
    await pool.release(a);
    expect(provider.live.has(a)).toBe(false);
    await pool.release(b);
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('retries creation with a delay, then fails with RESOURCE_UNAVAILABLE naming the cause', async () => {
    const flaky = new ResourcePool('db', counting({ failCreates: 2 }), {
      ...base,
      retryAttempts: 2,
      retryDelayMs: 5,
    });
    expect(await flaky.acquire()).toBe(1);
    expect(flaky.metrics().failures).toBe(2);
    await flaky.close();
    const down = new ResourcePool('db', counting({ failCreates: 99 }), {
      ...base,
      retryAttempts: 1,
      retryDelayMs: 1,
    });
    await expect(down.acquire()).rejects.toMatchObject({
      code: 'RESOURCE_UNAVAILABLE',
      message: expect.stringContaining('server not ready'),
    });
    await down.close();
  });

  it('evicts idle handles after idleTimeoutMs, keeping minSize', async () => {
    const provider = counting();
    const pool = new ResourcePool('db', provider, { ...base, maxSize: 3, minSize: 1, idleTimeoutMs: 20 });
    const handles = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const h of handles) await pool.release(h);
    await vi.waitFor(() => expect(pool.metrics().idle).toBe(1), { timeout: 2000, interval: 10 });
    expect(provider.live.size).toBe(1);
    await pool.close();
  });

  it('close destroys everything and reports every failure in one AggregateError', async () => {
    const provider = counting({ failDestroy: true });
    const pool = new ResourcePool('db', provider, base);
    const a = await pool.acquire();
    await pool.acquire();
    await pool.release(a);
    const error = await pool.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toHaveLength(2);
    expect(provider.live.size).toBe(0);
  });

  it('a waiter that gives up while its replacement handle is being made leaks nothing', async () => {
    // This provider finishes a creation even after its signal aborted: the pool must keep that handle.
    const provider = gated({ ignoreAbort: true });
    const pool = new ResourcePool('db', provider, { ...base, maxSize: 1 });
    provider.open();
    const a = await pool.acquire();
    provider.shut();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    await pool.release(a, true);
    await vi.waitFor(() => expect(provider.started).toBe(2));
    controller.abort(new Error('caller gone'));
    provider.open();
    await expect(waiting).rejects.toThrow('caller gone');
    await vi.waitFor(() => expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1, waiting: 0 }));
    expect(await pool.acquire()).toBe(2);
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('a broken handle whose destroy fails still frees its place for the next waiter', async () => {
    const pool = new ResourcePool('db', counting({ failDestroy: true }), { ...base, maxSize: 1 });
    const a = await pool.acquire();
    const waiting = pool.acquire();
    await expect(pool.release(a, true)).rejects.toMatchObject({ code: 'RESOURCE_RELEASE_FAILED' });
    expect(await waiting).toBe(2);
    expect(pool.metrics()).toMatchObject({ failures: 1, lastFailure: 'destroy 1 failed' });
    await expect(pool.close()).rejects.toBeInstanceOf(AggregateError);
  });

  it('the acquire deadline covers a creation that hangs', async () => {
    const provider = gated();
    const pool = new ResourcePool('api', provider, { ...base, acquireTimeoutMs: 30 });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'RESOURCE_TIMEOUT', resource: 'api' });
    expect(pool.metrics()).toMatchObject({ timeouts: 1, inUse: 0 });
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('close stops acquires in flight, waits for them, and leaves nothing behind', async () => {
    const provider = gated();
    const pool = new ResourcePool('db', provider, { ...base, acquireTimeoutMs: 60_000 });
    const pending = pool.acquire();
    await vi.waitFor(() => expect(provider.started).toBe(1));
    await pool.close();
    await expect(pending).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE', message: /closing/ });
    expect(provider.live.size).toBe(0);
    expect(provider.closed).toBe(true);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE' });
  });

  it('health checks destroy idle handles that fail validation, and keep minSize warm', async () => {
    const invalid = new Set<number>();
    const provider = counting({ invalid });
    const pool = new ResourcePool('db', provider, { ...base, minSize: 2, healthCheckIntervalMs: 10 });
    await pool.release(await pool.acquire());
    await vi.waitFor(() => expect(pool.metrics().idle).toBe(2), { timeout: 2000, interval: 10 });
    invalid.add(1);
    await vi.waitFor(() => expect(provider.live.has(1)).toBe(false), { timeout: 2000, interval: 10 });
    await vi.waitFor(() => expect(pool.metrics().idle).toBe(2), { timeout: 2000, interval: 10 });
    expect(pool.metrics().created).toBe(3);
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('50 callers on a pool of 2 sharing one signal: all served in arrival order, nothing left over', async () => {
    const provider = counting();
    const pool = new ResourcePool('db', provider, base);
    const shared = new AbortController();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const handle = await pool.acquire(shared.signal);
        order.push(i);
        await new Promise((r) => setImmediate(r));
        await pool.release(handle);
      }),
    );
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(pool.metrics()).toMatchObject({ created: 2, acquisitions: 50, inUse: 0, waiting: 0 });
    await pool.close();
    expect(provider.live.size).toBe(0);
  });

  it('hasCapacity says whether acquire would wait', async () => {
    const pool = new ResourcePool('db', counting(), { ...base, maxSize: 1 });
    expect(pool.hasCapacity()).toBe(true);
    const a = await pool.acquire();
    expect(pool.hasCapacity()).toBe(false);
    await pool.release(a);
    expect(pool.hasCapacity()).toBe(true);
    await pool.close();
    expect(pool.hasCapacity()).toBe(false);
  });
});

/** A provider whose `create` waits until the test opens the gate (or its signal aborts, unless ignored). */
function gated(options: { ignoreAbort?: boolean } = {}) {
  let next = 0;
  let gate = Promise.withResolvers<void>();
  const provider = {
    specificationVersion: 'v1' as const,
    type: 'test',
    name: 'gated',
    live: new Set<number>(),
    started: 0,
    closed: false,
    open: () => gate.resolve(),
    shut: () => {
      gate = Promise.withResolvers<void>();
    },
    async create(signal?: AbortSignal) {
      provider.started++;
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        if (!options.ignoreAbort)
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        gate.promise.then(resolve, reject);
      });
      const id = ++next;
      provider.live.add(id);
      return id;
    },
    async destroy(id: number) {
      provider.live.delete(id);
    },
    async close() {
      provider.closed = true;
    },
  } satisfies ResourceProvider<number> & Record<string, unknown>;
  return provider;
}
