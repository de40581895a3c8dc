import type { BatchItemRow, HistoryRow, StepLogRow } from './schema.js';

/** One write of the step log as rows, serialized when its group commits. */
export type WriteRows =
  | { kind: 'step'; row: StepLogRow }
  | {
      kind: 'finish';
      executionId: string;
      history: HistoryRow | undefined;
      item: BatchItemRow | undefined;
      /** False when the execution never had a checkpoint: nothing to delete. */
      checkpointed: boolean;
    };

/** Commits a group of rows in one transaction (all or none); the SQL store's dialect-specific half. */
export interface GroupWriter {
  write(rows: WriteRows[]): Promise<void> | void;
  /** Releases what the writer holds of its own (after the last write, before the connection closes). */
  close?(): Promise<void>;
}

/** The columns a history is read back from (its body leaves out what they hold). */
export const HISTORY_COLUMNS = [
  'execution_id',
  'fsm',
  'status',
  'started_at',
  'ended_at',
  'batch_id',
  'item_index',
  'body',
] as const;

/** The columns the group writers insert a history into, in `historyValues` order: those and the item mark. */
export const HISTORY_ROW_COLUMNS = [...HISTORY_COLUMNS, 'item_ms'] as const;

/** The upsert of a history row: every column but the key, from the new row. */
const HISTORY_UPDATES = HISTORY_ROW_COLUMNS.filter((column) => column !== 'execution_id').map(
  (column) => `${column} = excluded.${column}`,
);
export const HISTORY_UPSERT = `on conflict (execution_id) do update set ${HISTORY_UPDATES.join(', ')}`;

/** The step log's columns and upsert, as both group writers insert a step row. */
export const STEP_COLUMNS = ['execution_id', 'seq', 'fsm', 'body'] as const;
export const STEP_UPSERT =
  'on conflict (execution_id, seq) do update set fsm = excluded.fsm, body = excluded.body';

/** A batch item's columns and upsert, as both group writers insert an item row. */
export const ITEM_COLUMNS = ['batch_id', 'item_index', 'execution_id', 'success', 'body'] as const;
export const ITEM_UPSERT =
  'on conflict (batch_id, item_index) do update set execution_id = excluded.execution_id, success = excluded.success, body = excluded.body';

/** A history row's values in `HISTORY_ROW_COLUMNS` order (`item_ms` null when the row is no batch item's mark). */
export function historyValues(row: HistoryRow): unknown[] {
  return [
    row.execution_id,
    row.fsm,
    row.status,
    row.started_at,
    row.ended_at,
    row.batch_id,
    row.item_index,
    row.body,
    row.item_ms ?? null,
  ];
}
