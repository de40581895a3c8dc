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
