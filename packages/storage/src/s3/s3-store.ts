import {
  type BatchItemRecord,
  type CheckpointStore,
  ExecutionHistory,
  type ExecutionHistoryData,
  type ExecutionSnapshot,
  type HistoryQuery,
  type HistoryStore,
  type HistorySummary,
  MisuseError,
  StorageError,
} from '@fsm/core';
import type { S3Client } from '@aws-sdk/client-s3';
import { isExpired, selectSummaries, toMillis } from '../shared/summaries.js';
import { encodeCursor } from '../shared/cursor.js';

type S3Module = typeof import('@aws-sdk/client-s3');

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix, e.g. `prod/fsm/` (a trailing slash is added when missing). */
  prefix?: string;
  /** A configured client; otherwise one is made from `region`/`endpoint`/`credentials` or the environment. */
  client?: S3Client;
  region?: string;
  /** S3-compatible endpoint (MinIO, s3rver, R2); path-style addressing is used with it. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const enc = encodeURIComponent;
const MAX_TIME = 9_999_999_999_999;

/**
 * Histories in S3 (or any S3-compatible store) as one JSON object each, with a summary index encoded
 * in object keys (`summaries/<id>/<inverted start>/<status>/<fsm>/<end>`) so `query` needs only
 * listings, not a GET per execution. Listing is O(executions): right for archives and audit; use the
 * Postgres store for heavy querying.
 */
export class S3Store implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  private closed = false;

  private constructor(
    private readonly s3: S3Module,
    private readonly client: S3Client,
    private readonly ownsClient: boolean,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  static async open(options: S3StoreOptions): Promise<S3Store> {
    const s3 = await import('@aws-sdk/client-s3').catch((error: unknown) => {
      throw new StorageError('s3', 'open', 'the s3 backend needs the "@aws-sdk/client-s3" package', {
        cause: error,
      });
    });
    const client =
      options.client ??
      new s3.S3Client({
        region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    const raw = options.prefix ?? '';
    const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
    const store = new S3Store(s3, client, options.client === undefined, options.bucket, prefix);
    await store.run('open', () => client.send(new s3.HeadBucketCommand({ Bucket: options.bucket })));
    return store;
  }

  async save(history: ExecutionHistory): Promise<void> {
    const data = history.toJSON();
    const id = data.executionId;
    await this.put('save', `histories/${enc(id)}.json`, data);
    const summaryKey = `summaries/${enc(id)}/${String(MAX_TIME - data.startedAt).padStart(13, '0')}/${data.status}/${enc(data.fsm)}/${data.endedAt ?? '-'}`;
    await this.put('save', summaryKey, {});
    const stale = (await this.list('save', `summaries/${enc(id)}/`)).filter((k) => k !== summaryKey);
    await this.deleteKeys('save', stale);
  }

  async load(executionId: string): Promise<ExecutionHistory | undefined> {
    const data = await this.get('load', `histories/${enc(executionId)}.json`);
    return data === undefined ? undefined : ExecutionHistory.fromJSON(data as ExecutionHistoryData);
  }

  async *query(filter?: HistoryQuery): AsyncIterable<HistorySummary> {
    yield* selectSummaries('s3', await this.summaries('query'), filter);
  }

  async delete(executionId: string): Promise<boolean> {
    const keys = await this.list('delete', `summaries/${enc(executionId)}/`);
    if (keys.length === 0) return false;
    await this.deleteKeys('delete', [`histories/${enc(executionId)}.json`, ...keys]);
    return true;
  }

  async deleteOlderThan(cutoff: Date | number): Promise<number> {
    const limit = toMillis(cutoff);
    const expired = (await this.summaries('deleteOlderThan')).filter((s) => isExpired(s, limit));
    for (const summary of expired) await this.delete(summary.executionId);
    return expired.length;
  }

  async saveCheckpoint(snapshot: ExecutionSnapshot): Promise<void> {
    await this.put('saveCheckpoint', `checkpoints/${enc(snapshot.executionId)}.json`, snapshot);
  }

  async loadCheckpoint(executionId: string): Promise<ExecutionSnapshot | undefined> {
    return (await this.get('loadCheckpoint', `checkpoints/${enc(executionId)}.json`)) as
      | ExecutionSnapshot
      | undefined;
  }

  async deleteCheckpoint(executionId: string): Promise<boolean> {
    const key = `checkpoints/${enc(executionId)}.json`;
    if ((await this.list('deleteCheckpoint', key)).length === 0) return false;
    await this.deleteKeys('deleteCheckpoint', [key]);
    return true;
  }

  async saveBatchItems(batchId: string, items: BatchItemRecord[]): Promise<void> {
    await Promise.all(
      items.map((item) =>
        this.put(
          'saveBatchItems',
          `batches/${enc(batchId)}/${String(item.itemIndex).padStart(10, '0')}.json`,
          item,
        ),
      ),
    );
  }

  async loadBatchItems(batchId: string): Promise<BatchItemRecord[]> {
    const keys = await this.list('loadBatchItems', `batches/${enc(batchId)}/`);
    const items = await Promise.all(keys.map((key) => this.get('loadBatchItems', key, false)));
    return items as BatchItemRecord[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  private async summaries(operation: string): Promise<HistorySummary[]> {
    const keys = await this.list(operation, 'summaries/');
    return keys.map((key) => {
      const [, id = '', inverted = '0', status = '', fsm = '', ended = '-'] = key.split('/');
      const summary: HistorySummary = {
        executionId: decodeURIComponent(id),
        fsm: decodeURIComponent(fsm),
        status: status as HistorySummary['status'],
        startedAt: MAX_TIME - Number(inverted),
      };
      if (ended !== '-') summary.endedAt = Number(ended);
      summary.cursor = encodeCursor(summary);
      return summary;
    });
  }

  private async put(operation: string, key: string, value: unknown): Promise<void> {
    await this.run(operation, () =>
      this.client.send(
        new this.s3.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
        }),
      ),
    );
  }

  private async get(operation: string, key: string, missingIsUndefined = true): Promise<unknown> {
    return this.run(operation, async () => {
      try {
        const out = await this.client.send(
          new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
        );
        return JSON.parse((await out.Body?.transformToString('utf8')) ?? 'null') as unknown;
      } catch (error) {
        if (missingIsUndefined && error instanceof this.s3.NoSuchKey) return undefined;
        throw error;
      }
    });
  }

  /** Keys under `prefix` (relative to the store's prefix), in key order. */
  private async list(operation: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.run(operation, () =>
        this.client.send(
          new this.s3.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const object of page.Contents ?? [])
        if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async deleteKeys(operation: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const out = await this.run(operation, () =>
        this.client.send(
          new this.s3.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((key) => ({ Key: this.prefix + key })), Quiet: true },
          }),
        ),
      );
      if (out.Errors && out.Errors.length > 0) {
        const first = out.Errors[0];
        throw new StorageError(
          's3',
          operation,
          `${out.Errors.length} deletes failed, first ${first?.Key}: ${first?.Message}`,
        );
      }
    }
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new MisuseError(`s3 store is closed; cannot ${operation}`);
    try {
      return await work();
    } catch (error) {
      throw new StorageError(
        's3',
        operation,
        `s3://${this.bucket}/${this.prefix}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}
