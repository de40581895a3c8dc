import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { AnyDatabase } from '../database-provider.js';
import { CachingSqliteDialect } from './sqlite.js';
import { NamedStatementPostgresDialect, statementName } from './postgres.js';
import { StatementCache } from './statement-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-sql-drivers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StatementCache', () => {
  it('keeps the most recently used statements and drops the least recently used past its capacity', () => {
    const dropped: string[] = [];
    const cache = new StatementCache<string>(2, (_, sqlText) => dropped.push(sqlText));
    const prepare = (text: string) => `prepared ${text}`;
    cache.get('a', prepare);
    cache.get('b', prepare);
    cache.get('a', prepare); // a is now the most recent
    cache.get('c', prepare); // drops b
    expect(dropped).toEqual(['b']);
    expect(cache.get('a', () => 'again')).toBe('prepared a');
    expect(cache.stats()).toEqual({ size: 2, capacity: 2, prepared: 3, hits: 2, evicted: 1 });
  });
});

describe('CachingSqliteDialect', () => {
  it('a statement executed 1000 times is prepared once', async () => {
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    const database = new Database(join(dir, 'cache.db'));
    database.pragma('journal_mode = WAL');
    const dialect = new CachingSqliteDialect({ database });
    const db = new Kysely<AnyDatabase>({ dialect });
    try {
      await sql`create table t (id integer primary key, label text)`.execute(db);
      prepare.mockClear();
      for (let i = 0; i < 1000; i++)
        await db
          .insertInto('t')
          .values({ id: i, label: `row ${i}` })
          .execute();
      const inserts = prepare.mock.calls.filter(([text]) => String(text).startsWith('insert'));
      expect(inserts).toHaveLength(1);
      const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(db);
      expect(rows[0]?.n).toBe(1000);
      expect(dialect.statementCacheStats()).toMatchObject({ hits: 999 });
    } finally {
      prepare.mockRestore();
      await db.destroy();
    }
  });

  it('holds at most its capacity of statements, and closing the database drops them', async () => {
    const dialect = new CachingSqliteDialect({
      database: new Database(join(dir, 'lru.db')),
      statementCacheSize: 4,
    });
    const db = new Kysely<AnyDatabase>({ dialect });
    await sql`create table t (id integer primary key)`.execute(db);
    for (let i = 0; i < 10; i++) await sql`select ${sql.lit(i)} as n from t where id = ${i}`.execute(db);
    expect(dialect.statementCacheStats()).toMatchObject({ size: 4, capacity: 4, prepared: 11, evicted: 7 });
    await db.destroy();
    expect(dialect.statementCacheStats()).toMatchObject({ size: 0 });
  });
});

describe('NamedStatementPostgresDialect', () => {
  it('sends a parameterized query as one named statement per connection, reused on every execution', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 });
    const dialect = new NamedStatementPostgresDialect({ pool });
    const db = new Kysely<AnyDatabase>({ dialect });
    try {
      // One connection (max: 1): every query and the catalog read below share the session.
      for (let i = 0; i < 50; i++) {
        const { rows } = await sql<{ n: number }>`select ${i}::int + 1 as n`.execute(db);
        expect(rows[0]?.n).toBe(i + 1);
      }
      const compiled = sql`select ${0}::int + 1 as n`.compile(db);
      const name = statementName(compiled.sql);
      const { rows } = await db.connection().execute(async (conn) => {
        return sql<{
          name: string;
          statement: string;
        }>`select name, statement from pg_prepared_statements`.execute(conn);
      });
      const ours = rows.filter((r) => r.name === name);
      expect(ours).toHaveLength(1);
      expect(ours[0]?.statement).toBe(compiled.sql);
      // The catalog query itself has no parameters: it ran unnamed.
      expect(dialect.statementStats()).toMatchObject({ named: 1, reused: 49 });
    } finally {
      await db.destroy();
    }
  });

  it('names at most statementCacheSize statements per connection; the rest run unnamed', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 });
    const dialect = new NamedStatementPostgresDialect({ pool, statementCacheSize: 3 });
    const db = new Kysely<AnyDatabase>({ dialect });
    try {
      for (let i = 0; i < 6; i++) await sql`select ${sql.lit(i)} + ${1}::int as n`.execute(db);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_prepared_statements where name like 'fsm_%'`.execute(db);
      expect(rows[0]?.n).toBe(3);
      expect(dialect.statementStats()).toMatchObject({ named: 3 });
      expect(dialect.statementStats().unnamed).toBeGreaterThanOrEqual(3);
    } finally {
      await db.destroy();
    }
  });
});
