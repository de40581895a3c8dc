import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlmServer } from '@fsm/llm/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { enrichCart } from './api-orchestration.js';
import { quotes } from './error-recovery.js';
import { salesEtl } from './etl.js';
import { regionTotals } from './file-processing.js';
import { askDocs } from './rag.js';

// Every example under examples/patterns runs here, end to end, on real parts.
const dir = mkdtempSync(join(tmpdir(), 'fsm-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pattern examples', () => {
  it('etl.ts', async () => {
    const input = join(dir, 'sales.csv');
    writeFileSync(input, 'sale_id,amount,country\n1,10,de\n2,-1,fr\n3,5,fr\n');
    const metrics = await salesEtl(input, join(dir, 'dw.db'), join(dir, 'offsets.json'));
    expect(metrics).toMatchObject({ extracted: 3, loaded: 2, rejected: 1 });
    const db = new Database(join(dir, 'dw.db'), { readonly: true });
    expect(db.prepare('select id, country, gross from sales order by id').all()).toEqual([
      { id: 1, country: 'DE', gross: 11.9 },
      { id: 3, country: 'FR', gross: 5.95 },
    ]);
    db.close();
  });

  it('file-processing.ts', async () => {
    const input = join(dir, 'orders.csv');
    writeFileSync(input, 'region,amount\neu,10\nus,5\neu,30\nus,0\n');
    await regionTotals(input, join(dir, 'totals.csv'));
    expect(readFileSync(join(dir, 'totals.csv'), 'utf8')).toBe(
      'region,orders,total,average\nEU,2,40,20\nUS,1,5,5\n',
    );
  });

  it('api-orchestration.ts', async () => {
    const server = createServer((req, res) => {
      const body = req.url?.startsWith('/users/')
        ? { tier: 'gold' }
        : req.url === '/offers'
          ? ['lounge']
          : { sku: req.url?.split('/').pop(), stock: 3 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await enrichCart(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        userId: 7,
        skus: ['a', 'b'],
      });
      expect(r.data).toMatchObject({
        user: { tier: 'gold' },
        offers: ['lounge'],
        stock: [{ sku: 'a' }, { sku: 'b' }],
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('error-recovery.ts', async () => {
    const attempts = new Map<string, number>();
    const { results, metrics } = await quotes(
      async (sku) => {
        attempts.set(sku, (attempts.get(sku) ?? 0) + 1);
        if (sku === 'broken') throw new Error('quote service error');
        // Each healthy sku fails once, then answers: the retry hides it.
        if (attempts.get(sku) === 1) throw new Error('flaky');
        return 42;
      },
      ['a', 'broken'],
    );
    expect(results.map((r) => r.finalState)).toEqual(['done', 'degraded']);
    expect(metrics).toMatchObject({ fallbacks: 1 });
    expect(metrics.retries).toBeGreaterThanOrEqual(1);
  });

  it('rag.ts', async () => {
    const server = await startFakeLlmServer({
      embed: (text) => ['lima', 'oslo'].map((w) => (text.toLowerCase().includes(w) ? 1 : 0.01)),
      reply: (prompt) => ({ text: prompt.includes('[1] Lima') ? 'Lima is near the Andes.' : 'Unknown.' }),
    });
    try {
      const r = await askDocs(
        { provider: 'openai', model: 'm', base_url: `${server.url}/v1` },
        [
          { id: 'pe', text: 'Lima is near the Andes.' },
          { id: 'no', text: 'Oslo is on a fjord.' },
        ],
        'What is near Lima?',
      );
      expect(r.data).toMatchObject({
        answer: 'Lima is near the Andes.',
        sources: [{ id: 'pe#0' }, { id: 'no#0' }],
      });
    } finally {
      await server.close();
    }
  });
});
