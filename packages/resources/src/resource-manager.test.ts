import { SimpleFSM, type ResourceProvider } from '@fsm/core';
import { describe, expect, it } from 'vitest';
import { ResourceManager } from './resource-manager.js';

function tracked(name: string, options: { failClose?: boolean; failDestroy?: boolean } = {}) {
  const live = new Set<object>();
  const provider: ResourceProvider<object> & { live: Set<object> } = {
    specificationVersion: 'v1',
    type: 'test',
    name,
    live,
    async create() {
      const handle = { name };
      live.add(handle);
      return handle;
    },
    async destroy(handle) {
      live.delete(handle);
      if (options.failDestroy) throw new Error(`destroy of ${name} failed`);
    },
    async close() {
      if (options.failClose) throw new Error(`close of ${name} failed`);
    },
  };
  return provider;
}

const config = {
  name: 'pooled',
  resources: [{ name: 'db', type: 'custom', connection_pool_size: 3 }],
  states: [
    { name: 'load', is_start: true, resources: ['db'], transforms: ['use'], arcs: [{ target: 'done' }] },
    { name: 'done', is_end: true },
  ],
};

describe('ResourceManager with the engine', () => {
  it('1000 records at concurrency 8 through a pool of 3: no leaks, bounded creation, metrics add up', async () => {
    const db = tracked('db');
    const manager = new ResourceManager();
    let maxHeld = 0;
    const fsm = await SimpleFSM.create(config, {
      resources: { db },
      resourceManager: manager,
      functions: {
        use: async (d: object, ctx) => {
          ctx.resources.get('db');
          maxHeld = Math.max(maxHeld, manager.metrics().db?.inUse ?? 0);
          await new Promise((r) => setImmediate(r));
          return d;
        },
      },
    });
    const batch = await fsm.processBatch(
      Array.from({ length: 1000 }, (_, i) => ({ i })),
      { concurrency: 8 },
    );
    expect(batch.succeeded).toBe(1000);
    const m = manager.metrics().db;
    expect(m).toMatchObject({ inUse: 0, acquisitions: 1000, releases: 1000 });
    expect(m?.created).toBeLessThanOrEqual(3);
    expect(maxHeld).toBeLessThanOrEqual(3);
    expect(manager.held().size).toBe(0);
    const gauges = manager.gauges();
    expect(gauges).toContainEqual({
      name: 'fsm.resource.pool.acquisitions',
      value: 1000,
      attributes: { resource: 'db' },
    });
    expect(gauges.map((g) => g.name)).toContain('fsm.resource.pool.avg_acquire_ms');
    await fsm.close();
    expect(db.live.size).toBe(0);
  });

  it('releaseAll returns only what the owner held; close destroys handles still out', async () => {
    const db = tracked('db');
    const manager = new ResourceManager({ maxSize: 5 });
    manager.register('db', db);
    await manager.acquire('db', 'exec-1/main/a');
    await manager.acquire('db', 'exec-2/main/a');
    await manager.releaseAll('exec-1/main/a');
    expect([...manager.held().keys()]).toEqual(['exec-2/main/a']);
    expect(manager.metrics().db).toMatchObject({ inUse: 1, idle: 1 });
    await manager.close();
    expect(db.live.size).toBe(0);
    await expect(manager.acquire('db', 'x')).rejects.toMatchObject({ code: 'MISUSE' });
  });

  it('owners named like Object.prototype members are owners like any other', async () => {
    const db = tracked('db');
    const manager = new ResourceManager({ maxSize: 5 });
    manager.register('db', db);
    for (const owner of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      await manager.acquire('db', owner);
    }
    expect([...manager.held().keys()].sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
    ]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    await manager.releaseAll('constructor');
    await manager.releaseAll('__proto__');
    await manager.releaseAll('valueOf');
    expect([...manager.held().keys()].sort()).toEqual(['hasOwnProperty', 'toString']);
    expect(manager.metrics().db).toMatchObject({ inUse: 2 });
    await manager.close();
    expect(manager.held().size).toBe(0);
    expect(db.live.size).toBe(0);
  });

  it('an unknown resource is RESOURCE_UNAVAILABLE naming it; registering twice is misuse', async () => {
    const manager = new ResourceManager();
    await expect(manager.acquire('nope', 'o')).rejects.toMatchObject({
      code: 'RESOURCE_UNAVAILABLE',
      resource: 'nope',
    });
    manager.register('db', tracked('db'));
    expect(() => manager.register('db', tracked('db'))).toThrow(/already registered/);
    await manager.close();
  });

  it('close closes every pool even when some fail, then throws one AggregateError listing each failure', async () => {
    const db = tracked('db', { failDestroy: true });
    const api = tracked('api', { failClose: true });
    const files = tracked('files');
    const manager = new ResourceManager();
    manager.register('db', db);
    manager.register('api', api);
    manager.register('files', files);
    await manager.acquire('db', 'exec-1/main/load');
    await manager.acquire('files', 'exec-1/main/load');
    const error = await manager.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    const messages = (error as AggregateError).errors.map((e: Error) => e.message);
    expect(messages).toEqual([
      expect.stringContaining('destroy of db failed'),
      expect.stringContaining('close of api failed'),
    ]);
    expect((error as Error).message).toMatch(/2 failure\(s\)/);
    expect(db.live.size + api.live.size + files.live.size).toBe(0);
    expect(manager.held().size).toBe(0);
  });

  it('isAvailable reflects free capacity; a full pool times out with RESOURCE_TIMEOUT and counts it', async () => {
    const manager = new ResourceManager();
    manager.register('db', tracked('db'), { maxSize: 1, acquireTimeoutMs: 20 });
    expect(manager.isAvailable('db')).toBe(true);
    expect(manager.isAvailable('nope')).toBe(false);
    await manager.acquire('db', 'a');
    expect(manager.isAvailable('db')).toBe(false);
    await expect(manager.acquire('db', 'b')).rejects.toMatchObject({
      code: 'RESOURCE_TIMEOUT',
      resource: 'db',
    });
    expect(manager.held()).toEqual(new Map([['a', ['db']]]));
    expect(manager.gauges()).toContainEqual({
      name: 'fsm.resource.pool.timeouts',
      value: 1,
      attributes: { resource: 'db' },
    });
    await manager.releaseAll('a');
    expect(manager.isAvailable('db')).toBe(true);
    await manager.close();
  });
});
