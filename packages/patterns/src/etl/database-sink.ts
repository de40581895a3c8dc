import { ETLError, type StreamSink } from '@fsm/core';
import { SqlTableSink } from '@fsm/io/sql';
import { type DatabaseHandle, type DatabaseProviderOptions, databaseProvider } from '@fsm/resources/database';

export interface DatabaseSinkOptions {
  database: DatabaseProviderOptions;
  table: string;
  /** Upsert key columns: loading the same record twice (a resumed run) changes nothing. */
  key: string[];
}

/**
 * The ETL's load stage: a connection from the database provider, and @fsm/io's `SqlTableSink` (one
 * transaction per batch, upserts by `key`), with failures reported as `ETLError` at stage `load`.
 */
export class DatabaseSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private handle: DatabaseHandle | undefined;
  private sink: SqlTableSink | undefined;
  private readonly provider;

  constructor(private readonly options: DatabaseSinkOptions) {
    this.provider = databaseProvider(options.database);
  }

  get loaded(): number {
    return this.sink?.written ?? 0;
  }

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    if (batch.length === 0) return;
    if (!this.sink) {
      this.handle = await this.provider.create(signal);
      this.sink = new SqlTableSink({
        db: this.handle.db,
        dialect: this.handle.dialect,
        table: this.options.table,
        key: this.options.key,
      });
    }
    try {
      await this.sink.write(batch, signal);
    } catch (error) {
      throw new ETLError(
        'load',
        `loading ${batch.length} rows into ${this.options.table} failed: ${(error as Error).message}`,
        { cause: error, record: batch[0] },
      );
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.sink = undefined;
    if (handle) await this.provider.destroy(handle);
    await this.provider.close();
  }
}
