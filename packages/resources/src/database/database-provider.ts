import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, type ResourceConfig, ResourceError, type ResourceProvider } from '@fsm/core';
import { type Kysely, sql } from 'kysely';

/** Tables as loose records: configs name tables at run time. Cast to your own schema type where you know it. */
export type AnyDatabase = Record<string, Record<string, unknown>>;

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** What a `database` resource hands to functions: a kysely instance over one connection, and its dialect. */
export interface DatabaseHandle {
  readonly db: Kysely<AnyDatabase>;
  readonly dialect: Dialect;
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
}

/**
 * A database through kysely: each handle is one connection (the pool of the resource manager decides how
 * many exist). Creating a handle runs `select 1`, so an unreachable server fails at acquire time and the
 * manager's retries apply. Drivers load only when their dialect is used.
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
  return {
    specificationVersion: 'v1',
    type: 'database',
    name,
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
      return { db, dialect: options.dialect };
    },
    async validate(handle) {
      await sql`select 1`.execute(handle.db);
      return true;
    },
    async destroy(handle) {
      await handle.db.destroy();
    },
    async close() {
      // Each handle owns its connection; nothing is shared at provider level.
    },
  };
}

type ConnectOptions = DatabaseProviderOptions & { dialect: Dialect };

async function connect(options: ConnectOptions): Promise<Kysely<AnyDatabase>> {
  const { Kysely, SqliteDialect, PostgresDialect, MysqlDialect } = await import('kysely');
  const timeout = options.connectTimeoutMs ?? 10_000;
  switch (options.dialect) {
    case 'sqlite': {
      const { default: Database } = await import('better-sqlite3');
      const filename = options.filename ?? options.database ?? ':memory:';
      if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
      const database = new Database(filename);
      database.pragma('busy_timeout = 10000');
      database.pragma('journal_mode = WAL');
      return new Kysely<AnyDatabase>({ dialect: new SqliteDialect({ database }) });
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
      return new Kysely<AnyDatabase>({ dialect: new PostgresDialect({ pool }) });
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
  const init = c.init_sql ?? c.setup_sql;
  if (typeof init === 'string') options.initSql = [init];
  else if (Array.isArray(init)) options.initSql = init.map(String);
  return databaseProvider(options);
}
