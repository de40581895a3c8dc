import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWithRetries } from './fetch-with-retries.js';

let server: Server;
let base = '';
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/busy-twice' && n <= 2) return void res.writeHead(503, { 'retry-after': '0' }).end();
    if (path === '/missing') return void res.writeHead(404).end();
    if (path === '/slow-once' && n === 1) return; // never answers: the attempt times out
    if (path === '/hang') return;
    res.writeHead(200).end(`ok ${n}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('fetchWithRetries', () => {
  it('retries retryable statuses honouring Retry-After, and counts attempts', async () => {
    const { response, attempts } = await fetchWithRetries(
      `${base}/busy-twice`,
      {},
      { retries: 3, baseDelayMs: 1 },
    );
    expect(await response.text()).toBe('ok 3');
    expect(attempts).toBe(3);
  });

  it('returns a status not worth retrying at once, and the last failure when retries are spent', async () => {
    const missing = await fetchWithRetries(`${base}/missing`, {}, { retries: 3, baseDelayMs: 1 });
    expect([missing.response.status, missing.attempts]).toEqual([404, 1]);
    hits.delete('/busy-twice');
    const spent = await fetchWithRetries(`${base}/busy-twice`, {}, { retries: 1, baseDelayMs: 1 });
    expect([spent.response.status, spent.attempts]).toEqual([503, 2]);
  });

  it('an attempt that times out is retried; the caller aborting is not', async () => {
    const slow = await fetchWithRetries(
      `${base}/slow-once`,
      {},
      { retries: 1, baseDelayMs: 1, attemptTimeoutMs: 100 },
    );
    expect(await slow.response.text()).toBe('ok 2');
    const controller = new AbortController();
    const hanging = fetchWithRetries(
      `${base}/hang`,
      {},
      { retries: 5, baseDelayMs: 1, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('caller stop')), 50);
    await expect(hanging).rejects.toThrow('caller stop');
    expect(hits.get('/hang')).toBe(1);
  });
});
