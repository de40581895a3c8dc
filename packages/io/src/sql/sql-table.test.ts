import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStreamSink, describeStreamSource } from '@fsm/core/testing';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type AnyDatabase, type SqlDialect, SqlTableSink, SqlTableSource } from './sql-table.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-io-sql-'));
const run = `t${process.pid}_${Date.now().toString(36)}`;
const dbs: { name: SqlDialect; db: Kysely<AnyDatabase> }[] = [
  {
    name: 'sqlite',
    db: new Kysely<AnyDatabase>({
      dialect: new SqliteDialect({ database: new Database(join(dir, 'io.db')) }),
    }),
  },
  {
    name: 'postgres',
    db: new Kysely<AnyDatabase>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 2 }),
      }),
    }),
  },
  {
    name: 'mysql',
    db: new Kysely<AnyDatabase>({
      dialect: new MysqlDialect({
        pool: createPool({ host: '127.0.0.1', user: 'root', database: 'test', connectionLimit: 2 }),
      }),
    }),
  },
];
const created: { db: Kysely<AnyDatabase>; table: string }[] = [];
let n = 0;

async function table(db: Kysely<AnyDatabase>): Promise<string> {
  const name = `${run}_${++n}`;
  await sql`create table ${sql.table(name)} (id integer primary key, name varchar(200), city varchar(50))`.execute(
    db,
  );
  created.push({ db, table: name });
  return name;
}

afterAll(async () => {
  for (const { db, table: name } of created) await sql`drop table if exists ${sql.table(name)}`.execute(db);
  for (const { db } of dbs) await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const sqlite = dbs[0]?.db as Kysely<AnyDatabase>;
describeStreamSource('sql table (sqlite)', async (rows, { signal }) => {
  const name = await table(sqlite);
  if (rows.length > 0) await sqlite.insertInto(name).values(rows).execute();
  return new SqlTableSource({
    db: sqlite,
    table: name,
    key: 'id',
    pageSize: 7,
    ...(signal ? { signal } : {}),
  });
});
describeStreamSink('sql table (sqlite)', async () => {
  const name = await table(sqlite);
  return {
    sink: new SqlTableSink({ db: sqlite, dialect: 'sqlite', table: name, key: ['id'] }),
    readBack: () => sqlite.selectFrom(name).selectAll().orderBy('id').execute(),
  };
});

for (const { name: dialect, db } of dbs) {
  describe(`SQL table → table on ${dialect}`, () => {
    it('copies 2500 rows page by page; writing a batch twice leaves one row per key; resume after a key', async () => {
      const from = await table(db);
      const to = await table(db);
      const rows = Array.from({ length: 2500 }, (_, i) => ({
        id: i + 1,
        name: `n${i}`,
        city: i % 2 ? 'Oslo' : 'Lima',
      }));
      for (let i = 0; i < rows.length; i += 500)
        await db
          .insertInto(from)
          .values(rows.slice(i, i + 500))
          .execute();
      const source = new SqlTableSource({ db, table: from, key: 'id', pageSize: 1000 });
      const sink = new SqlTableSink({ db, dialect, table: to, key: ['id'] });
      let batch: Record<string, unknown>[] = [];
      for await (const row of source) {
        batch.push({ ...row, city: String(row.city).toUpperCase() });
        if (batch.length === 300) {
          await sink.write(batch);
          batch = [];
        }
      }
      await sink.write(batch);
      await sink.write(batch);
      const count = await db.selectFrom(to).select(sql<number>`count(*)`.as('n')).executeTakeFirst();
      expect(Number(count?.n)).toBe(2500);
      expect(source.position()).toEqual({ records: 2500, cursor: '2500' });
      const resumed: unknown[] = [];
      for await (const row of new SqlTableSource({ db, table: from, key: 'id', after: 2490 }))
        resumed.push(row);
      expect(resumed).toHaveLength(10);
      expect(await db.selectFrom(to).selectAll().where('id', '=', 2).executeTakeFirst()).toMatchObject({
        city: 'OSLO',
      });
    });
  });
}

for (const { name: dialect, db } of dbs) {
  describe(`SQL query reads and plain inserts on ${dialect}`, () => {
    it('reads a filtered query page by page by its key, and inserts without a key', async () => {
      const from = await table(db);
      const to = await table(db);
      const rows = Array.from({ length: 95 }, (_, i) => ({
        id: i + 1,
        name: `n${i}`,
        city: i % 3 ? 'Oslo' : 'Lima',
      }));
      await db.insertInto(from).values(rows).execute();
      const query = db.selectFrom(from).select(['id', 'name']).where('city', '=', 'Lima');
      const source = new SqlTableSource({ db, query, key: 'id', pageSize: 8 });
      const sink = new SqlTableSink({ db, dialect, table: to });
      const read: Record<string, unknown>[] = [];
      for await (const row of source) read.push(row);
      await sink.write(read);
      const expected = rows.filter((r) => r.city === 'Lima').map(({ id, name }) => ({ id, name }));
      expect(read.map((r) => ({ id: Number(r.id), name: r.name }))).toEqual(expected);
      expect(source.position()).toEqual({ records: expected.length, cursor: String(expected.at(-1)?.id) });
      const back = await db.selectFrom(to).select(['id', 'name']).orderBy('id').execute();
      expect(back.map((r) => ({ id: Number(r.id), name: r.name }))).toEqual(expected);
      // Without keys a replayed batch is not an upsert: the primary key rejects it, inside one transaction.
      await expect(sink.write(read.slice(0, 2))).rejects.toMatchObject({
        code: 'IO_FAILED',
        message: expect.stringContaining(`writing 2 rows to ${to}`),
      });
      await sink.close();
    });
  });
}

for (const { name: dialect, db } of dbs) {
  describe(`SQL sink group commit on ${dialect}`, () => {
    it('8 concurrent producers × 1000 rows: every row once, in fewer transactions than writes', async () => {
      const to = await table(db);
      const sink = new SqlTableSink({ db, dialect, table: to, key: ['id'] });
      const producer = async (p: number) => {
        for (let i = 0; i < 1000; i += 50) {
          const rows = Array.from({ length: 50 }, (_, j) => ({
            id: p * 1000 + i + j,
            name: `p${p}`,
            city: 'Oslo',
          }));
          await sink.write(rows);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, p) => producer(p)));
      const back = await db.selectFrom(to).select('id').orderBy('id').execute();
      expect(back.map((r) => Number(r.id))).toEqual(Array.from({ length: 8000 }, (_, i) => i));
      expect(sink.written).toBe(8000);
      expect(sink.transactions).toBeLessThan(160);
      await sink.close();
    });

    it('a write whose row the database refuses fails alone; the writes that shared its transaction commit', async () => {
      const to = await table(db);
      await db.insertInto(to).values({ id: 999, name: 'taken', city: 'Lima' }).execute();
      const sink = new SqlTableSink({ db, dialect, table: to });
      const writes = [0, 1, 2, 3, 4].map((w) =>
        sink.write([
          { id: w * 10 + 1, name: `w${w}`, city: 'Oslo' },
          { id: w === 2 ? 999 : w * 10 + 2, name: `w${w}`, city: 'Oslo' },
        ]),
      );
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
        code: 'IO_FAILED',
        message: expect.stringContaining(`writing 2 rows to ${to}`),
      });
      const back = await db.selectFrom(to).select('id').orderBy('id').execute();
      expect(back.map((r) => Number(r.id))).toEqual([1, 2, 11, 12, 31, 32, 41, 42, 999]);
      await sink.close();
    });

    it('one key twice in a batch: the later row wins', async () => {
      const to = await table(db);
      const sink = new SqlTableSink({ db, dialect, table: to, key: ['id'] });
      await sink.write([
        { id: 1, name: 'first', city: 'Oslo' },
        { id: 2, name: 'other', city: 'Oslo' },
        { id: 1, name: 'second', city: 'Lima' },
      ]);
      const back = await db.selectFrom(to).select(['id', 'name', 'city']).orderBy('id').execute();
      expect(back.map((r) => [Number(r.id), r.name, r.city])).toEqual([
        [1, 'second', 'Lima'],
        [2, 'other', 'Oslo'],
      ]);
      await sink.close();
    });

    it('close commits the writes still queued; a write aborted while queued writes nothing', async () => {
      const to = await table(db);
      const sink = new SqlTableSink({ db, dialect, table: to, key: ['id'] });
      const abort = new AbortController();
      const first = sink.write([{ id: 1, name: 'a', city: 'Oslo' }]);
      const aborted = sink.write([{ id: 2, name: 'b', city: 'Oslo' }], abort.signal).then(
        () => 'committed',
        (error: Error) => error.message,
      );
      const third = sink.write([{ id: 3, name: 'c', city: 'Oslo' }]);
      // The first write's transaction is running: the others wait in the queue.
      abort.abort(new Error('stopped'));
      await sink.close();
      await expect(first).resolves.toBeUndefined();
      await expect(third).resolves.toBeUndefined();
      expect(await aborted).toBe('stopped');
      const back = await db.selectFrom(to).select('id').orderBy('id').execute();
      expect(back.map((r) => Number(r.id))).toEqual([1, 3]);
    });
  });
}

describe('SQL errors', () => {
  it('a source needs exactly one of table and query', () => {
    expect(() => new SqlTableSource({ db: sqlite, key: 'id' })).toThrow(
      expect.objectContaining({ code: 'MISUSE' }),
    );
  });

  it('a missing table is an IoError naming it', async () => {
    const source = new SqlTableSource({ db: sqlite, table: 'no_such_table', key: 'id' });
    await expect(
      (async () => {
        for await (const _ of source) break;
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining('no_such_table') });
  });
});
