import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { etlPattern, runEtl } from './etl.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-etl-'));
const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const suffix = `${process.pid}_${Date.now().toString(36)}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`drop table if exists sales_${suffix}, sales_${suffix}_rejects`);
  await client.end();
});

// 100k rows, every 100th bad (a negative or missing amount): 99k good, 1k rejects.
const input = join(dir, 'sales.csv');
writeFileSync(
  input,
  `sale_id,amount,country\n${Array.from({ length: 100_000 }, (_, i) => `${i + 1},${i % 100 === 99 ? (i % 200 === 199 ? '' : '-5') : ((i % 500) + 0.25).toFixed(2)},${i % 2 ? 'de' : 'fr'}`).join('\n')}\n`,
);

const schema = {
  type: 'object',
  required: ['sale_id', 'amount', 'country'],
  properties: {
    sale_id: { type: 'integer' },
    amount: { type: 'number', minimum: 0 },
    country: { type: 'string' },
  },
};
const tables = (table: string) => [
  `create table if not exists ${table} (id integer primary key, amount double precision, country varchar(2), gross double precision)`,
  `create table if not exists ${table}_rejects (line integer primary key, stage varchar(32), code varchar(32), message text, record text)`,
];
const options = {
  schema,
  mapping: { id: 'sale_id', amount: 'amount', country: 'country' },
  convert: { country: 'string' as const },
  enrich: (r: { amount: number; country: string }) => ({
    ...r,
    country: r.country.toUpperCase(),
    gross: Math.round(r.amount * 119) / 100,
  }),
};

describe('ETL pattern', () => {
  it('100k rows, 1% bad → 99k loaded, 1k rejects with line and stage; a killed run resumes to the same end', async () => {
    const file = join(dir, 'warehouse.db');
    const database = { dialect: 'sqlite' as const, filename: file, initSql: tables('sales') };
    const load = { database, table: 'sales', key: ['id'], rejectsTable: 'sales_rejects' };
    const checkpoint = { path: join(dir, 'offsets.json'), streamId: 'sales-csv' };
    const controller = new AbortController();
    let read = 0;
    const { openReader } = await import('@fsm/io');
    async function* killedAt40k() {
      for await (const record of openReader(input, { cast: true })) {
        if (++read === 40_000) controller.abort(new Error('kill -9'));
        yield record;
      }
    }
    await expect(
      runEtl({ ...options, source: killedAt40k(), load, checkpoint, signal: controller.signal }),
    ).rejects.toBeDefined();
    const db = new Database(file, { readonly: true });
    const partial = (db.prepare('select count(*) as n from sales').get() as { n: number }).n;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(99_000);

    const metrics = await runEtl({ ...options, source: input, load, checkpoint });
    expect(metrics.resumedFrom).toBeGreaterThan(0);
    expect(metrics.resumedFrom + metrics.extracted).toBe(100_000);
    expect((db.prepare('select count(*) as n from sales').get() as { n: number }).n).toBe(99_000);
    expect((db.prepare('select count(*) as n from sales_rejects').get() as { n: number }).n).toBe(1_000);
    const reject = db.prepare('select * from sales_rejects where line = 100').get() as {
      stage: string;
      code: string;
      message: string;
    };
    expect(reject).toMatchObject({ stage: 'validate', code: 'VALIDATION_FAILED' });
    expect(db.prepare('select * from sales where id = 1').get()).toEqual({
      id: 1,
      amount: 0.25,
      country: 'FR',
      gross: 0.3,
    });
    db.close();
  }, 120_000);

  it('loads into PostgreSQL the same way', async () => {
    const table = `sales_${suffix}`;
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'sale_id,amount,country\n1,10,de\n2,-1,fr\n3,7.5,fr\n');
    const metrics = await runEtl({
      ...options,
      source: small,
      load: {
        database: { dialect: 'postgres', url: pgUrl, initSql: tables(table) },
        table,
        key: ['id'],
        rejectsTable: `${table}_rejects`,
      },
    });
    expect(metrics).toMatchObject({ extracted: 3, loaded: 2, rejected: 1 });
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const { rows } = await client.query(`select id, gross from ${table} order by id`);
    expect(rows).toEqual([
      { id: 1, gross: 11.9 },
      { id: 3, gross: 8.93 },
    ]);
    await client.end();
  });

  it('an error threshold stops the run with an ETLError naming the stage and the record', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      `sale_id,amount,country\n${Array.from({ length: 300 }, (_, i) => `${i},${i % 3 === 0 ? -1 : 5},de`).join('\n')}\n`,
    );
    const database = {
      dialect: 'sqlite' as const,
      filename: join(dir, 'threshold.db'),
      initSql: tables('sales'),
    };
    await expect(
      runEtl({
        ...options,
        source: bad,
        load: { database, table: 'sales', key: ['id'], rejectsTable: 'sales_rejects' },
        maxErrorRate: 0.1,
        minRecords: 50,
      }),
    ).rejects.toMatchObject({
      code: 'ETL_FAILED',
      stage: 'validate',
      record: expect.objectContaining({ amount: -1 }),
    });
  });

  it('the pattern alone is an FSM: validate → transform → enrich → ready', async () => {
    const fsm = await etlPattern(options).create();
    const r = await fsm.process({ sale_id: 7, amount: 10, country: 'de', ignored: true });
    expect(r).toMatchObject({
      success: true,
      finalState: 'ready',
      path: ['validate', 'transform', 'enrich', 'ready'],
      data: { id: 7, amount: 10, country: 'DE', gross: 11.9 },
    });
    await fsm.close();
  });
});
