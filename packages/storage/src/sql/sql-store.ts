import {
  assembleStepLog,
  type BatchItemRecord,
  DataError,
  type ExecutionFilter,
  ExecutionHistory,
  type ExecutionHistoryData,
  type ExecutionSearch,
  type ExecutionSearchPage,
  type ExecutionSnapshot,
  type FinishedExecution,
  type FlowSummary,
  FsmError,
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  isFinishedHistory,
  MisuseError,
  packHistoryBody,
  resultOfHistory,
  runCleanups,
  storedOutput,
  type StepLogEntry,
  type StepLogStore,
  StorageError,
} from '@fsm/core';
import { type Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { mergeByItemIndex } from '../shared/merge-items.js';
import { GroupCommit } from '../shared/group-commit.js';
import { toMillis } from '../shared/summaries.js';
import { checkSearch, sqlFindExecutions, sqlFlowSummary } from './flow-summary.js';
import { storeMigrations } from './migrations.js';
import type { HistoryRow, StoreTables } from './schema.js';
import { type GroupWriter, HISTORY_COLUMNS, HISTORY_ROW_COLUMNS, type WriteRows } from './write-rows.js';

export interface SqlStoreOptions {
  /** Postgres schema holding the tables (created when missing). */
  schema?: string;
  /** Run migrations on open (default true). Turn off when a deploy step migrates. */
  migrate?: boolean;
}

/** A write of the step log: committed with the writes of other records issued in the same tick. */
type WriteOp = { kind: 'step'; entry: StepLogEntry } | { kind: 'finish'; finished: FinishedExecution };

/** Rows read per round trip while streaming a batch's items. */
const ITEM_PAGE = 500;

/** Rows read per round trip while iterating `query()`. */
const PAGE = 200;

/**
 * HistoryStore + CheckpointStore on any kysely dialect (SQLite, PostgreSQL). Every call is one
 * statement or one transaction; driver errors become `StorageError`s naming the backend and operation.
 */
export class SqlStore implements HistoryStore, StepLogStore {
  readonly specificationVersion = 'v1' as const;
  private closed = false;
  private readonly writer: GroupCommit<WriteOp, WriteRows>;

  private constructor(
    private readonly db: Kysely<StoreTables>,
    readonly backend: 'sqlite' | 'postgres',
    /** For raw SQL (flow summaries): kysely's withSchema does not reach into `sql` templates. */
    private readonly schema: string | undefined,
    /** Commits step-log groups (SQLite: prepared statements; PostgreSQL: one statement per group). */
    private readonly groupWriter: GroupWriter,
  ) {
    this.writer = new GroupCommit((rows) => this.commitGroup(rows), {
      prepare: writeRows,
      // SQLite commits synchronously: one group at a time, as large as what is waiting. PostgreSQL: groups
      // of at most 32 on up to 4 connections. One large group held every record in flight until it came
      // back, and the process sat idle meanwhile (a third of a durable run, bench W9); small groups return
      // sooner and free their records while the next ones commit.
      ...(backend === 'postgres' ? { maxInFlight: 4, maxGroup: 32 } : { maxInFlight: 1 }),
    });
  }

  /**
   * Wraps an open kysely instance; the store owns it and destroys it on `close()`. Step-log groups are
   * written through `groupWriter` (the dialect's own way of writing many rows at once).
   */
  static async open(
    db: Kysely<StoreTables>,
    backend: 'sqlite' | 'postgres',
    options: SqlStoreOptions,
    groupWriter: GroupWriter,
  ): Promise<SqlStore> {
    const scoped = options.schema ? db.withSchema(options.schema) : db;
    const store = new SqlStore(scoped, backend, options.schema, groupWriter);
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
    // Kysely looks for its migration tables in every schema unless told one: a store in another
    // schema of the same database would make it skip creating them here. Name ours.
    const tableSchema =
      schema ??
      (this.backend === 'postgres'
        ? (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]?.name
        : undefined);
    const migrator = new Migrator({
      db,
      provider: storeMigrations(this.backend),
      migrationTableName: 'fsm_migrations',
      migrationLockTableName: 'fsm_migrations_lock',
      ...(tableSchema ? { migrationTableSchema: tableSchema } : {}),
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
    const row = historyRow(history);
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
        .select(HISTORY_COLUMNS)
        .where('execution_id', '=', executionId)
        .executeTakeFirst();
      return row ? ExecutionHistory.fromJSON(historyData(row)) : undefined;
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
      const log = await this.db
        .selectFrom('fsm_step_log')
        .select(['seq', 'fsm', 'body'])
        .where('execution_id', '=', executionId)
        .orderBy('seq')
        .execute();
      if (log.length > 0) return assembleStepLog(log.map((row) => stepEntry(executionId, row)));
      const row = await this.db
        .selectFrom('fsm_checkpoints')
        .select('body')
        .where('execution_id', '=', executionId)
        .executeTakeFirst();
      return row ? (JSON.parse(row.body) as ExecutionSnapshot) : undefined;
    });
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    const [log, checkpoint] = await this.run('deleteCheckpoint', () =>
      Promise.all([
        this.db.deleteFrom('fsm_step_log').where('execution_id', '=', executionId).executeTakeFirst(),
        this.db.deleteFrom('fsm_checkpoints').where('execution_id', '=', executionId).executeTakeFirst(),
      ]),
    );
    return log.numDeletedRows > 0n || checkpoint.numDeletedRows > 0n;
  }

  async listCheckpoints(prefix: string): Promise<string[]> {
    // substr counts characters in both dialects; a LIKE pattern would need the prefix escaped.
    const length = [...prefix].length;
    return this.run('listCheckpoints', async () => {
      const ids = new Set<string>();
      for (const table of ['fsm_step_log', 'fsm_checkpoints'] as const) {
        const rows = await this.db
          .selectFrom(table)
          .select('execution_id')
          .distinct()
          .where(sql<string>`substr(execution_id, 1, ${length})`, '=', prefix)
          .execute();
        for (const row of rows) ids.add(row.execution_id);
      }
      return [...ids];
    });
  }

  // The record waits for these promises, so its entry and history are serialized when the group
  // commits (see writeRows), not copied now; a value JSON cannot hold fails this record, not its group.
  appendStep(entry: StepLogEntry): Promise<void> {
    if (this.closed)
      return Promise.reject(new MisuseError(`${this.backend} store is closed; cannot appendStep`));
    return this.writer.submit({ kind: 'step', entry });
  }

  finishExecution(finished: FinishedExecution): Promise<void> {
    if (this.closed)
      return Promise.reject(new MisuseError(`${this.backend} store is closed; cannot finishExecution`));
    return this.writer.submit({ kind: 'finish', finished });
  }

  /** One transaction for a group of step-log writes: rows first, then the logs of finished executions go. */
  private async commitGroup(ops: WriteRows[]): Promise<void> {
    try {
      await this.groupWriter.write(ops);
    } catch (error) {
      throw new StorageError(this.backend, 'commit', describe(error), { cause: error });
    }
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
    const items: BatchItemRecord[] = [];
    for await (const item of this.streamBatchItems(batchId)) items.push(item);
    return items;
  }

  /** Items saved as rows of their own and items kept in their histories, merged in index order. */
  async *streamBatchItems(batchId: string): AsyncIterable<BatchItemRecord> {
    yield* mergeByItemIndex(this.itemRows(batchId), this.itemsInHistories(batchId));
  }

  private itemRows(batchId: string): AsyncGenerator<BatchItemRecord> {
    return this.pageItems(
      (after) =>
        this.db
          .selectFrom('fsm_batch_items')
          .select(['item_index', 'execution_id', 'success', 'body'])
          .where('batch_id', '=', batchId)
          .where('item_index', '>', after)
          .orderBy('item_index')
          .limit(ITEM_PAGE)
          .execute(),
      (row) => ({
        itemIndex: Number(row.item_index),
        executionId: row.execution_id,
        success: Number(row.success) === 1,
        result: JSON.parse(row.body) as unknown,
      }),
    );
  }

  private itemsInHistories(batchId: string): AsyncGenerator<BatchItemRecord> {
    return this.pageItems(
      (after) =>
        this.db
          .selectFrom('fsm_histories')
          .select(HISTORY_ROW_COLUMNS)
          .where('batch_id', '=', batchId)
          .where('item_ms', 'is not', null)
          .where('item_index', '>', after)
          .orderBy('item_index')
          .limit(ITEM_PAGE)
          .execute(),
      (row) => {
        const history = historyData(row);
        // Packed: the steps stay packed, only the output's path is put back when the body left it out.
        const output = storedOutput(history);
        if (output !== undefined) history.output = output;
        if (!isFinishedHistory(history)) {
          throw new FsmError(
            'SNAPSHOT_INVALID',
            `history "${row.execution_id}" is marked as batch item ${String(row.item_index)} of "${batchId}" but did not finish`,
          );
        }
        return {
          itemIndex: Number(row.item_index),
          executionId: row.execution_id,
          success: history.status === 'succeeded',
          result: resultOfHistory(history, Number(row.item_ms)),
        };
      },
    );
  }

  /** A batch's items in index order, `ITEM_PAGE` rows per round trip (constant memory on resume). */
  private async *pageItems<Row>(
    fetchAfter: (itemIndex: number) => Promise<Row[]>,
    toItem: (row: Row) => BatchItemRecord,
  ): AsyncGenerator<BatchItemRecord> {
    let after = -1;
    for (;;) {
      const position = after;
      const rows = await this.run('streamBatchItems', () => fetchAfter(position));
      for (const row of rows) {
        let item: BatchItemRecord;
        try {
          item = toItem(row);
        } catch (error) {
          // A row that cannot be read back (corrupt JSON, an unfinished history) names the operation.
          throw new StorageError(this.backend, 'streamBatchItems', describe(error), { cause: error });
        }
        after = item.itemIndex;
        yield item;
      }
      if (rows.length < ITEM_PAGE) return;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already submitted are committed (or fail to their callers) before the connection goes;
    // the connection goes even when the group writer fails to close, and both failures are reported.
    await this.writer.drain();
    await runCleanups(`closing the ${this.backend} store failed`, [
      () => this.groupWriter.close?.(),
      () => this.db.destroy(),
    ]);
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

/** A write's rows; what JSON cannot hold is a `DataError` naming the execution. */
function writeRows(op: WriteOp): WriteRows {
  if (op.kind === 'step') {
    const { entry } = op;
    try {
      return {
        kind: 'step',
        row: { execution_id: entry.executionId, seq: entry.seq, fsm: entry.fsm, body: stepBody(entry) },
      };
    } catch (error) {
      throw notSerializable(entry.executionId, 'step', error);
    }
  }
  const { finished } = op;
  try {
    const { history, batchItem } = finished;
    // The item as a mark on its history row (its result is rebuilt from the history when read).
    const inHistory =
      finished.itemInHistory === true &&
      history !== undefined &&
      batchItem !== undefined &&
      history.batchId === batchItem.batchId &&
      history.itemIndex === batchItem.itemIndex;
    const item = inHistory ? undefined : batchItem;
    return {
      kind: 'finish',
      executionId: finished.executionId,
      history: history ? historyRow(history, inHistory ? itemDuration(batchItem) : null) : undefined,
      item: item
        ? {
            batch_id: item.batchId,
            item_index: item.itemIndex,
            execution_id: item.executionId,
            success: item.success ? 1 : 0,
            body: JSON.stringify(item.result),
          }
        : undefined,
      checkpointed: finished.checkpointed !== false,
    };
  } catch (error) {
    throw notSerializable(finished.executionId, 'history', error);
  }
}

function historyRow(history: ExecutionHistory, itemMs?: number | null): HistoryRow {
  // Packed (step times relative, unchanged step data not repeated), without what the columns hold.
  const body = JSON.stringify(packHistoryBody(history));
  const row: HistoryRow = {
    execution_id: history.executionId,
    fsm: history.fsm,
    status: history.status,
    started_at: history.startedAt,
    ended_at: history.endedAt ?? null,
    batch_id: history.batchId ?? null,
    item_index: history.itemIndex ?? null,
    body,
  };
  // Only finishing sets the mark (null: not an item); `save()` leaves a row's mark as it is.
  if (itemMs !== undefined) row.item_ms = itemMs;
  return row;
}

/** A stored history as `ExecutionHistory.fromJSON` takes it: the body, with the columns put back. */
function historyData(row: Pick<HistoryRow, (typeof HISTORY_COLUMNS)[number]>): ExecutionHistoryData {
  // Packed or plain (rows written before packing): `fromJSON` tells them apart and checks the shape.
  const parsed: unknown = JSON.parse(row.body);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `history "${row.execution_id}" is stored as something other than a JSON object`,
    );
  }
  const data = parsed as ExecutionHistoryData;
  data.executionId = row.execution_id;
  data.fsm = row.fsm;
  data.status = row.status as ExecutionHistoryData['status'];
  data.startedAt = Number(row.started_at);
  if (row.ended_at !== null) data.endedAt = Number(row.ended_at);
  if (row.batch_id !== null) data.batchId = row.batch_id;
  if (row.item_index !== null) data.itemIndex = Number(row.item_index);
  return data;
}

function itemDuration(item: FinishedExecution['batchItem']): number {
  const durationMs = (item?.result as { durationMs?: unknown } | undefined)?.durationMs;
  return typeof durationMs === 'number' && Number.isFinite(durationMs) ? durationMs : 0;
}

/** The row body of a step-log entry: what the ids and seq columns do not already hold. */
function stepBody(entry: StepLogEntry): string {
  return JSON.stringify(
    entry.steps ? { snapshot: entry.snapshot, steps: entry.steps } : { snapshot: entry.snapshot },
  );
}

function stepEntry(
  executionId: string,
  row: { seq: number | string; fsm: string; body: string },
): StepLogEntry {
  const body = JSON.parse(row.body) as Pick<StepLogEntry, 'snapshot' | 'steps'>;
  const entry: StepLogEntry = { executionId, fsm: row.fsm, seq: Number(row.seq), snapshot: body.snapshot };
  if (body.steps) entry.steps = body.steps;
  return entry;
}

function notSerializable(executionId: string, what: string, error: unknown): DataError {
  return new DataError(
    `execution "${executionId}": its ${what} cannot be stored as JSON: ${describe(error)}`,
    {
      cause: error,
    },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
