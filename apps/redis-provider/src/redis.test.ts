import { fileURLToPath } from 'node:url';
import { SimpleFSM } from '@fsm/core';
import { describeHistoryStore, describeResourceProvider } from '@fsm/core/testing';
import { createStorage } from '@fsm/storage';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisFunctions, RedisHistoryStore, redisProvider, redisResourceType } from './index.js';

const run = `fsmtest:${process.pid}:${Date.now().toString(36)}:`;
let n = 0;
const admin = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });

beforeAll(async () => {
  await admin.connect().catch((error: unknown) => {
    throw new Error(
      `Redis is not reachable at 127.0.0.1:6379 (start it: scripts/ensure-services.sh): ${error}`,
    );
  });
});
afterAll(async () => {
  const keys = await admin.keys(`${run}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describeHistoryStore('redis', () => new RedisHistoryStore({ prefix: `${run}suite${++n}:` }));

describeResourceProvider('redis', () => redisProvider(), {
  exercise: async (handle) => {
    expect(await (handle as Redis).ping()).toBe('PONG');
  },
});

describe('fsm-provider-redis', () => {
  it('the example config drops duplicates through a Redis resource and stores histories in Redis', async () => {
    const prefix = `${run}example:`;
    const storage = await createStorage(new RedisHistoryStore({ prefix: `${prefix}h:` }));
    const fsm = await SimpleFSM.create(fileURLToPath(new URL('../examples/dedup.yaml', import.meta.url)), {
      env: { DEDUP_PREFIX: prefix },
      resourceTypes: { redis: redisResourceType },
      builtins: redisFunctions,
      storage,
    });
    const events = [
      { id: 'e1', customer: 'ann' },
      { id: 'e2', customer: 'bob' },
      { id: 'e1', customer: 'ann' },
      { id: 'e3', customer: 'ann' },
    ];
    const batch = await fsm.processBatch(events, { concurrency: 1 });
    expect(batch.results.map((r) => r.finalState)).toEqual(['accepted', 'accepted', 'dropped', 'accepted']);
    expect(batch.results[3]?.data).toMatchObject({ events_for_customer: 2 });
    const stored: string[] = [];
    for await (const s of storage.query({ fsm: 'dedup_events' })) stored.push(s.executionId);
    expect(stored).toHaveLength(4);
    const one = await storage.load(batch.results[2]?.executionId as string);
    expect(one?.finalState).toBe('dropped');
    await fsm.close();
    await storage.close();
  });

  it('TTL retention: histories expire and leave the index', async () => {
    const store = new RedisHistoryStore({ prefix: `${run}ttl:`, ttlSeconds: 1 });
    const { sampleHistory } = await import('@fsm/core/testing');
    await store.save(sampleHistory({ executionId: 'short-lived' }));
    expect(await store.load('short-lived')).toBeDefined();
    await new Promise((r) => setTimeout(r, 1200));
    expect(await store.load('short-lived')).toBeUndefined();
    const left: unknown[] = [];
    for await (const s of store.query()) left.push(s);
    expect(left).toEqual([]);
    await store.close();
  });

  it('bad params of a pack function are a ConfigError naming the path', async () => {
    await expect(
      SimpleFSM.create(
        {
          name: 'x',
          resources: [{ name: 'redis', type: 'redis' }],
          states: [
            {
              name: 'a',
              is_start: true,
              is_end: true,
              resources: ['redis'],
              transforms: [{ type: 'builtin', name: 'redis_dedup', params: {} }],
            },
          ],
        },
        { resourceTypes: { redis: redisResourceType }, builtins: redisFunctions },
      ),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('key_field') });
  });
});
