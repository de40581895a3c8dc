import {
  type BatchItemRecord,
  type CheckpointStore,
  ExecutionHistory,
  type ExecutionSnapshot,
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  StorageError,
} from '@fsm/core';
import { Redis } from 'ioredis';

export interface RedisHistoryStoreOptions {
  /** `redis://127.0.0.1:6379/0`, or a client you own (then `close()` leaves it open). */
  url?: string;
  client?: Redis;
  /** Key prefix, so several stores share one database (default `fsm:`). */
  prefix?: string;
  /** Histories expire this long after they are saved (retention by TTL). */
  ttlSeconds?: number;
}

type Position = { startedAt: number; executionId: string };

const newestFirst = (a: Position, b: Position) =>
  a.startedAt !== b.startedAt
    ? b.startedAt - a.startedAt
    : a.executionId < b.executionId
      ? 1
      : a.executionId > b.executionId
        ? -1
        : 0;
const toMs = (v: Date | number) => (v instanceof Date ? v.getTime() : v);
const cursorOf = (p: Position) =>
  Buffer.from(JSON.stringify([p.startedAt, p.executionId])).toString('base64url');

/**
 * A `HistoryStore` and `CheckpointStore` on Redis, written the way a third party would: it depends on
 * `@fsm/core` only for types and errors. Histories are JSON strings (with a TTL when `ttlSeconds` is set),
 * summaries live in a hash, and a sorted set by start time indexes them for `query`.
 */
export class RedisHistoryStore implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(private readonly options: RedisHistoryStoreOptions = {}) {
    this.redis =
      options.client ??
      new Redis(options.url ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.owned = options.client === undefined;
    this.prefix = options.prefix ?? 'fsm:';
  }

  private key(kind: string, id = ''): string {
    return `${this.prefix}${kind}${id ? `:${id}` : ''}`;
  }

  async save(history: ExecutionHistory): Promise<void> {
    const data = history.toJSON();
    const summary: HistorySummary = {
      executionId: data.executionId,
      fsm: data.fsm,
      status: data.status,
      startedAt: data.startedAt,
    };
    if (data.endedAt !== undefined) summary.endedAt = data.endedAt;
    const multi = this.redis.multi();
    if (this.options.ttlSeconds)
      multi.set(this.key('h', data.executionId), JSON.stringify(data), 'EX', this.options.ttlSeconds);
    else multi.set(this.key('h', data.executionId), JSON.stringify(data));
    multi.hset(this.key('sum'), data.executionId, JSON.stringify(summary));
    multi.zadd(this.key('idx'), data.startedAt, data.executionId);
    await this.run('save', () => multi.exec());
  }

  async load(executionId: string): Promise<ExecutionHistory | undefined> {
    return this.run('load', async () => {
      const json = await this.redis.get(this.key('h', executionId));
      return json === null ? undefined : ExecutionHistory.fromJSON(json);
    });
  }

  async *query(filter: HistoryQuery = {}): AsyncIterable<HistorySummary> {
    const max = filter.until !== undefined ? `(${toMs(filter.until)}` : '+inf';
    const min = filter.since !== undefined ? String(toMs(filter.since)) : '-inf';
    const ids = await this.run('query', () => this.redis.zrevrangebyscore(this.key('idx'), max, min));
    if (ids.length === 0) return;
    const raw = await this.run('query', () => this.redis.hmget(this.key('sum'), ...ids));
    const after = filter.cursor
      ? (JSON.parse(Buffer.from(filter.cursor, 'base64url').toString()) as [number, string])
      : undefined;
    const expired: string[] = [];
    const selected: HistorySummary[] = [];
    for (const [i, json] of raw.entries()) {
      if (json === null) continue;
      const s = JSON.parse(json) as HistorySummary;
      if (filter.fsm !== undefined && s.fsm !== filter.fsm) continue;
      if (filter.status !== undefined && s.status !== filter.status) continue;
      if (after && newestFirst({ startedAt: after[0], executionId: after[1] }, s) >= 0) continue;
      if (this.options.ttlSeconds && (await this.redis.exists(this.key('h', ids[i] as string))) === 0) {
        expired.push(s.executionId);
        continue;
      }
      selected.push({ ...s, cursor: cursorOf(s) });
    }
    // Histories that expired by TTL leave their index entries behind; drop them as they are found.
    if (expired.length > 0) await this.removeIndex(expired);
    selected.sort(newestFirst);
    yield* filter.limit === undefined ? selected : selected.slice(0, filter.limit);
  }

  async delete(executionId: string): Promise<boolean> {
    const removed = await this.run('delete', () => this.redis.del(this.key('h', executionId)));
    const indexed = await this.run('delete', () => this.redis.hdel(this.key('sum'), executionId));
    await this.removeIndex([executionId]);
    return removed + indexed > 0;
  }

  async deleteOlderThan(cutoff: Date | number): Promise<number> {
    const limit = toMs(cutoff);
    const all = await this.run('deleteOlderThan', () => this.redis.hgetall(this.key('sum')));
    const old = Object.values(all)
      .map((json) => JSON.parse(json) as HistorySummary)
      .filter((s) => s.status !== 'running' && s.endedAt !== undefined && s.endedAt < limit);
    for (const s of old) await this.delete(s.executionId);
    return old.length;
  }

  async saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void> {
    await this.run('saveCheckpoint', () =>
      this.redis.set(this.key('cp', snapshot.executionId), JSON.stringify(snapshot)),
    );
  }

  async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined> {
    const json = await this.run('loadCheckpoint', () => this.redis.get(this.key('cp', executionId)));
    return json === null ? undefined : (JSON.parse(json) as ExecutionSnapshot);
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    return (await this.run('deleteCheckpoint', () => this.redis.del(this.key('cp', executionId)))) > 0;
  }

  async saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void> {
    if (items.length === 0) return;
    const fields = items.flatMap((item) => [String(item.itemIndex), JSON.stringify(item)]);
    await this.run('saveBatchItems', () => this.redis.hset(this.key('b', batchId), ...fields));
  }

  async loadBatchItems(batchId: string): Promise<BatchItemRecord[]> {
    const all = await this.run('loadBatchItems', () => this.redis.hgetall(this.key('b', batchId)));
    return Object.values(all)
      .map((json) => JSON.parse(json) as BatchItemRecord)
      .sort((a, b) => a.itemIndex - b.itemIndex);
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit();
  }

  private async removeIndex(ids: string[]): Promise<void> {
    await this.run('index', () => this.redis.zrem(this.key('idx'), ...ids));
    await this.run('index', () => this.redis.hdel(this.key('sum'), ...ids));
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new StorageError('redis', operation, (error as Error).message, { cause: error });
    }
  }
}
