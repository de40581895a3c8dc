import { ETLError, type StreamSink } from '@fsm/core';
import { type DatabaseHandle, type DatabaseProviderOptions, databaseProvider } from '@fsm/resources/database';

export interface DatabaseSinkOptions {
  database: DatabaseProviderOptions;
  table: string;
  /** Upsert key columns: loading the same record twice (a resumed run) changes nothing. */
  key: string[];
}

/**
 * Loads batches into a table, one transaction per batch (all rows of a chunk land, or none), upserting by
 * `key` so a batch re-sent after a crash does not duplicate rows.
 */
export class DatabaseSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private handle: DatabaseHandle | undefined;
  private readonly provider;
  loaded = 0;

  constructor(private readonly options: DatabaseSinkOptions) {
    this.provider = databaseProvider(options.database);
  }

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (batch.length === 0) return;
    this.handle ??= await this.provider.create(signal);
    const { db, dialect } = this.handle;
    const { table, key } = this.options;
    try {
      await db.transaction().execute(async (trx) => {
        const columns = Object.keys(batch[0] ?? {});
        const nonKey = columns.filter((c) => !key.includes(c));
        for (let i = 0; i < batch.length; i += 500) {
          const rows = batch.slice(i, i + 500);
          const insert = trx.insertInto(table).values(rows);
          if (dialect === 'mysql') {
            await insert
              .onDuplicateKeyUpdate((eb) =>
                Object.fromEntries(nonKey.map((c) => [c, eb.fn('values', [eb.ref(c)])])),
              )
              .execute();
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
      throw new ETLError(
        'load',
        `loading ${batch.length} rows into ${table} failed: ${(error as Error).message}`,
        { cause: error, record: batch[0] },
      );
    }
    this.loaded += batch.length;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await this.provider.destroy(handle);
    await this.provider.close();
  }
}
