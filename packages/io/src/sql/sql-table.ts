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
}

/** Writes each batch in one transaction as multi-row upserts (ON CONFLICT / ON DUPLICATE KEY UPDATE). */
export class SqlTableSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  written = 0;
  private closed = false;

  constructor(private readonly options: SqlTableSinkOptions) {}

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.closed)
      throw new IoError(`${this.options.table}: write after close`, { source: this.options.table });
    if (batch.length === 0) return;
    const { db, dialect, table } = this.options;
    const key = this.options.key ?? [];
    const size = this.options.statementSize ?? 500;
    const columns = Object.keys(batch[0] ?? {});
    const nonKey = columns.filter((c) => !key.includes(c));
    try {
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < batch.length; i += size) {
          const insert = trx.insertInto(table).values(batch.slice(i, i + size));
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
                      .doUpdateSet((eb) =>
                        Object.fromEntries(nonKey.map((c) => [c, eb.ref(`excluded.${c}`)])),
                      ),
              )
              .execute();
          }
        }
      });
    } catch (error) {
      throw new IoError(`writing ${batch.length} rows to ${table}: ${(error as Error).message}`, {
        source: table,
        cause: error,
      });
    }
    this.written += batch.length;
  }

  async close(): Promise<void> {
    // The kysely instance belongs to the caller; every write was already committed.
    this.closed = true;
  }
}
