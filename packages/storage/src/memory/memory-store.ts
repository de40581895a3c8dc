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
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  MisuseError,
  scanExecutions,
  scanFlowSummary,
  type StepLogEntry,
  type StepLogStore,
} from '@fsm/core';
import { isExpired, selectSummaries, summarize, toMillis } from '../shared/summaries.js';

/**
 * Histories and checkpoints in this process's memory, kept as JSON text so what is loaded never
 * aliases what was saved — the same isolation a database gives. For tests and short-lived runs.
 */
export class MemoryStore implements HistoryStore, StepLogStore {
  readonly specificationVersion = 'v1' as const;
  private readonly histories = new Map<string, { json: string; summary: HistorySummary }>();
  private readonly checkpoints = new Map<string, string>();
  /** Step-log entries per execution, by seq. */
  private readonly stepLogs = new Map<string, Map<number, string>>();
  private readonly batches = new Map<string, Map<number, string>>();
  private closed = false;

  async save(history: ExecutionHistory): Promise<void> {
    this.assertOpen('save');
    const data = history.toJSON();
    this.histories.set(data.executionId, { json: JSON.stringify(data), summary: summarize(data) });
  }

  async load(executionId: string): Promise<ExecutionHistory | undefined> {
    this.assertOpen('load');
    const entry = this.histories.get(executionId);
    return entry ? ExecutionHistory.fromJSON(entry.json) : undefined;
  }

  async *query(filter?: HistoryQuery): AsyncIterable<HistorySummary> {
    this.assertOpen('query');
    const all = [...this.histories.values()].map((e) => e.summary);
    yield* selectSummaries('memory', all, filter);
  }

  async summarizeFlow(filter?: ExecutionFilter): Promise<FlowSummary> {
    this.assertOpen('summarizeFlow');
    return scanFlowSummary(this.parsed(), filter);
  }

  async findExecutions(search?: ExecutionSearch): Promise<ExecutionSearchPage> {
    this.assertOpen('findExecutions');
    return scanExecutions(this.parsed(), search);
  }

  private *parsed(): Generator<ExecutionHistoryData> {
    for (const entry of this.histories.values()) yield JSON.parse(entry.json) as ExecutionHistoryData;
  }

  async delete(executionId: string): Promise<boolean> {
    this.assertOpen('delete');
    return this.histories.delete(executionId);
  }

  async deleteOlderThan(cutoff: Date | number): Promise<number> {
    this.assertOpen('deleteOlderThan');
    const limit = toMillis(cutoff);
    let removed = 0;
    for (const [id, entry] of this.histories) {
      if (!isExpired(entry.summary, limit)) continue;
      this.histories.delete(id);
      removed++;
    }
    return removed;
  }

  async saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void> {
    this.assertOpen('saveCheckpoint');
    this.checkpoints.set(snapshot.executionId, JSON.stringify(snapshot));
  }

  async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined> {
    this.assertOpen('loadCheckpoint');
    const log = this.stepLogs.get(executionId);
    if (log && log.size > 0) {
      const entries = [...log.entries()].sort((a, b) => a[0] - b[0]).map(([, json]) => JSON.parse(json));
      return assembleStepLog(entries as StepLogEntry[]);
    }
    const json = this.checkpoints.get(executionId);
    return json === undefined ? undefined : (JSON.parse(json) as ExecutionSnapshot);
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    this.assertOpen('deleteCheckpoint');
    const log = this.stepLogs.delete(executionId);
    return this.checkpoints.delete(executionId) || log;
  }

  async listCheckpoints(prefix: string): Promise<string[]> {
    this.assertOpen('listCheckpoints');
    const ids = new Set<string>();
    for (const id of this.stepLogs.keys()) if (id.startsWith(prefix)) ids.add(id);
    for (const id of this.checkpoints.keys()) if (id.startsWith(prefix)) ids.add(id);
    return [...ids];
  }

  async appendStep(entry: StepLogEntry): Promise<void> {
    this.assertOpen('appendStep');
    let log = this.stepLogs.get(entry.executionId);
    if (!log) {
      log = new Map();
      this.stepLogs.set(entry.executionId, log);
    }
    log.set(entry.seq, toJson(entry, entry.executionId, 'step'));
  }

  async finishExecution(finished: FinishedExecution): Promise<void> {
    this.assertOpen('finishExecution');
    // Serialize everything before changing anything: all or nothing, like a transaction.
    const history = finished.history
      ? (JSON.parse(toJson(finished.history, finished.executionId, 'history')) as ExecutionHistoryData)
      : undefined;
    const item = finished.batchItem;
    const itemJson = item
      ? toJson(
          {
            itemIndex: item.itemIndex,
            executionId: item.executionId,
            success: item.success,
            result: item.result,
          },
          finished.executionId,
          'batch item',
        )
      : undefined;
    if (history)
      this.histories.set(history.executionId, { json: JSON.stringify(history), summary: summarize(history) });
    if (item && itemJson !== undefined) this.batchFor(item.batchId).set(item.itemIndex, itemJson);
    this.stepLogs.delete(finished.executionId);
    this.checkpoints.delete(finished.executionId);
  }

  async saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void> {
    this.assertOpen('saveBatchItems');
    const batch = this.batchFor(batchId);
    for (const item of items) batch.set(item.itemIndex, JSON.stringify(item));
  }

  private batchFor(batchId: string): Map<number, string> {
    let batch = this.batches.get(batchId);
    if (!batch) {
      batch = new Map();
      this.batches.set(batchId, batch);
    }
    return batch;
  }

  async loadBatchItems(batchId: string): Promise<BatchItemRecord[]> {
    this.assertOpen('loadBatchItems');
    const batch = this.batches.get(batchId);
    if (!batch) return [];
    return [...batch.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, json]) => JSON.parse(json) as BatchItemRecord);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new MisuseError(`memory store is closed; cannot ${operation}`);
  }
}

/** JSON text of what a record stored; a value JSON cannot hold is the record's DataError. */
function toJson(value: unknown, executionId: string, what: string): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new DataError(
      `execution "${executionId}": its ${what} cannot be stored as JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
