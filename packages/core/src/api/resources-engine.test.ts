import { describe, expect, it } from 'vitest';
import type { ResourceProvider } from '../interfaces/resource.js';
import { SimpleFSM } from './simple-fsm.js';

/** A provider that counts handles, so a test can see leaks. */
function countingProvider(name: string, options: { failDestroy?: boolean } = {}) {
  const live = new Set<number>();
  let next = 0;
  const provider: ResourceProvider<{ id: number; name: string }> & { live: Set<number>; created: number } = {
    specificationVersion: 'v1',
    type: 'custom',
    name,
    live,
    created: 0,
    async create(signal?: AbortSignal) {
      signal?.throwIfAborted();
      const id = ++next;
      live.add(id);
      provider.created++;
      return { id, name };
    },
    async destroy(handle) {
      live.delete(handle.id);
      if (options.failDestroy) throw new Error(`destroy of ${name} failed`);
    },
    async close() {
      return undefined;
    },
  };
  return provider;
}

const config = {
  name: 'res',
  resources: [
    { name: 'db', type: 'custom' },
    { name: 'api', type: 'custom' },
  ],
  states: [
    {
      name: 'load',
      is_start: true,
      resources: ['db'],
      transforms: ['useDb'],
      arcs: [{ target: 'call', resources: { client: 'api' }, transform: 'useApi' }],
    },
    { name: 'call', transforms: ['maybeHang'], resources: ['db'], arcs: [{ target: 'done' }] },
    { name: 'done', is_end: true },
  ],
};

describe('resources in the engine', () => {
  it('state resources are held while in the state; arc resources by role for the arc', async () => {
    const db = countingProvider('db');
    const api = countingProvider('api');
    const seen: string[] = [];
    const fsm = await SimpleFSM.create(config, {
      resources: { db, api },
      history: true,
      functions: {
        useDb: (d: object, ctx) => {
          seen.push(`db#${ctx.resources.get<{ id: number }>('db').id} live=${db.live.size}`);
          return d;
        },
        useApi: (d: object, ctx) => {
          seen.push(`client=${ctx.resources.get<{ name: string }>('client').name}`);
          return d;
        },
        maybeHang: (d: object) => d,
      },
    });
    const r = await fsm.process({});
    expect(r.success).toBe(true);
    expect(seen).toEqual(['db#1 live=1', 'client=api']);
    expect(db.live.size).toBe(0);
    expect(api.live.size).toBe(0);
    expect(fsm.resources?.held().size).toBe(0);
    expect(r.history?.steps.map((s) => s.resources)).toEqual([['db', 'api'], ['db'], undefined]);
    await fsm.close();
  });

  it('a function asking for an undeclared resource fails with RESOURCE_UNAVAILABLE naming it', async () => {
    const fsm = await SimpleFSM.create(config, {
      resources: { db: countingProvider('db'), api: countingProvider('api') },
      functions: {
        useDb: (_d: unknown, ctx) => ctx.resources.get('cache'),
        useApi: (d: unknown) => d,
        maybeHang: (d: unknown) => d,
      },
    });
    const r = await fsm.process({});
    expect(r.error?.code).toBe('RESOURCE_UNAVAILABLE');
    expect(r.error?.message).toContain('"cache"');
    await fsm.close();
  });

  it('every acquisition is released on failure, timeout and abort (0 leaks)', async () => {
    const db = countingProvider('db');
    const api = countingProvider('api');
    let mode: 'fail' | 'hang' = 'fail';
    const fsm = await SimpleFSM.create(config, {
      resources: { db, api },
      functions: {
        useDb: (d: unknown) => d,
        useApi: (d: unknown) => d,
        maybeHang: (_d: unknown, ctx) => {
          if (mode === 'fail') throw new Error('boom');
          return new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
          );
        },
      },
    });
    expect((await fsm.process({})).error?.code).toBe('FUNCTION_FAILED');
    mode = 'hang';
    expect((await fsm.process({}, { timeoutMs: 20 })).error?.code).toBe('TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    expect((await fsm.process({}, { signal: controller.signal })).error?.code).toBe('ABORTED');
    expect(db.live.size).toBe(0);
    expect(api.live.size).toBe(0);
    expect(fsm.resources?.held().size).toBe(0);
    await fsm.close();
  });

  it('a config resource type without a provider is a ConfigError naming the path', async () => {
    const functions = { useDb: (d: unknown) => d, useApi: (d: unknown) => d, maybeHang: (d: unknown) => d };
    await expect(SimpleFSM.create(config, { functions })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      path: 'resources[0].type',
    });
  });

  it('resourceTypes factories build providers from the config entries', async () => {
    const built: string[] = [];
    const fsm = await SimpleFSM.create(config, {
      resourceTypes: {
        custom: (entry) => {
          built.push(`${entry.name}:${entry.connection_pool_size}`);
          return countingProvider(entry.name);
        },
      },
      functions: { useDb: (d: unknown) => d, useApi: (d: unknown) => d, maybeHang: (d: unknown) => d },
    });
    expect(built).toEqual(['db:10', 'api:10']);
    expect((await fsm.process({})).success).toBe(true);
    await fsm.close();
  });

  it('close() reports a failing provider close after closing the others', async () => {
    const db = countingProvider('db');
    const api = {
      ...countingProvider('api'),
      close: async () => Promise.reject(new Error('api close failed')),
    };
    const functions = { useDb: (d: unknown) => d, useApi: (d: unknown) => d, maybeHang: (d: unknown) => d };
    const fsm = await SimpleFSM.create(config, { resources: { db, api }, functions });
    await expect(fsm.close()).rejects.toThrow(/api close failed/);
    expect(db.live.size).toBe(0);
  });
});

describe('resources and batches', () => {
  it('aborting a batch midway releases every resource', async () => {
    const db = countingProvider('db');
    const api = countingProvider('api');
    const controller = new AbortController();
    let started = 0;
    const fsm = await SimpleFSM.create(config, {
      resources: { db, api },
      functions: {
        useDb: (d: unknown) => d,
        useApi: (d: unknown) => d,
        maybeHang: (_d: unknown, _ctx) => {
          if (++started === 5) controller.abort(new Error('operator stop'));
          return new Promise((resolve) => setTimeout(resolve, 5));
        },
      },
    });
    const batch = await fsm.processBatch(
      Array.from({ length: 40 }, (_, i) => ({ i })),
      { concurrency: 4, signal: controller.signal },
    );
    expect(batch.results.filter((r) => r.error?.code === 'ABORTED').length).toBeGreaterThan(0);
    expect(db.live.size).toBe(0);
    expect(api.live.size).toBe(0);
    expect(fsm.resources?.held().size).toBe(0);
    await fsm.close();
  });
});
