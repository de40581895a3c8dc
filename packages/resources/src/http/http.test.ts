import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeResourceProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClient } from './http-client.js';
import { httpProvider } from './http-provider.js';

let server: Server;
let baseUrl = '';
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').replace(/^\/api/, '');
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path.startsWith('/flaky') && n < 3) {
      res.writeHead(n === 1 ? 503 : 429, n === 2 ? { 'retry-after': '0' } : {}).end('busy');
      return;
    }
    if (path.startsWith('/missing')) return void res.writeHead(404).end('no such thing');
    if (path.startsWith('/slow')) return void setTimeout(() => res.end('late'), 2000);
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ path, method: req.method, body, auth: req.headers.authorization }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise((r) => server.close(r)));

describeResourceProvider('http', () => httpProvider({ baseUrl }), {
  exercise: async (handle) => {
    expect((await (handle as HttpClient).get('/ping')).status).toBe(200);
  },
});

describe('HttpClient', () => {
  it('joins the base URL, sends JSON and default headers', async () => {
    const client = await httpProvider({ baseUrl, headers: { authorization: 'Bearer t' } }).create();
    const r = await client.post<{ path: string; body: string; auth: string }>(
      '/orders',
      { a: 1 },
      { query: { page: 2 } },
    );
    expect(r.body).toEqual({ path: '/orders?page=2', method: 'POST', body: '{"a":1}', auth: 'Bearer t' });
  });

  it('retries 503 and 429 (honouring Retry-After), then succeeds', async () => {
    const client = await httpProvider({ baseUrl, retryDelayMs: 5 }).create();
    const r = await client.get('/flaky');
    expect(r.attempts).toBe(3);
  });

  it('fails at once on 404 with the status, and times out a slow server', async () => {
    const client = await httpProvider({ name: 'api', baseUrl, timeoutMs: 100, retries: 0 }).create();
    await expect(client.get('/missing')).rejects.toMatchObject({
      code: 'RESOURCE_UNAVAILABLE',
      resource: 'api',
      status: 404,
    });
    expect(hits.get('/missing')).toBe(1);
    const started = Date.now();
    await expect(client.get('/slow')).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
