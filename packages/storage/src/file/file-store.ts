import { join } from 'node:path';
import {
  type BatchItemRecord,
  type CheckpointStore,
  type ExecutionFilter,
  ExecutionHistory,
  type ExecutionHistoryData,
  type ExecutionSearch,
  type ExecutionSearchPage,
  type ExecutionSnapshot,
  type FlowSummary,
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  MisuseError,
  StorageError,
  scanExecutions,
  scanFlowSummary,
} from '@fsm/core';
import { isExpired, selectSummaries, summarize, toMillis } from '../shared/summaries.js';
import { JsonlLog } from './jsonl-log.js';
import { makeDirs } from './make-dirs.js';

export interface FileStoreOptions {
  /** Folder of the JSONL logs (created when missing). One process writes it at a time. */
  directory: string;
  /** fsync every write: survives power loss as well as a crash (default false). */
  fsync?: boolean;
}

const batchKey = (batchId: string, itemIndex: number) => `${batchId}\u0000${itemIndex}`;

/**
 * Histories, checkpoints and batch items as append-only JSONL logs in a folder: easy to read with
 * `jq`, crash-safe (a torn last line is cut off on open), compacted when half of a log is garbage.
 */
export class FileStore implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  private readonly summaries = new Map<string, HistorySummary>();
  private readonly batchIndexes = new Map<string, Set<number>>();
  private closed = false;

  private constructor(
    private readonly histories: JsonlLog,
    private readonly checkpoints: JsonlLog,
    private readonly batchItems: JsonlLog,
  ) {}

  static async open(options: FileStoreOptions): Promise<FileStore> {
    const logOptions = { fsync: options.fsync ?? false };
    try {
      makeDirs(options.directory);
      const summaries: HistorySummary[] = [];
      const batchKeys: string[] = [];
      const histories = await JsonlLog.open(join(options.directory, 'histories.jsonl'), {
        ...logOptions,
        onReplay: (_key, value) => summaries.push(summarize(value as ExecutionHistoryData)),
      });
      const checkpoints = await JsonlLog.open(join(options.directory, 'checkpoints.jsonl'), logOptions);
      const batchItems = await JsonlLog.open(join(options.directory, 'batch-items.jsonl'), {
        ...logOptions,
        onReplay: (key) => batchKeys.push(key),
      });
      const store = new FileStore(histories, checkpoints, batchItems);
      for (const summary of summaries) store.summaries.set(summary.executionId, summary);
      for (const key of batchKeys) store.indexBatchItem(key);
      await Promise.all([histories.compactIfWasteful(), checkpoints.compactIfWasteful()]);
      return store;
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(
        'file',
        'open',
        `cannot open ${options.directory}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async save(history: ExecutionHistory): Promise<void> {
    const data = history.toJSON();
    await this.run('save', () => this.histories.put(data.executionId, data));
    this.summaries.set(data.executionId, summarize(data));
  }

  async load(executionId: string): Promise<ExecutionHistory | undefined> {
    const value = await this.run('load', () => this.histories.get(executionId));
    return value === undefined ? undefined : ExecutionHistory.fromJSON(value as ExecutionHistoryData);
  }

  async *query(filter?: HistoryQuery): AsyncIterable<HistorySummary> {
    this.assertOpen('query');
    yield* selectSummaries('file', this.summaries.values(), filter);
  }

  async summarizeFlow(filter?: ExecutionFilter): Promise<FlowSummary> {
    this.assertOpen('summarizeFlow');
    return scanFlowSummary(this.all(), filter);
  }

  async findExecutions(search?: ExecutionSearch): Promise<ExecutionSearchPage> {
    this.assertOpen('findExecutions');
    return scanExecutions(this.all(), search);
  }

  /** Every history, read one at a time from the log (the in-memory fallback of the SQL aggregation). */
  private async *all(): AsyncGenerator<ExecutionHistoryData> {
    for (const id of [...this.summaries.keys()]) {
      const value = await this.run('read', () => this.histories.get(id));
      if (value !== undefined) yield value as ExecutionHistoryData;
    }
  }

  async delete(executionId: string): Promise<boolean> {
    const deleted = await this.run('delete', () => this.histories.delete(executionId));
    this.summaries.delete(executionId);
    return deleted;
  }

  async deleteOlderThan(cutoff: Date | number): Promise<number> {
    const limit = toMillis(cutoff);
    const expired = [...this.summaries.values()].filter((s) => isExpired(s, limit));
    for (const summary of expired) await this.delete(summary.executionId);
    await this.run('deleteOlderThan', () => this.histories.compactIfWasteful());
    return expired.length;
  }

  async saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void> {
    await this.run('saveCheckpoint', () => this.checkpoints.put(snapshot.executionId, snapshot));
  }

  async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined> {
    return (await this.run('loadCheckpoint', () => this.checkpoints.get(executionId))) as
      | ExecutionSnapshot
      | undefined;
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    return this.run('deleteCheckpoint', () => this.checkpoints.delete(executionId));
  }

  async saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void> {
    for (const item of items) {
      const key = batchKey(batchId, item.itemIndex);
      await this.run('saveBatchItems', () => this.batchItems.put(key, item));
      this.indexBatchItem(key);
    }
  }

  async loadBatchItems(batchId: string): Promise<BatchItemRecord[]> {
    const indexes = [...(this.batchIndexes.get(batchId) ?? [])].sort((a, b) => a - b);
    const items: BatchItemRecord[] = [];
    for (const index of indexes)
      items.push(
        (await this.run('loadBatchItems', () =>
          this.batchItems.get(batchKey(batchId, index)),
        )) as BatchItemRecord,
      );
    return items;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled([
      this.histories.close(),
      this.checkpoints.close(),
      this.batchItems.close(),
    ]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'closing the file store failed');
  }

  private indexBatchItem(key: string): void {
    const separator = key.lastIndexOf('\u0000');
    const batchId = key.slice(0, separator);
    const index = Number(key.slice(separator + 1));
    let set = this.batchIndexes.get(batchId);
    if (!set) {
      set = new Set();
      this.batchIndexes.set(batchId, set);
    }
    set.add(index);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new MisuseError(`file store is closed; cannot ${operation}`);
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    this.assertOpen(operation);
    try {
      return await work();
    } catch (error) {
      throw new StorageError('file', operation, (error as Error).message, { cause: error });
    }
  }
}
