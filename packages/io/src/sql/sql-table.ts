import { IoError, MisuseError, type StreamPosition, type StreamSink, type StreamSource } from '@fsm/core';
import type { AliasableExpression, Kysely } from 'kysely';

/** Tables as loose records: names come from options at run time. */
export type AnyDatabase = Record<string, Record<string, unknown>>;
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql';

export interface SqlTableSourceOptions {
  db: Kysely<AnyDatabase>;
  /** The table to read (or `query`, read as a subquery: a kysely select or a `sql` template). */
  table?: string;
  query?: AliasableExpression<unknown>;
  /** A unique, ordered column: pages are read with `where key > last order by key limit pageSize`. */
  key: string;
  pageSize?: number;
  /** Continue after this key value (resume). */
  after?: string | number;
  signal?: AbortSignal;
}

/**
 * A table read in pages by keyset pagination: constant memory, no OFFSET scans, and a position (the last
 * key) that a restarted read can continue from.
 */
export class SqlTableSource implements StreamSource<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private last: string | number | undefined;
  private read = 0;
  private closed = false;

  constructor(private readonly options: SqlTableSourceOptions) {
    if ((options.table === undefined) === (options.query === undefined))
      throw new MisuseError('SqlTableSource: give exactly one of table and query');
    this.last = options.after;
  }

  position(): StreamPosition {
    return { records: this.read, ...(this.last !== undefined ? { cursor: String(this.last) } : {}) };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>> {
    const { db, key } = this.options;
    const table = this.options.table ?? 'query';
    const size = this.options.pageSize ?? 1000;
    for (;;) {
      this.options.signal?.throwIfAborted();
      if (this.closed) return;
      let rows: Record<string, unknown>[];
      try {
        const from = this.options.query ? this.options.query.as('q') : table;
        let query = db.selectFrom(from).selectAll().orderBy(key).limit(size);
        if (this.last !== undefined) query = query.where(key, '>', this.last);
        rows = await query.execute();
      } catch (error) {
        throw new IoError(`reading ${table} after ${key} ${String(this.last)}: ${(error as Error).message}`, {
          source: table,
          cause: error,
        });
      }
      for (const row of rows) {
        if (this.closed) return;
        this.options.signal?.throwIfAborted();
        this.last = row[key] as string | number;
        this.read++;
        yield row;
      }
      if (rows.length < size) return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface SqlTableSinkOptions {
  db: Kysely<AnyDatabase>;
  dialect: SqlDialect;
  table: string;
  /**
   * Upsert key columns: a batch written twice (after a crash) leaves one row per key. Without keys the
   * rows are plainly inserted (a replayed batch is inserted again).
   */
  key?: string[];
  /** Rows per INSERT statement inside a batch's transaction (default 500). */
  statementSize?: number;
  /**
   * Rows of concurrent `write` calls that share one transaction, at most (default 5000): writes that
   * arrive while a transaction is running are committed together in the next one.
   */
  maxTransactionRows?: number;
}

/** A `write` call waiting for its transaction. */
interface QueuedWrite {
  rows: Record<string, unknown>[];
  signal: AbortSignal | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
}

/**
 * Writes each batch in one transaction as multi-row upserts (ON CONFLICT / ON DUPLICATE KEY UPDATE).
 * Group commit: `write` calls that arrive while a transaction runs (several producers sharing the sink)
 * are written together in the next transaction, and each resolves when its rows committed. When such a
 * shared transaction fails, every write in it is retried on its own, so only the write holding the bad
 * row fails. Rows of one key keep their order: a statement never holds a key twice (PostgreSQL refuses
 * that), so the last row of a key wins.
 */
export class SqlTableSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  written = 0;
  /** Transactions committed (a shared transaction counts once). */
  transactions = 0;
  private closed = false;
  private readonly queue: QueuedWrite[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly options: SqlTableSinkOptions) {}

  write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed)
      return Promise.reject(
        new IoError(`${this.options.table}: write after close`, { source: this.options.table }),
      );
    if (batch.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const queued: QueuedWrite = { rows: batch, signal, resolve, reject, onAbort: undefined };
      if (signal) {
        // Aborted before its transaction began: the write leaves the queue, nothing of it is written.
        queued.onAbort = () => {
          const index = this.queue.indexOf(queued);
          if (index < 0) return;
          this.queue.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', queued.onAbort, { once: true });
      }
      this.queue.push(queued);
      this.draining ??= this.drain();
    });
  }

  /** Runs transactions until the queue is empty; each takes every write queued when it starts. */
  private async drain(): Promise<void> {
    const limit = this.options.maxTransactionRows ?? 5000;
    while (this.queue.length > 0) {
      let rows = 0;
      let count = 0;
      while (
        count < this.queue.length &&
        (count === 0 || rows + (this.queue[count] as QueuedWrite).rows.length <= limit)
      )
        rows += (this.queue[count++] as QueuedWrite).rows.length;
      const group = this.queue.splice(0, count);
      for (const queued of group)
        if (queued.onAbort) queued.signal?.removeEventListener('abort', queued.onAbort);
      if (group.length === 1) await this.settle(group[0] as QueuedWrite);
      else {
        try {
          await this.writeRows(group.flatMap((q) => q.rows));
          for (const queued of group) this.succeeded(queued);
        } catch {
          // The shared transaction rolled back: retry each write alone, so only a bad one fails.
          for (const queued of group) await this.settle(queued);
        }
      }
    }
    this.draining = undefined;
  }

  private async settle(queued: QueuedWrite): Promise<void> {
    try {
      await this.writeRows(queued.rows);
    } catch (error) {
      queued.reject(
        new IoError(
          `writing ${queued.rows.length} rows to ${this.options.table}: ${(error as Error).message}`,
          {
            source: this.options.table,
            cause: error,
          },
        ),
      );
      return;
    }
    this.succeeded(queued);
  }

  private succeeded(queued: QueuedWrite): void {
    this.written += queued.rows.length;
    queued.resolve();
  }

  private async writeRows(batch: Record<string, unknown>[]): Promise<void> {
    const { db, dialect, table } = this.options;
    const key = this.options.key ?? [];
    const size = this.options.statementSize ?? 500;
    const columns = Object.keys(batch[0] ?? {});
    const nonKey = columns.filter((c) => !key.includes(c));
    await db.transaction().execute(async (trx) => {
      for (const rows of statements(batch, key, size)) {
        const insert = trx.insertInto(table).values(rows);
        if (key.length === 0) await insert.execute();
        else if (dialect === 'mysql') {
          await (nonKey.length === 0
            ? insert.ignore()
            : insert.onDuplicateKeyUpdate((eb) =>
                Object.fromEntries(nonKey.map((c) => [c, eb.fn('values', [eb.ref(c)])])),
              )
          ).execute();
        } else {
          await insert
            .onConflict((oc) =>
              nonKey.length === 0
                ? oc.columns(key).doNothing()
                : oc
                    .columns(key)
                    .doUpdateSet((eb) => Object.fromEntries(nonKey.map((c) => [c, eb.ref(`excluded.${c}`)]))),
            )
            .execute();
        }
      }
    });
    this.transactions++;
  }

  async close(): Promise<void> {
    // Every queued write still commits; the kysely instance belongs to the caller.
    this.closed = true;
    while (this.draining) await this.draining;
  }
}

/**
 * The rows of each INSERT statement: at most `size`, and a new statement where a key repeats (an
 * upsert statement may not touch one row twice on PostgreSQL; in order, the later row wins).
 */
function* statements(
  batch: Record<string, unknown>[],
  key: string[],
  size: number,
): Generator<Record<string, unknown>[]> {
  if (key.length === 0) {
    for (let i = 0; i < batch.length; i += size) yield batch.slice(i, i + size);
    return;
  }
  let start = 0;
  let seen = new Set<string>();
  for (let i = 0; i < batch.length; i++) {
    const row = batch[i] as Record<string, unknown>;
    const id =
      key.length === 1 ? String(own(row, key[0] as string)) : JSON.stringify(key.map((k) => own(row, k)));
    if (i - start === size || seen.has(id)) {
      yield batch.slice(start, i);
      start = i;
      seen = new Set();
    }
    seen.add(id);
  }
  if (start < batch.length) yield batch.slice(start);
}

/** Own properties only: a column named like an Object.prototype member reads nothing inherited. */
const own = (row: Record<string, unknown>, column: string): unknown =>
  Object.hasOwn(row, column) ? row[column] : undefined;
