import { IoError, type StreamPosition, type StreamSink, type StreamSource } from '@fsm/core';
import type { Kysely } from 'kysely';

/** Tables as loose records: names come from options at run time. */
export type AnyDatabase = Record<string, Record<string, unknown>>;
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql';

export interface SqlTableSourceOptions {
  db: Kysely<AnyDatabase>;
  table: string;
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
    this.last = options.after;
  }

  position(): StreamPosition {
    return { records: this.read, ...(this.last !== undefined ? { cursor: String(this.last) } : {}) };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>> {
    const { db, table, key } = this.options;
    const size = this.options.pageSize ?? 1000;
    for (;;) {
      this.options.signal?.throwIfAborted();
      if (this.closed) return;
      let rows: Record<string, unknown>[];
      try {
        let query = db.selectFrom(table).selectAll().orderBy(key).limit(size);
        if (this.last !== undefined) query = query.where(key, '>', this.last);
        rows = await query.execute();
      } catch (error) {
        throw new IoError(`reading ${table} after ${key} ${String(this.last)}: ${(error as Error).message}`, {
          source: table,
          cause: error,
        });
      }
      for (const row of rows) {
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
  /** Upsert key columns: a batch written twice (after a crash) leaves one row per key. */
  key: string[];
  /** Rows per INSERT statement inside a batch's transaction (default 500). */
  statementSize?: number;
}

/** Writes each batch in one transaction as multi-row upserts (ON CONFLICT / ON DUPLICATE KEY UPDATE). */
export class SqlTableSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  written = 0;

  constructor(private readonly options: SqlTableSinkOptions) {}

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (batch.length === 0) return;
    const { db, dialect, table, key } = this.options;
    const size = this.options.statementSize ?? 500;
    const columns = Object.keys(batch[0] ?? {});
    const nonKey = columns.filter((c) => !key.includes(c));
    try {
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < batch.length; i += size) {
          const insert = trx.insertInto(table).values(batch.slice(i, i + size));
          if (dialect === 'mysql') {
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
  }
}
