// Runs in two places: in the store's thread (a `:memory:` database) and as the body of the SQLite
// writer thread (see writer-thread.ts). So: no runtime imports but Node's; types only from elsewhere.
import { createRequire } from 'node:module';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { WriteRows } from '../sql/write-rows.js';

/** The part of a better-sqlite3 `Database` the writes use: statements prepared once, sync transactions. */
export interface SqliteHandle {
  prepare(source: string): { run(...params: unknown[]): unknown };
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
}

/** What the writer thread is started with. */
export interface WriterThreadData {
  role: typeof ROLE;
  filename: string;
  /** Run on the thread's connection after opening (busy timeout, synchronous, WAL sizes). */
  pragmas: string[];
  /** Resolved by the store's thread, so the worker loads the same better-sqlite3. */
  driver: string;
}

export type WriterRequest = { id: number; rows: WriteRows[] } | { close: true };
export type WriterReply = { id: number; error?: { message: string; code?: string } };

export const ROLE = 'fsm-sqlite-writer';

/** The statements prepared once; each call writes a group of rows in one immediate transaction. */
export function prepareSqliteWrite(database: SqliteHandle): (rows: WriteRows[]) => void {
  const insertStep = database.prepare(
    'insert into fsm_step_log (execution_id, seq, fsm, body) values (?, ?, ?, ?) on conflict (execution_id, seq) do update set fsm = excluded.fsm, body = excluded.body',
  );
  const upsertHistory = database.prepare(
    'insert into fsm_histories (execution_id, fsm, status, started_at, ended_at, batch_id, item_index, body) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (execution_id) do update set fsm = excluded.fsm, status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at, batch_id = excluded.batch_id, item_index = excluded.item_index, body = excluded.body',
  );
  const upsertItem = database.prepare(
    'insert into fsm_batch_items (batch_id, item_index, execution_id, success, body) values (?, ?, ?, ?, ?) on conflict (batch_id, item_index) do update set execution_id = excluded.execution_id, success = excluded.success, body = excluded.body',
  );
  const deleteLog = database.prepare('delete from fsm_step_log where execution_id = ?');
  const deleteCheckpoint = database.prepare('delete from fsm_checkpoints where execution_id = ?');
  const write = database.transaction((rows: WriteRows[]) => {
    for (const op of rows) {
      if (op.kind === 'step') {
        const { row } = op;
        insertStep.run(row.execution_id, row.seq, row.fsm, row.body);
        continue;
      }
      const h = op.history;
      if (h) {
        upsertHistory.run(
          h.execution_id,
          h.fsm,
          h.status,
          h.started_at,
          h.ended_at,
          h.batch_id,
          h.item_index,
          h.body,
        );
      }
      const item = op.item;
      if (item) upsertItem.run(item.batch_id, item.item_index, item.execution_id, item.success, item.body);
      if (!op.checkpointed) continue;
      deleteLog.run(op.executionId);
      deleteCheckpoint.run(op.executionId);
    }
  });
  return (rows) => write.immediate(rows);
}

/** The writer thread: opens its own connection, then commits each group it is sent and says how it went. */
function serveWrites(data: WriterThreadData): void {
  const port = parentPort;
  if (!port) return;
  type Database = SqliteHandle & { pragma(source: string): unknown; close(): void };
  const open = createRequire(import.meta.url)(data.driver) as new (filename: string) => Database;
  let database: Database | undefined;
  let write: ((rows: WriteRows[]) => void) | undefined;
  let openError: Error | undefined;
  try {
    database = new open(data.filename);
    for (const pragma of data.pragmas) database.pragma(pragma);
    write = prepareSqliteWrite(database);
  } catch (error) {
    openError = error as Error;
  }
  port.on('message', (request: WriterRequest) => {
    if ('close' in request) {
      database?.close();
      port.close();
      return;
    }
    try {
      if (!write) throw openError ?? new Error('the writer has no connection');
      write(request.rows);
      port.postMessage({ id: request.id } satisfies WriterReply);
    } catch (error) {
      const { message, code } = error as Error & { code?: string };
      port.postMessage({
        id: request.id,
        error: { message, ...(code ? { code } : {}) },
      } satisfies WriterReply);
    }
  });
}

if (!isMainThread && (workerData as Partial<WriterThreadData> | undefined)?.role === ROLE) {
  serveWrites(workerData as WriterThreadData);
}
