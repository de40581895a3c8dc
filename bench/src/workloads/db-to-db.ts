import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { type AnyDatabase, SqlTableSink, SqlTableSource } from '@fsm/io/sql';
import { runStreamJob } from '@fsm/streaming';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';

/** W8: a SQLite table → FSM (validate, price, route) → PostgreSQL upserts, in keyset pages and transactional chunks. */
export async function sqliteToPostgres(rows: number, url: string): Promise<{ rowsPerSec: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-w8-'));
  const table = `bench_w8_${process.pid}_${Date.now().toString(36)}`;
  const from = new Kysely<AnyDatabase>({
    dialect: new SqliteDialect({ database: new Database(join(dir, 'src.db')) }),
  });
  const to = new Kysely<AnyDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
  try {
    await sql`create table orders (id integer primary key, amount real, region text)`.execute(from);
    for (let i = 0; i < rows; i += 1000) {
      const page = Array.from({ length: Math.min(1000, rows - i) }, (_, k) => ({
        id: i + k,
        amount: ((i + k) % 997) + 0.5,
        region: (i + k) % 3 ? 'US' : 'EU',
      }));
      await from.insertInto('orders').values(page).execute();
    }
    await sql`create table ${sql.table(table)} (id integer primary key, amount double precision, region text, total double precision, lane text)`.execute(
      to,
    );
    const fsm = await SimpleFSM.create(
      {
        name: 'w8',
        data_mode: { default: 'reference' },
        states: [
          { name: 'check', is_start: true, arcs: [{ target: 'price', condition: 'valid' }] },
          {
            name: 'price',
            transforms: ['price'],
            arcs: [{ target: 'eu', condition: 'isEu', priority: 2 }, { target: 'other' }],
          },
          { name: 'eu', transforms: ['lane'], is_end: true },
          { name: 'other', is_end: true },
        ],
      },
      {
        functions: {
          valid: (r: { amount: number }) => r.amount >= 0,
          price: (r: { amount: number; total?: number; lane?: string }) => {
            r.total = r.amount * 1.2;
            r.lane = 'standard';
            return r;
          },
          isEu: (r: { region: string }) => r.region === 'EU',
          lane: (r: { lane?: string }) => {
            r.lane = 'eu';
            return r;
          },
        },
      },
    );
    const started = performance.now();
    const sink = new SqlTableSink({ db: to, dialect: 'postgres', table, key: ['id'] });
    const stats = await runStreamJob(
      fsm,
      new SqlTableSource({ db: from, table: 'orders', key: 'id', pageSize: 2000 }),
      sink,
      {
        chunkSize: 2000,
        map: (r) => r.data as Record<string, unknown>,
      },
    );
    const ms = performance.now() - started;
    await fsm.close();
    if (stats.succeeded !== rows) throw new Error(`W8: ${stats.succeeded} of ${rows} rows loaded`);
    return { rowsPerSec: (rows * 1000) / ms };
  } finally {
    await sql`drop table if exists ${sql.table(table)}`.execute(to);
    await Promise.all([from.destroy(), to.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
