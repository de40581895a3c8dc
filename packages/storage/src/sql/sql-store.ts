import {
  type BatchItemRecord,
  type CheckpointStore,
  type ExecutionFilter,
  ExecutionHistory,
  type ExecutionSearch,
  type ExecutionSearchPage,
  type ExecutionSnapshot,
  type FlowSummary,
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  MisuseError,
  StorageError,
} from '@fsm/core';
import { type Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { toMillis } from '../shared/summaries.js';
import { checkSearch, sqlFindExecutions, sqlFlowSummary } from './flow-summary.js';
import { storeMigrations } from './migrations.js';
import type { HistoryRow, StoreTables } from './schema.js';

export interface SqlStoreOptions {
  /** Postgres schema holding the tables (created when missing). */
  schema?: string;
  /** Run migrations on open (default true). Turn off when a deploy step migrates. */
  migrate?: boolean;
}

/** Rows read per round trip while iterating `query()`. */
const PAGE = 200;

/**
 * HistoryStore + CheckpointStore on any kysely dialect (SQLite, PostgreSQL). Every call is one
 * statement or one transaction; driver errors become `StorageError`s naming the backend and operation.
 */
export class SqlStore implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  private closed = false;

  private constructor(
    private readonly db: Kysely<StoreTables>,
    readonly backend: 'sqlite' | 'postgres',
    /** For raw SQL (flow summaries): kysely's withSchema does not reach into `sql` templates. */
    private readonly schema?: string,
  ) {}

  /** Wraps an open kysely instance; the store owns it and destroys it on `close()`. */
  static async open(
    db: Kysely<StoreTables>,
    backend: 'sqlite' | 'postgres',
    options: SqlStoreOptions = {},
  ): Promise<SqlStore> {
    const scoped = options.schema ? db.withSchema(options.schema) : db;
    const store = new SqlStore(scoped, backend, options.schema);
    try {
      if (options.schema) await createSchema(db, options.schema);
      if (options.migrate !== false) await store.migrate(scoped, options.schema);
    } catch (error) {
      await db.destroy();
      throw error instanceof StorageError
        ? error
        : new StorageError(backend, 'open', describe(error), { cause: error });
    }
    return store;
  }

  private async migrate(db: Kysely<StoreTables>, schema: string | undefined): Promise<void> {
    const migrator = new Migrator({
      db,
      provider: storeMigrations(this.backend),
      migrationTableName: 'fsm_migrations',
      migrationLockTableName: 'fsm_migrations_lock',
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    let { error, results } = await migrator.migrateToLatest();
    // SQLite has no migration lock in kysely: when two processes open a new file at once, the loser's
    // transaction fails on the migrations table the winner just wrote. Run it again: it finds nothing to do.
    for (let attempt = 1; error && this.backend === 'sqlite' && attempt <= 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      ({ error, results } = await migrator.migrateToLatest());
    }
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'before any migration ran';
      throw new StorageError(this.backend, 'migrate', `migration ${failed} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async save(history: ExecutionHistory): Promise<void> {
    const data = history.toJSON();
    const row: HistoryRow = {
      execution_id: data.executionId,
      fsm: data.fsm,
      status: data.status,
      started_at: data.startedAt,
      ended_at: data.endedAt ?? null,
      batch_id: data.batchId ?? null,
      item_index: data.itemIndex ?? null,
      body: JSON.stringify(data),
    };
    await this.run('save', () =>
      this.db
        .insertInto('fsm_histories')
        .values(row)
        .onConflict((oc) =>
          oc.column('execution_id').doUpdateSet({
            fsm: row.fsm,
            status: row.status,
            started_at: row.started_at,
            ended_at: row.ended_at,
            batch_id: row.batch_id,
            item_index: row.item_index,
            body: row.body,
          }),
        )
        .execute(),
    );
  }

  async load(executionId: string): Promise<ExecutionHistory | undefined> {
    return this.run('load', async () => {
      const row = await this.db
        .selectFrom('fsm_histories')
        .select('body')
        .where('execution_id', '=', executionId)
        .executeTakeFirst();
      return row ? ExecutionHistory.fromJSON(row.body) : undefined;
    });
  }

  async *query(filter: HistoryQuery = {}): AsyncIterable<HistorySummary> {
    let after = filter.cursor === undefined ? undefined : decodeCursor(this.backend, filter.cursor);
    let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const pageSize = Math.min(PAGE, remaining);
      const position = after;
      const rows = await this.run('query', () => {
        let q = this.db
          .selectFrom('fsm_histories')
          .select(['execution_id', 'fsm', 'status', 'started_at', 'ended_at'])
          .orderBy('started_at', 'desc')
          .orderBy('execution_id', 'desc')
          .limit(pageSize);
        if (filter.fsm !== undefined) q = q.where('fsm', '=', filter.fsm);
        if (filter.status !== undefined) q = q.where('status', '=', filter.status);
        if (filter.since !== undefined) q = q.where('started_at', '>=', toMillis(filter.since));
        if (filter.until !== undefined) q = q.where('started_at', '<', toMillis(filter.until));
        if (position) {
          q = q.where((eb) =>
            eb.or([
              eb('started_at', '<', position.startedAt),
              eb.and([
                eb('started_at', '=', position.startedAt),
                eb('execution_id', '<', position.executionId),
              ]),
            ]),
          );
        }
        return q.execute();
      });
      for (const row of rows) {
        const summary: HistorySummary = {
          executionId: row.execution_id,
          fsm: row.fsm,
          status: row.status as HistorySummary['status'],
          startedAt: Number(row.started_at),
        };
        if (row.ended_at !== null) summary.endedAt = Number(row.ended_at);
        summary.cursor = encodeCursor(summary);
        yield summary;
        after = summary;
      }
      remaining -= rows.length;
      if (rows.length < pageSize) return;
    }
  }

  async delete(executionId: string): Promise<boolean> {
    const result = await this.run('delete', () =>
      this.db.deleteFrom('fsm_histories').where('execution_id', '=', executionId).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  async deleteOlderThan(cutoff: Date | number): Promise<number> {
    const result = await this.run('deleteOlderThan', () =>
      this.db
        .deleteFrom('fsm_histories')
        .where('status', '!=', 'running')
        .where('ended_at', '<', toMillis(cutoff))
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  async summarizeFlow(filter?: ExecutionFilter): Promise<FlowSummary> {
    checkSearch(filter);
    return this.run('summarizeFlow', () => sqlFlowSummary(this.db, this.backend, filter, this.schema));
  }

  async findExecutions(search?: ExecutionSearch): Promise<ExecutionSearchPage> {
    checkSearch(search);
    return this.run('findExecutions', () => sqlFindExecutions(this.db, this.backend, search, this.schema));
  }

  async saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void> {
    const body = JSON.stringify(snapshot);
    const updatedAt = Date.now();
    await this.run('saveCheckpoint', () =>
      this.db
        .insertInto('fsm_checkpoints')
        .values({ execution_id: snapshot.executionId, fsm: snapshot.fsm, updated_at: updatedAt, body })
        .onConflict((oc) => oc.column('execution_id').doUpdateSet({ body, updated_at: updatedAt }))
        .execute(),
    );
  }

  async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined> {
    return this.run('loadCheckpoint', async () => {
      const row = await this.db
        .selectFrom('fsm_checkpoints')
        .select('body')
        .where('execution_id', '=', executionId)
        .executeTakeFirst();
      return row ? (JSON.parse(row.body) as ExecutionSnapshot) : undefined;
    });
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    const result = await this.run('deleteCheckpoint', () =>
      this.db.deleteFrom('fsm_checkpoints').where('execution_id', '=', executionId).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  async saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void> {
    if (items.length === 0) return;
    const rows = items.map((item) => ({
      batch_id: batchId,
      item_index: item.itemIndex,
      execution_id: item.executionId,
      success: item.success ? 1 : 0,
      body: JSON.stringify(item.result),
    }));
    await this.run('saveBatchItems', () =>
      this.db
        .insertInto('fsm_batch_items')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['batch_id', 'item_index']).doUpdateSet((eb) => ({
            execution_id: eb.ref('excluded.execution_id'),
            success: eb.ref('excluded.success'),
            body: eb.ref('excluded.body'),
          })),
        )
        .execute(),
    );
  }

  async loadBatchItems(batchId: string): Promise<BatchItemRecord[]> {
    return this.run('loadBatchItems', async () => {
      const rows = await this.db
        .selectFrom('fsm_batch_items')
        .select(['item_index', 'execution_id', 'success', 'body'])
        .where('batch_id', '=', batchId)
        .orderBy('item_index')
        .execute();
      return rows.map((r) => ({
        itemIndex: Number(r.item_index),
        executionId: r.execution_id,
        success: Number(r.success) === 1,
        result: JSON.parse(r.body) as unknown,
      }));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new MisuseError(`${this.backend} store is closed; cannot ${operation}`);
    try {
      return await work();
    } catch (error) {
      throw new StorageError(this.backend, operation, describe(error), { cause: error });
    }
  }
}

/** `create schema if not exists` races between processes in Postgres; an advisory lock serializes it. */
async function createSchema(db: Kysely<StoreTables>, schema: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${schema}))`.execute(trx);
    await trx.schema.createSchema(schema).ifNotExists().execute();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
