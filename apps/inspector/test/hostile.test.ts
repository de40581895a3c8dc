import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Inspector, startInspector } from '../src/server.js';

// The inspector's API as a hostile page in the same browser would call it: another site (DNS rebinding,
// cross-site requests), endless live streams, malformed ids and filters. No browser: raw HTTP requests.
const config = fileURLToPath(new URL('./fixtures/nested.yaml', import.meta.url));
const webRoot = fileURLToPath(new URL('../dist/web', import.meta.url));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request; a stream (`text/event-stream`) answers as soon as its headers arrive and stays open. */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers, agent: false }, (res) => {
      if (res.headers['content-type'] === 'text/event-stream') {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let inspector: Inspector;

beforeAll(async () => {
  inspector = await startInspector({
    config,
    storage: 'memory:',
    webRoot,
    liveIntervalMs: 60_000,
    maxLiveClients: 2,
  });
});
afterAll(() => inspector.close());

describe('inspector against hostile requests', () => {
  it('answers only requests addressed to the loopback name it listens on (no DNS rebinding)', async () => {
    const port = new URL(inspector.url).port;
    expect((await get(inspector.url, '/api/graph')).status).toBe(200);
    expect((await get(inspector.url, '/api/graph', { host: `localhost:${port}` })).status).toBe(200);
    const rebound = await get(inspector.url, '/api/graph', { host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('nested_orders');
  });

  it('refuses API requests another site makes (Origin or Sec-Fetch-Site says so)', async () => {
    const cross = await get(inspector.url, '/api/executions', { origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    const fetched = await get(inspector.url, '/api/flow', { 'sec-fetch-site': 'cross-site' });
    expect(fetched.status).toBe(403);
    // A sandboxed frame (or a file: page) sends `Origin: null`.
    expect((await get(inspector.url, '/api/graph', { origin: 'null' })).status).toBe(403);
    // A link from another site still opens the page (it reads nothing across origins).
    const linked = await get(inspector.url, '/', {
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
    });
    expect(linked.status).toBe(200);
    // The inspector's own page: same origin.
    const own = await get(inspector.url, '/api/flow', {
      origin: inspector.url,
      'sec-fetch-site': 'same-origin',
    });
    expect(own.status).toBe(200);
  });

  it('caps the live streams: one more than the cap is 503, not another timer and query', async () => {
    const first = await get(inspector.url, '/api/live?batch=a');
    const second = await get(inspector.url, '/api/live?batch=b');
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await get(inspector.url, '/api/live?batch=c');
    expect(third.status).toBe(503);
  });

  it('a malformed execution id or an out-of-range time is the caller mistake (400), not a 500', async () => {
    const id = await get(inspector.url, '/api/executions/%E0%A4%A');
    expect(id.status).toBe(400);
    const since = await get(inspector.url, '/api/executions?since=99999999999999999999999');
    expect(since.status).toBe(400);
  });

  it('static files stay in the web root; a folder is 404; JSON is never sniffed as HTML', async () => {
    for (const path of ['/../package.json', '/..%2Fpackage.json', '/%2e%2e/%2e%2e/package.json']) {
      const reply = await get(inspector.url, path);
      expect(reply.body, path).not.toContain('"name": "@fsm/inspector"');
    }
    expect((await get(inspector.url, '/')).status).toBe(200);
    const folder = await get(inspector.url, '/assets');
    expect([404, 400]).toContain(folder.status);
    const missing = await get(inspector.url, '/api/executions/%3Cscript%3E');
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
  });
});
