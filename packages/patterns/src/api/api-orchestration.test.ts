import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOrchestrationPattern } from './api-orchestration.js';
import { RateLimiter } from './rate-limiter.js';

let server: Server;
let baseUrl = '';
const calls: string[] = [];
let active = 0;
let maxActive = 0;
let inventoryDown = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    calls.push(`${req.method} ${url}`);
    active++;
    maxActive = Math.max(maxActive, active);
    const done = (status: number, body: unknown) =>
      setTimeout(() => {
        active--;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, 10);
    const user = /^\/users\/(\d+)$/.exec(url);
    if (user)
      return done(200, {
        data: { id: Number(user[1]), name: `user${user[1]}`, tier: user[1] === '1' ? 'gold' : 'basic' },
      });
    const item = /^\/items\/(\w+)$/.exec(url);
    if (item)
      return inventoryDown
        ? done(503, { error: 'down' })
        : done(200, { sku: item[1], stock: (item[1]?.length ?? 0) * 3 });
    if (url === '/offers/gold') return done(200, { offers: ['lounge'] });
    return done(404, { error: 'no route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const steps = () => [
  { name: 'user', path: '/users/{{userId}}', target: 'user', map: { name: 'data.name', tier: 'data.tier' } },
  {
    name: 'offers',
    when: 'user.tier = "gold"',
    path: '/offers/{{user.tier}}',
    target: 'offers',
    map: { list: 'offers' },
  },
  { name: 'stock', forEach: 'skus', path: '/items/{{item}}', concurrency: 2, target: 'stock' },
];

describe('API orchestration pattern', () => {
  it('sequential, conditional and fan-out calls with mapped responses, fan-out bounded and in order', async () => {
    const { create } = apiOrchestrationPattern({ baseUrl, steps: steps() });
    const fsm = await create();
    calls.length = 0;
    maxActive = 0;
    const gold = await fsm.process({ userId: 1, skus: ['a', 'bb', 'ccc', 'dddd'] });
    expect(gold).toMatchObject({ success: true, path: ['start', 'user', 'offers', 'stock', 'done'] });
    expect(gold.data).toMatchObject({
      user: { name: 'user1', tier: 'gold' },
      offers: { list: ['lounge'] },
      stock: [
        { sku: 'a', stock: 3 },
        { sku: 'bb', stock: 6 },
        { sku: 'ccc', stock: 9 },
        { sku: 'dddd', stock: 12 },
      ],
    });
    expect(maxActive).toBe(2);
    const basic = await fsm.process({ userId: 2, skus: [] });
    expect(basic.path).toEqual(['start', 'user', 'stock', 'done']);
    expect(calls.filter((c) => c.includes('/offers/'))).toHaveLength(1);
    await fsm.close();
  });

  it('a failing endpoint opens its own circuit; the record fails with CIRCUIT_OPEN and the wait time', async () => {
    const { create, circuits } = apiOrchestrationPattern({
      baseUrl,
      steps: steps(),
      circuitBreaker: { threshold: 2, resetMs: 60_000 },
    });
    const fsm = await create();
    inventoryDown = true;
    const first = await fsm.process({ userId: 3, skus: ['x'] });
    expect(first.error).toMatchObject({ code: 'RESOURCE_UNAVAILABLE' });
    await fsm.process({ userId: 3, skus: ['x'] });
    const third = await fsm.process({ userId: 3, skus: ['x'] });
    expect(third.error).toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(third.error?.message).toMatch(/retry in \d+ ms/);
    expect(circuits.get('stock')?.circuit).toBe('open');
    expect(circuits.get('user')?.circuit).toBe('closed');
    inventoryDown = false;
    await fsm.close();
  });

  it('the rate limiter spaces calls to the configured rate', async () => {
    const limiter = new RateLimiter(20, 1);
    const started = Date.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    // 1 immediate + 4 more at 20/s ≈ 200 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});
