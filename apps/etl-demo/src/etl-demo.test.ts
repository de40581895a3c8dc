import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runEtlDemo } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-etl-demo-'));
const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `etl_demo_${process.pid}_${Date.now().toString(36)}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

const channels = (rows: { channel: string; n: number | string }[]) =>
  Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));

describe('etl-demo', () => {
  it('loads the 995 valid sample orders into SQLite, reports the 5 bad ones, keeps 1000 histories', async () => {
    const warehouse = join(dir, 'warehouse.db');
    const { batch, pool } = await runEtlDemo({
      storage: `sqlite:${join(dir, 'fsm.db')}`,
      warehouse: { dialect: 'sqlite', path: warehouse },
      batchId: 'sample',
    });
    expect(batch.total).toBe(1000);
    expect(batch.succeeded).toBe(995);
    const failed = batch.results.filter((r) => !r.success);
    expect(failed.map((r) => (r.data as { order_id: string }).order_id)).toEqual([
      'A-0018',
      'A-0231',
      'A-0403',
      'A-0612',
      'A-0809',
    ]);
    expect(failed.every((r) => r.error?.code === 'VALIDATION_FAILED')).toBe(true);
    const db = new Database(warehouse, { readonly: true });
    const rows = db.prepare('select channel, count(*) as n from orders group by channel').all() as {
      channel: string;
      n: number;
    }[];
    const byChannel = channels(rows);
    expect(Object.values(byChannel).reduce((a, b) => a + b, 0)).toBe(995);
    expect(Object.keys(byChannel).sort()).toEqual(['express', 'review', 'standard']);
    const sample = db.prepare("select * from orders where order_id = 'A-0001'").get() as {
      total: number;
      amount: number;
      tax: number;
    };
    expect(sample.total).toBeCloseTo(sample.amount + sample.tax, 2);
    db.close();
    expect(pool).toMatchObject({ inUse: 0 });
    expect(pool?.created).toBeLessThanOrEqual(4);
  });

  it('an interrupted run resumes with the same batch id: every order loaded once', async () => {
    const warehouse = join(dir, 'resume.db');
    const storage = `sqlite:${join(dir, 'resume-fsm.db')}`;
    const controller = new AbortController();
    const first = await runEtlDemo({
      storage,
      warehouse: { dialect: 'sqlite', path: warehouse },
      batchId: 'interrupted',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 300) controller.abort(new Error('operator stop'));
      },
    });
    expect(first.batch.succeeded).toBeLessThan(995);
    expect(first.batch.results.some((r) => r.error?.code === 'ABORTED')).toBe(true);
    const second = await runEtlDemo({
      storage,
      warehouse: { dialect: 'sqlite', path: warehouse },
      batchId: 'interrupted',
    });
    expect(second.batch.succeeded).toBe(995);
    const db = new Database(warehouse, { readonly: true });
    expect((db.prepare('select count(*) as n from orders').get() as { n: number }).n).toBe(995);
    db.close();
  });

  it('loads into PostgreSQL when the warehouse is a postgres URL', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    const url = `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const { batch } = await runEtlDemo({
      storage: `sqlite:${join(dir, 'pg-fsm.db')}`,
      warehouse: { dialect: 'postgres', url },
      batchId: 'pg',
    });
    expect(batch.succeeded).toBe(995);
    const { rows } = await client.query(`select count(*)::int as n from "${schema}".orders`);
    expect(rows[0].n).toBe(995);
    await client.end();
  });
});
