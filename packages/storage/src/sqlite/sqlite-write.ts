import {
  type GroupWriter,
  HISTORY_ROW_COLUMNS,
  HISTORY_UPSERT,
  historyValues,
  ITEM_COLUMNS,
  ITEM_UPSERT,
  STEP_COLUMNS,
  STEP_UPSERT,
  type WriteRows,
} from '../sql/write-rows.js';
import type { WalFlusher } from '@fsm/core';

/** The part of a better-sqlite3 `Database` the writes use: statements prepared once, sync transactions. */
export interface SqliteHandle {
  prepare(source: string): { run(...params: unknown[]): unknown };
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
}

/** The statements prepared once; each call writes a group of rows in one immediate transaction. */
export function prepareSqliteWrite(database: SqliteHandle): (rows: WriteRows[]) => void {
  const insert = (table: string, columns: readonly string[], upsert: string) =>
    database.prepare(
      `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')}) ${upsert}`,
    );
  const insertStep = insert('fsm_step_log', STEP_COLUMNS, STEP_UPSERT);
  const upsertHistory = insert('fsm_histories', HISTORY_ROW_COLUMNS, HISTORY_UPSERT);
  const upsertItem = insert('fsm_batch_items', ITEM_COLUMNS, ITEM_UPSERT);
  const deleteLog = database.prepare('delete from fsm_step_log where execution_id = ?');
  const deleteCheckpoint = database.prepare('delete from fsm_checkpoints where execution_id = ?');
  const write = database.transaction((rows: WriteRows[]) => {
    for (const op of rows) {
      if (op.kind === 'step') {
        const { row } = op;
        insertStep.run(row.execution_id, row.seq, row.fsm, row.body);
        continue;
      }
      // An array binds the `?`s in order, without spreading the values into arguments.
      if (op.history) upsertHistory.run(historyValues(op.history));
      const item = op.item;
      if (item) upsertItem.run(item.batch_id, item.item_index, item.execution_id, item.success, item.body);
      if (!op.checkpointed) continue;
      deleteLog.run(op.executionId);
      deleteCheckpoint.run(op.executionId);
    }
  });
  return (rows) => write.immediate(rows);
}

/**
 * The SQLite store's group writer: statements prepared on first use (after the migrations made the
 * tables), run on the store's connection; after each commit the WAL may be flushed in the background
 * (`WalFlusher`). (A writer thread with its own connection was measured slower on bench W9: posting the
 * rows and waiting for the reply cost more than the commit saved.)
 */
export function sqliteGroupWriter(database: SqliteHandle, flusher?: WalFlusher): GroupWriter {
  let write: ((rows: WriteRows[]) => void) | undefined;
  return {
    write: (rows) => {
      flusher?.check();
      write ??= prepareSqliteWrite(database);
      write(rows);
      flusher?.wrote();
    },
    close: async () => {
      await flusher?.close();
    },
  };
}
