import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from '@fsm/core';
import { SqlStore, type SqlStoreOptions } from '../sql/sql-store.js';
import type { StoreTables } from '../sql/schema.js';

export interface SqliteStoreOptions extends Omit<SqlStoreOptions, 'schema'> {
  /** Database file (created with its folder when missing), or `:memory:`. */
  filename: string;
  /**
   * `normal` (default) survives a process crash in WAL mode; `full` also survives power loss,
   * at the cost of an fsync per write.
   */
  synchronous?: 'normal' | 'full';
}

/** The embedded default: one SQLite file in WAL mode, shared safely by several processes. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlStore> {
  const [{ default: Database }, { Kysely, SqliteDialect }] = await Promise.all([
    import('better-sqlite3').catch((error: unknown) => {
      throw new StorageError('sqlite', 'open', 'the sqlite backend needs the "better-sqlite3" package', {
        cause: error,
      });
    }),
    import('kysely'),
  ]);
  let database: InstanceType<typeof Database>;
  try {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    database = new Database(options.filename);
    // busy_timeout first: switching to WAL and migrating wait for other processes' locks.
    database.pragma('busy_timeout = 10000');
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  } catch (error) {
    throw new StorageError('sqlite', 'open', `cannot open ${options.filename}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database }) });
  return SqlStore.open(db, 'sqlite', options);
}
