import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistoryQuery, HistoryStep, HistorySummary } from '../history/types.js';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import type {
  ExecutionFilter,
  ExecutionSearch,
  ExecutionSearchPage,
  FlowSummary,
} from '../history/flow-summary.js';

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
  /**
   * Optional: one page of matching executions (newest first) and the filter's counts by status. A data-field
   * search may read only `scanLimit` histories for each (then `countsExact: false`). Fallback: `scanExecutions`.
   */
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
  /** The latest checkpoint, from `saveCheckpoint` or (in a `StepLogStore`) assembled from the step log. */
  loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined>;
  /** Deletes the checkpoint and, in a `StepLogStore`, every step-log entry of the execution. */
  deleteCheckpoint(executionId: string): Promise<boolean>;
  /** Records finished batch items (idempotent per batchId + itemIndex). */
  saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void>;
  loadBatchItems(batchId: string): Promise<BatchItemRecord[]>;
}

/** A history step without its sub-network steps, and the index of its parent step (-1 at the top). */
export interface FlatStep {
  parent: number;
  step: Omit<HistoryStep, 'children'>;
}

/**
 * Where an execution is, as a step-log entry holds it: a snapshot without `steps`. The first entry a
 * process writes for an execution is whole; later ones may leave out what did not change (`version`,
 * `fsm`, `executionId`, `startedAt`, `batch`, `metadata`, `stack`, `variables`) and hold `path` from
 * index `pathFrom` on. `assembleStepLog` applies them in order.
 */
export type StepSnapshot = Partial<Omit<ExecutionSnapshot, 'steps'>> &
  Pick<ExecutionSnapshot, 'network' | 'state' | 'phase' | 'data' | 'transitions' | 'path'> & {
    pathFrom?: number;
  };

/**
 * One progress row of a running execution: where it is, and the history steps entered or changed
 * since the previous row — flat, in the order they were entered, replacing the steps from index
 * `from` on. Appending it costs what the step added, not the history so far. The entry's objects are
 * the execution's own (not copies): a store serializes them before its promise resolves.
 */
export interface StepLogEntry {
  executionId: string;
  fsm: string;
  /** Rises with every entry of an execution; the highest is the current checkpoint. */
  seq: number;
  snapshot: StepSnapshot;
  steps?: { from: number; entries: FlatStep[] };
}

/** What finishing a record writes, atomically: its history, its batch item, and the end of its step log. */
export interface FinishedExecution {
  executionId: string;
  history?: ExecutionHistory;
  batchItem?: BatchItemRecord & { batchId: string };
  /**
   * `false` when the execution never had a checkpoint or step-log row (a fresh id, none written): the
   * store may skip deleting them. Absent means "may have one", and the store deletes.
   */
  checkpointed?: boolean;
  /**
   * `true` when `batchItem.result` is `resultOfHistory(history, durationMs)` (the history is the item's
   * own, finished). A store may then keep the item as a mark on the history row (its `durationMs`)
   * instead of a second copy of the record's data, and rebuild the result when the batch's items are read;
   * such an item lives as long as its history (deleting the history forgets the item too).
   */
  itemInHistory?: boolean;
}

/**
 * Optional capability of a `CheckpointStore`: an append-only step log. `appendStep` and
 * `finishExecution` of concurrent records may be committed together (group commit); each promise
 * resolves once its own write is durable. Stores without it get full snapshots via `saveCheckpoint`.
 */
export interface StepLogStore extends CheckpointStore {
  appendStep(entry: StepLogEntry): Promise<void>;
  /** Saves the history and the batch item (when given) and deletes the checkpoint and step log, in one transaction. */
  finishExecution(finished: FinishedExecution): Promise<void>;
  /** Ids of the executions with a checkpoint or step log whose id starts with `prefix` (a batch's in-flight items). */
  listCheckpoints?(prefix: string): Promise<string[]>;
  /** The batch's finished items in index order, read page by page (constant memory on resume). */
  streamBatchItems?(batchId: string): AsyncIterable<BatchItemRecord>;
}

export function isCheckpointStore(value: unknown): value is CheckpointStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CheckpointStore).saveCheckpoint === 'function' &&
    typeof (value as CheckpointStore).loadCheckpoint === 'function'
  );
}

export function isStepLogStore(value: unknown): value is StepLogStore {
  return (
    isCheckpointStore(value) &&
    typeof (value as StepLogStore).appendStep === 'function' &&
    typeof (value as StepLogStore).finishExecution === 'function'
  );
}
