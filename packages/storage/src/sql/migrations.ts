import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

type Dialect = 'sqlite' | 'postgres';

/**
 * Versioned schema changes, applied in name order by kysely's Migrator. Never edit a released
 * migration: add a new one. The id column sorts by code unit (`collate "C"` on Postgres) so cursors
 * compare ids the same way in SQL and in JavaScript.
 */
export function storeMigrations(dialect: Dialect): MigrationProvider {
  const idType = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  const migrations: Record<string, Migration> = {
    '0001_histories_checkpoints_batches': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('fsm_histories')
          .ifNotExists()
          .addColumn('execution_id', idType, (c) => c.primaryKey())
          .addColumn('fsm', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('batch_id', 'text')
          .addColumn('item_index', 'integer')
          .addColumn('body', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('fsm_histories_started')
          .ifNotExists()
          .on('fsm_histories')
          .columns(['started_at desc', 'execution_id desc'])
          .execute();
        await db.schema
          .createIndex('fsm_histories_fsm_started')
          .ifNotExists()
          .on('fsm_histories')
          .columns(['fsm', 'started_at desc'])
          .execute();
        await db.schema
          .createIndex('fsm_histories_ended')
          .ifNotExists()
          .on('fsm_histories')
          .columns(['ended_at'])
          .execute();
        await db.schema
          .createTable('fsm_checkpoints')
          .ifNotExists()
          .addColumn('execution_id', idType, (c) => c.primaryKey())
          .addColumn('fsm', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('fsm_batch_items')
          .ifNotExists()
          .addColumn('batch_id', 'text', (c) => c.notNull())
          .addColumn('item_index', 'integer', (c) => c.notNull())
          .addColumn('execution_id', 'text', (c) => c.notNull())
          .addColumn('success', 'integer', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('fsm_batch_items_pk', ['batch_id', 'item_index'])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('fsm_batch_items').ifExists().execute();
        await db.schema.dropTable('fsm_checkpoints').ifExists().execute();
        await db.schema.dropTable('fsm_histories').ifExists().execute();
      },
    },
    // One row per step of a running execution (its checkpoint is the assembled log), not a rewritten snapshot.
    '0002_step_log': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('fsm_step_log')
          .ifNotExists()
          .addColumn('execution_id', idType, (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('fsm', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('fsm_step_log_pk', ['execution_id', 'seq'])
          // SQLite: one b-tree (the key) instead of a rowid table plus the key's index, half the pages per write.
          .$call((table) => (dialect === 'sqlite' ? table.modifyEnd(sql`without rowid`) : table))
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('fsm_step_log').ifExists().execute();
      },
    },
    // A finished batch item is a mark on its history row (the result is rebuilt from the history) instead of
    // a row of its own repeating the record's data: one row and ~400 bytes less per record (the partial index
    // below takes the place of the batch-item table's key).
    '0003_batch_items_in_histories': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('fsm_histories').addColumn('item_ms', 'double precision').execute();
        await db.schema
          .createIndex('fsm_histories_batch_items')
          .ifNotExists()
          .on('fsm_histories')
          .columns(['batch_id', 'item_index'])
          .where(sql.ref('item_ms'), 'is not', null)
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex('fsm_histories_batch_items').ifExists().execute();
        await db.schema.alterTable('fsm_histories').dropColumn('item_ms').execute();
      },
    },
    // SQLite adds a `desc` index's new keys at its left edge, where a full leaf is split by rebalancing it with
    // its neighbours (three pages rewritten per split); keys added at the right edge fill a fresh page. The
    // ascending indexes serve the same newest-first queries (read backwards) and a durable record writes ~10 %
    // fewer WAL pages (bench W9). PostgreSQL keeps its indexes: rebuilding them would block a live store.
    '0004_ascending_started_indexes': {
      async up(db: Kysely<unknown>) {
        if (dialect !== 'sqlite') return;
        await startedIndexes(db, '');
      },
      async down(db: Kysely<unknown>) {
        if (dialect !== 'sqlite') return;
        await startedIndexes(db, ' desc');
      },
    },
  };
  return { getMigrations: async () => migrations };
}

/** The two indexes by start time, made again in the given direction. */
async function startedIndexes(db: Kysely<unknown>, direction: '' | ' desc'): Promise<void> {
  await db.schema.dropIndex('fsm_histories_started').ifExists().execute();
  await db.schema.dropIndex('fsm_histories_fsm_started').ifExists().execute();
  await db.schema
    .createIndex('fsm_histories_started')
    .on('fsm_histories')
    .columns([`started_at${direction}`, `execution_id${direction}`])
    .execute();
  await db.schema
    .createIndex('fsm_histories_fsm_started')
    .on('fsm_histories')
    .columns(['fsm', `started_at${direction}`])
    .execute();
}
