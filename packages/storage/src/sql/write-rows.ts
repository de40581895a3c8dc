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

/** The history table's columns in the order the group writers insert them (`historyValues`). */
export const HISTORY_ROW_COLUMNS = [
  'execution_id',
  'fsm',
  'status',
  'started_at',
  'ended_at',
  'batch_id',
  'item_index',
  'item_ms',
  'body',
] as const;

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
    row.item_ms ?? null,
    row.body,
  ];
}
