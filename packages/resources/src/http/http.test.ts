import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeResourceProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpClient } from './http-client.js';
import { httpProvider } from './http-provider.js';

let server: Server;
let baseUrl = '';
const hits = new Map<string, number>();
/** Requests whose connection the client dropped before the answer: proof that a timeout or abort stopped the work. */
const dropped = new Set<string>();

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
    if (path.startsWith('/slow')) {
      const timer = setTimeout(() => res.end('late'), 5000);
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) dropped.add(path);
      });
      return;
    }
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
  validHandle: (handle) => handle instanceof HttpClient,
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
    await expect(client.get('/slow')).rejects.toMatchObject({
      code: 'RESOURCE_UNAVAILABLE',
      message: expect.stringContaining('/api/slow'),
    });
    await vi.waitFor(() => expect(dropped.has('/slow')).toBe(true));
  });

  it("the caller's signal aborts the request in flight, without retries", async () => {
    const client = await httpProvider({ baseUrl, retries: 3 }).create();
    const controller = new AbortController();
    const pending = client.get('/slow-abort', { signal: controller.signal });
    await vi.waitFor(() => expect(hits.get('/slow-abort')).toBe(1));
    controller.abort(new Error('operator stop'));
    await expect(pending).rejects.toThrow('operator stop');
    await vi.waitFor(() => expect(dropped.has('/slow-abort')).toBe(true));
    expect(hits.get('/slow-abort')).toBe(1);
  });

  it('retries give up after the configured attempts with the last status', async () => {
    const client = await httpProvider({ name: 'api', baseUrl, retries: 1, retryDelayMs: 1 }).create();
    await expect(client.get('/flaky-twice')).rejects.toMatchObject({ resource: 'api', status: 429 });
    expect(hits.get('/flaky-twice')).toBe(2);
  });
});
