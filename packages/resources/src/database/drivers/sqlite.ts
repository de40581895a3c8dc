import { type DatabaseConnection, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { StatementCache, type StatementCacheStats } from './statement-cache.js';

export interface CachingSqliteDialectConfig {
  /** A better-sqlite3 `Database` (or a function that opens one on first use). */
  database: SqliteDatabase | (() => Promise<SqliteDatabase>);
  /** Prepared statements kept per connection (default 256). */
  statementCacheSize?: number;
  onCreateConnection?: (connection: DatabaseConnection) => Promise<void>;
}

/**
 * Kysely's SQLite dialect with a prepared-statement cache: Kysely's driver calls `database.prepare(sql)`
 * for every query, and preparing costs more than running a small statement. The database handed to the
 * driver is wrapped so that `prepare` returns the statement already prepared for the same SQL text
 * (bounded LRU). Closing the database drops every cached statement with it.
 */
export class CachingSqliteDialect extends SqliteDialect {
  private readonly cache: StatementCache<SqliteStatement>;

  constructor(config: CachingSqliteDialectConfig) {
    const cache = new StatementCache<SqliteStatement>(config.statementCacheSize ?? 256);
    const given = config.database;
    super({
      database:
        typeof given === 'function'
          ? async () => cachingDatabase(await given(), cache)
          : cachingDatabase(given, cache),
      ...(config.onCreateConnection ? { onCreateConnection: config.onCreateConnection } : {}),
    });
    this.cache = cache;
  }

  /** How many statements were prepared, reused and evicted. */
  statementCacheStats(): StatementCacheStats {
    return this.cache.stats();
  }
}

function cachingDatabase(database: SqliteDatabase, cache: StatementCache<SqliteStatement>): SqliteDatabase {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    // Kysely runs one query at a time on a SQLite connection (a stream holds it until it ends), so a
    // cached statement is never still iterating when it is handed out again.
    prepare: (sql: string): SqliteStatement => cache.get(sql, prepare),
    close(): void {
      cache.clear();
      database.close();
    },
  };
}
