import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError, type VectorItem, type VectorMatch, type VectorStore } from '@fsm/core';
import type BetterSqlite3 from 'better-sqlite3';
import { checkTopK, matchesFilter, score } from './cosine.js';

/**
 * Vectors in a SQLite file (Float32 blobs), exact cosine search over the rows that pass the metadata
 * filter. Durable and dependency-light; for millions of vectors use a dedicated vector database.
 */
export class SqliteVectorStore implements VectorStore {
  readonly specificationVersion = 'v1' as const;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly table: string,
  ) {}

  static async open(options: { filename: string; collection?: string }): Promise<SqliteVectorStore> {
    const { default: Database } = await import('better-sqlite3');
    const table = `vectors_${(options.collection ?? 'default').replace(/\W/g, '_')}`;
    try {
      if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
      const db = new Database(options.filename);
      db.pragma('journal_mode = WAL');
      db.exec(
        `create table if not exists ${table} (id text primary key, vector blob not null, metadata text)`,
      );
      return new SqliteVectorStore(db, table);
    } catch (error) {
      throw new StorageError('sqlite-vectors', 'open', `${options.filename}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async upsert(items: VectorItem[]): Promise<void> {
    const statement = this.db.prepare(
      `insert into ${this.table} (id, vector, metadata) values (?, ?, ?) on conflict(id) do update set vector = excluded.vector, metadata = excluded.metadata`,
    );
    const all = this.db.transaction((rows: VectorItem[]) => {
      for (const item of rows)
        statement.run(
          item.id,
          Buffer.from(new Float32Array(item.vector).buffer),
          item.metadata ? JSON.stringify(item.metadata) : null,
        );
    });
    all(items);
  }

  async query(
    vector: number[],
    options: { topK: number; filter?: Record<string, unknown> },
  ): Promise<VectorMatch[]> {
    checkTopK(options.topK);
    const rows = this.db
      .prepare(`select id, vector, metadata from ${this.table}`)
      .iterate() as IterableIterator<{ id: string; vector: Buffer; metadata: string | null }>;
    const matches: VectorMatch[] = [];
    for (const row of rows) {
      const metadata = row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : undefined;
      if (!matchesFilter(metadata, options.filter)) continue;
      const stored = Array.from(
        new Float32Array(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength / 4),
      );
      matches.push({ id: row.id, score: score(row.id, vector, stored), ...(metadata ? { metadata } : {}) });
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, options.topK);
  }

  async delete(ids: string[]): Promise<void> {
    const statement = this.db.prepare(`delete from ${this.table} where id = ?`);
    this.db.transaction((list: string[]) => {
      for (const id of list) statement.run(id);
    })(ids);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
