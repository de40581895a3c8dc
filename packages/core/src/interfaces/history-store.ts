import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistoryQuery, HistorySummary } from '../history/types.js';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import type { ExecutionFilter, ExecutionSearch, ExecutionSearchPage, FlowSummary } from '../history/flow-summary.js';

/** Saves and finds execution histories. Implemented by `@fsm/storage` backends and third parties. */
export interface HistoryStore {
  readonly specificationVersion: 'v1';
  /** Inserts or replaces the history with the same executionId. */
  save(history: ExecutionHistory): Promise<void>;
  /** The history, or `undefined` when there is none. */
  load(executionId: string): Promise<ExecutionHistory | undefined>;
  /** Summaries, newest first (`startedAt` descending, then executionId), honouring limit and cursor. */
  query(filter?: HistoryQuery): AsyncIterable<HistorySummary>;
  /** `true` when something was deleted. */
  delete(executionId: string): Promise<boolean>;
  /** Deletes executions that ended before `cutoff`; returns how many. */
  deleteOlderThan?(cutoff: Date | number): Promise<number>;
  /**
   * Optional: arcs taken, state visits, failures and mean times over the matching executions, aggregated
   * by the store (SQL) so a million executions never leave the database. Fallback: `scanFlowSummary`.
   */
  summarizeFlow?(filter?: ExecutionFilter): Promise<FlowSummary>;
  /** Optional: one page of matching executions (newest first) and the filter's counts by status. */
  findExecutions?(search?: ExecutionSearch): Promise<ExecutionSearchPage>;
  close(): Promise<void>;
}

/** A record's outcome inside a batch, kept so a resumed batch skips it. */
export interface BatchItemRecord {
  itemIndex: number;
  executionId: string;
  success: boolean;
  /** The result as the batch returned it (JSON). */
  result: unknown;
}

/**
 * Durable execution: stores snapshots of running executions and the finished items of batches.
 * A store that implements it next to `HistoryStore` lets `resume(executionId)` / `resume(batchId)` work.
 * Each call is atomic (one transaction).
 */
export interface CheckpointStore {
  readonly specificationVersion: 'v1';
  saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void>;
  loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined>;
  deleteCheckpoint(executionId: string): Promise<boolean>;
  /** Records finished batch items (idempotent per batchId + itemIndex). */
  saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void>;
  loadBatchItems(batchId: string): Promise<BatchItemRecord[]>;
}

export function isCheckpointStore(value: unknown): value is CheckpointStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CheckpointStore).saveCheckpoint === 'function' &&
    typeof (value as CheckpointStore).loadCheckpoint === 'function'
  );
}
