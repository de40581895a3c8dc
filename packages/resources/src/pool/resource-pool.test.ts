import type { ResourceProvider } from '@fsm/core';
import { describe, expect, it } from 'vitest';
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
    const pool = new ResourcePool('db', provider, base);
    const first = await pool.acquire();
    await pool.release(first);
    invalid.add(first);
    const second = await pool.acquire();
    expect(second).not.toBe(first);
    expect(provider.live.has(first)).toBe(false);
    expect(pool.metrics()).toMatchObject({ created: 2, destroyed: 1, failures: 0 });
    await pool.close();
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
    await new Promise((r) => setTimeout(r, 120));
    expect(pool.metrics().idle).toBe(1);
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
});
