import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, type ResourceConfig, ResourceError, type ResourceProvider } from '@fsm/core';
import { type Kysely, sql } from 'kysely';
import { DEFAULT_WRITE_BEHIND, sqliteConnections, WriteBehind } from './write-behind.js';

/** Tables as loose records: configs name tables at run time. Cast to your own schema type where you know it. */
export type AnyDatabase = Record<string, Record<string, unknown>>;

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** What a `database` resource hands to functions: a kysely instance over one connection, and its dialect. */
export interface DatabaseHandle {
  readonly db: Kysely<AnyDatabase>;
  readonly dialect: Dialect;
  /**
   * Write-behind batching shared by every handle of the resource (its own connection): `db_insert` and
   * `db_upsert` queue rows here. Absent when batching is off (`batchSize: 1`, SQLite `:memory:`).
   */
  readonly writer?: WriteBehind;
}

export interface DatabaseProviderOptions {
  name?: string;
  /** `mariadb` is an alias of `mysql` (same driver, same SQL). */
  dialect: Dialect | 'mariadb';
  /** `postgres://…`, `mysql://…`. */
  url?: string;
  /** SQLite file (created with its folder when missing). */
  filename?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Milliseconds to wait for a connection (default 10 000). */
  connectTimeoutMs?: number;
  /** Statements run on every new connection, e.g. `create table if not exists …` (keep them idempotent). */
  initSql?: string[];
  /**
   * Rows of `db_insert`/`db_upsert` from concurrent records per transaction, at most (default 500; 1 turns
   * write-behind batching off: each row is written on the record's own connection).
   */
  batchSize?: number;
  /** How long a queued row waits for others to join its transaction, at most (default 5 ms). */
  batchMaxDelayMs?: number;
  /** Prepared statements kept per connection (default 256). */
  statementCacheSize?: number;
  /**
   * SQLite `PRAGMA synchronous` of every connection (default: SQLite's own, `full`). With WAL (always on
   * here), `normal` skips the fsync per commit and stays safe when the process crashes or is killed; only
   * an OS crash or power loss can lose the last commits.
   */
  synchronous?: SqliteSynchronous;
}

export const SQLITE_SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

/**
 * A database through kysely: each handle is one connection (the pool of the resource manager decides how
 * many exist; a SQLite handle is `shared`, lent to many borrowers at once). Creating a handle runs `select 1`, so an unreachable server fails at acquire time and the
 * manager's retries apply. Drivers load only when their dialect is used. Statements are prepared once per
 * connection and SQL text (SQLite statement cache, PostgreSQL named statements). Rows written through
 * `db_insert`/`db_upsert` go through one write-behind batcher per provider, on one extra connection
 * opened on first use; `close()` writes what it still holds before that connection closes.
 */
export function databaseProvider(given: DatabaseProviderOptions): ResourceProvider<DatabaseHandle> {
  const options: ConnectOptions = {
    ...given,
    dialect: given.dialect === 'mariadb' ? 'mysql' : given.dialect,
  };
  const name = options.name ?? 'database';
  const failed = (operation: string, error: unknown) =>
    new ResourceError(
      'RESOURCE_UNAVAILABLE',
      name,
      `${options.dialect} ${operation} failed for resource "${name}": ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  const batchSize = options.batchSize ?? DEFAULT_WRITE_BEHIND.batchSize;
  const maxDelayMs = options.batchMaxDelayMs ?? DEFAULT_WRITE_BEHIND.maxDelayMs;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError([
      { path: `resources.${name}.config.batch_size`, message: `must be an integer ≥ 1, got ${batchSize}` },
    ]);
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0)
    throw new ConfigError([
      {
        path: `resources.${name}.config.batch_max_delay_ms`,
        message: `must be a number ≥ 0, got ${maxDelayMs}`,
      },
    ]);
  const cacheSize = options.statementCacheSize ?? 256;
  if (!Number.isInteger(cacheSize) || cacheSize < 1)
    throw new ConfigError([
      {
        path: `resources.${name}.config.statement_cache_size`,
        message: `must be an integer ≥ 1, got ${cacheSize}`,
      },
    ]);
  const memory =
    options.dialect === 'sqlite' && (options.filename ?? options.database ?? ':memory:') === ':memory:';
  // Every connection to SQLite `:memory:` is a database of its own: a writer connection would write elsewhere.
  let handles = 0;
  // better-sqlite3 is synchronous and kysely's SQLite driver serializes each connection's use (a
  // transaction holds it to the end), so one handle serves every borrower: records waiting for the
  // write-behind commit hold no pool slot, and batches grow with the number of records in flight.
  const shared = options.dialect === 'sqlite';
  const writer =
    batchSize > 1 && !memory
      ? new WriteBehind({
          name,
          dialect: options.dialect,
          batchSize,
          maxDelayMs,
          // Borrowers of a shared handle are not bounded by the handle count: batches close on a quiet turn.
          ...(shared ? {} : { handles: () => handles }),
          open: async () => {
            let db: Kysely<AnyDatabase>;
            try {
              db = await connect(options);
            } catch (error) {
              throw failed('connect', error);
            }
            try {
              for (const statement of options.initSql ?? []) await sql.raw(statement).execute(db);
            } catch (error) {
              await db.destroy();
              throw failed('connect', error);
            }
            return db;
          },
        })
      : undefined;
  return {
    specificationVersion: 'v1',
    type: 'database',
    name,
    shared,
    async create(signal) {
      signal?.throwIfAborted();
      let db: Kysely<AnyDatabase>;
      try {
        db = await connect(options);
      } catch (error) {
        throw failed('connect', error);
      }
      try {
        await sql`select 1`.execute(db);
        for (const statement of options.initSql ?? []) await sql.raw(statement).execute(db);
        signal?.throwIfAborted();
      } catch (error) {
        await db.destroy();
        throw signal?.aborted ? signal.reason : failed('connect', error);
      }
      handles++;
      return writer ? { db, dialect: options.dialect, writer } : { db, dialect: options.dialect };
    },
    async validate(handle) {
      await sql`select 1`.execute(handle.db);
      return true;
    },
    async destroy(handle) {
      handles--;
      await handle.db.destroy();
    },
    async close() {
      // Handles own their connections; the writer is the one thing shared: flush it, then close it.
      await writer?.close();
    },
  };
}

type ConnectOptions = DatabaseProviderOptions & { dialect: Dialect };

async function connect(options: ConnectOptions): Promise<Kysely<AnyDatabase>> {
  const { Kysely, MysqlDialect } = await import('kysely');
  const { CachingSqliteDialect, NamedStatementPostgresDialect } = await import('./drivers/index.js');
  const statementCacheSize = options.statementCacheSize ?? 256;
  const timeout = options.connectTimeoutMs ?? 10_000;
  switch (options.dialect) {
    case 'sqlite': {
      const { default: Database } = await import('better-sqlite3');
      const filename = options.filename ?? options.database ?? ':memory:';
      if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
      const database = new Database(filename);
      database.pragma('busy_timeout = 10000');
      database.pragma('journal_mode = WAL');
      // One of SQLITE_SYNCHRONOUS (checked with the config): never text from elsewhere.
      if (options.synchronous) database.pragma(`synchronous = ${options.synchronous}`);
      const db = new Kysely<AnyDatabase>({
        dialect: new CachingSqliteDialect({ database, statementCacheSize }),
      });
      sqliteConnections.set(db, database);
      return db;
    }
    case 'postgres': {
      const pg = await import('pg');
      const pool = new pg.default.Pool({
        max: 1,
        connectionTimeoutMillis: timeout,
        ...(options.url
          ? { connectionString: options.url }
          : {
              host: options.host,
              port: options.port,
              user: options.user,
              password: options.password,
              database: options.database,
            }),
      });
      return new Kysely<AnyDatabase>({
        dialect: new NamedStatementPostgresDialect({ pool, statementCacheSize }),
      });
    }
    case 'mysql': {
      const mysql = await import('mysql2');
      const base = { connectionLimit: 1, connectTimeout: timeout };
      const pool = options.url
        ? mysql.createPool({ uri: options.url, ...base })
        : mysql.createPool({
            ...base,
            ...(options.host ? { host: options.host } : {}),
            ...(options.port ? { port: options.port } : {}),
            ...(options.user ? { user: options.user } : {}),
            ...(options.password ? { password: options.password } : {}),
            ...(options.database ? { database: options.database } : {}),
          });
      return new Kysely<AnyDatabase>({ dialect: new MysqlDialect({ pool }) });
    }
  }
}

/**
 * The `database` resource type of configs: `config: { dialect: sqlite, path: ./warehouse.db }`,
 * `{ dialect: postgres, url: postgres://… }`, `{ dialect: mysql, host, user, database }`. dataknobs names
 * are accepted too (`backend`/`type` for the dialect, `connection_string`, `database` as the SQLite file).
 */
export function databaseResource(config: ResourceConfig): ResourceProvider<DatabaseHandle> {
  const c = config.config;
  const str = (...keys: string[]) => {
    for (const key of keys) if (typeof c[key] === 'string') return c[key] as string;
    return undefined;
  };
  const raw = (
    str('dialect', 'backend', 'driver') ??
    (str('url', 'connection_string')
      ? new URL(str('url', 'connection_string') as string).protocol.replace(':', '')
      : 'sqlite')
  ).toLowerCase();
  const dialect: Dialect | undefined =
    raw === 'sqlite' || raw === 'sqlite3'
      ? 'sqlite'
      : raw === 'postgres' || raw === 'postgresql' || raw === 'pg'
        ? 'postgres'
        : raw === 'mysql' || raw === 'mariadb'
          ? 'mysql'
          : undefined;
  if (!dialect) {
    throw new ConfigError([
      {
        path: `resources.${config.name}.config.dialect`,
        message: `unknown database dialect "${raw}" (expected sqlite, postgres or mysql)`,
      },
    ]);
  }
  const options: DatabaseProviderOptions = { name: config.name, dialect };
  const url = str('url', 'connection_string');
  if (url) options.url = url;
  const filename = str('path', 'filename', 'file') ?? (dialect === 'sqlite' ? str('database') : undefined);
  if (filename) options.filename = filename;
  for (const key of ['host', 'user', 'password'] as const) {
    const value = str(key);
    if (value) options[key] = value;
  }
  if (dialect !== 'sqlite' && str('database')) options.database = str('database') as string;
  if (typeof c.port === 'number') options.port = c.port;
  options.connectTimeoutMs = config.timeout_seconds * 1000;
  for (const [key, option] of [
    ['batch_size', 'batchSize'],
    ['batch_max_delay_ms', 'batchMaxDelayMs'],
    ['statement_cache_size', 'statementCacheSize'],
  ] as const) {
    const value = c[key];
    if (value === undefined) continue;
    if (typeof value !== 'number')
      throw new ConfigError([
        { path: `resources.${config.name}.config.${key}`, message: `must be a number, got ${typeof value}` },
      ]);
    options[option] = value;
  }
  if (c.synchronous !== undefined) {
    const value = typeof c.synchronous === 'string' ? c.synchronous.toLowerCase() : undefined;
    const allowed = SQLITE_SYNCHRONOUS as readonly string[];
    if (value === undefined || !allowed.includes(value))
      throw new ConfigError([
        {
          path: `resources.${config.name}.config.synchronous`,
          message: `must be one of ${SQLITE_SYNCHRONOUS.join(', ')}, got ${JSON.stringify(c.synchronous)}`,
        },
      ]);
    // Like `path`, a SQLite setting that other dialects leave aside (one config serves every dialect).
    if (dialect === 'sqlite') options.synchronous = value as SqliteSynchronous;
  }
  const init = c.init_sql ?? c.setup_sql;
  if (typeof init === 'string') options.initSql = [init];
  else if (Array.isArray(init)) options.initSql = init.map(String);
  return databaseProvider(options);
}
