import { StorageError } from '@fsm/core';
import { SqlStore, type SqlStoreOptions } from '../sql/sql-store.js';
import type { StoreTables } from '../sql/schema.js';
import { postgresGroupWriter } from './pg-group-writer.js';

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** `postgres://user@host:5432/db`. */
  connectionString: string;
  /** Pool size (default 10). */
  maxConnections?: number;
  /** Milliseconds to wait for a connection before failing (default 10 000). */
  connectTimeoutMs?: number;
}

/** History and checkpoints in PostgreSQL, optionally in their own schema; safe for many workers at once. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlStore> {
  const [pg, { Kysely, PostgresDialect }] = await Promise.all([
    import('pg').catch((error: unknown) => {
      throw new StorageError('postgres', 'open', 'the postgres backend needs the "pg" package', {
        cause: error,
      });
    }),
    import('kysely'),
  ]);
  const pool = new pg.default.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  const db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
  return SqlStore.open(db, 'postgres', options, postgresGroupWriter(db, options.schema));
}
