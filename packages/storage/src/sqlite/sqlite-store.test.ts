import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionHistory, FinishedHistoryFields } from '@fsm/core';
import { resultOfHistory } from '@fsm/core';
import { describeHistoryStore, sampleHistory } from '@fsm/core/testing';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, describe, expect, it } from 'vitest';
import { storeMigrations } from '../sql/migrations.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A new file with the store's migrations up to `name` only, as an older version left it. */
async function migratedTo(filename: string, name: string) {
  const raw = new Database(filename);
  const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
  const migrator = new Migrator({
    db: old,
    provider: storeMigrations('sqlite'),
    migrationTableName: 'fsm_migrations',
    migrationLockTableName: 'fsm_migrations_lock',
  });
  expect((await migrator.migrateTo(name)).error).toBeUndefined();
  return { raw, old };
}

describeHistoryStore('sqlite', () => openSqliteStore({ filename: join(dir, `suite-${++n}.db`) }));

describe('sqlite store', () => {
  it('keeps what was saved across reopen (a real file), migrating only once', async () => {
    const filename = join(dir, 'nested', 'reopen.db');
    const first = await openSqliteStore({ filename });
    await first.save(sampleHistory({ executionId: 'kept' }));
    await first.close();
    const second = await openSqliteStore({ filename });
    expect((await second.load('kept'))?.finalState).toBe('done');
    await second.close();
  });

  it('a new file gets 8 KB pages (several history rows per page); an existing file keeps its own', async () => {
    const fresh = join(dir, 'pages-new.db');
    await (await openSqliteStore({ filename: fresh })).close();
    const old = join(dir, 'pages-old.db');
    const made = new Database(old);
    made.exec('create table t (x integer)');
    made.close();
    await (await openSqliteStore({ filename: old })).close();
    const pageSize = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('page_size', { simple: true });
      } finally {
        db.close();
      }
    };
    expect(pageSize(fresh)).toBe(8192);
    expect(pageSize(old)).toBe(4096);
  });

  it('an unopenable file is a StorageError naming the file', async () => {
    writeFileSync(join(dir, 'blocker'), 'a file, not a folder');
    const filename = join(dir, 'blocker', 'x.db');
    await expect(openSqliteStore({ filename })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining(filename),
    });
  });

  it('a database migrated by a newer @fsm/storage is refused with a StorageError, not misread', async () => {
    const filename = join(dir, 'future.db');
    const store = await openSqliteStore({ filename });
    await store.close();
    const raw = new Database(filename);
    raw.prepare("insert into fsm_migrations (name, timestamp) values ('9999_from_the_future', 'x')").run();
    raw.close();
    await expect(openSqliteStore({ filename })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      operation: 'migrate',
    });
  });

  it('a corrupt history row is a StorageError naming the operation', async () => {
    const filename = join(dir, 'corrupt.db');
    const store = await openSqliteStore({ filename });
    await store.save(sampleHistory({ executionId: 'bad' }));
    const raw = new Database(filename);
    raw.prepare("update fsm_histories set body = '{not json' where execution_id = 'bad'").run();
    raw.close();
    await expect(store.load('bad')).rejects.toMatchObject({ code: 'STORAGE_FAILED', operation: 'load' });
    // JSON, but not an object: named, not a TypeError from reading it.
    const again = new Database(filename);
    again.prepare("update fsm_histories set body = 'null' where execution_id = 'bad'").run();
    again.close();
    await expect(store.load('bad')).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('history "bad" is stored as something other than a JSON object'),
    });
    await store.close();
  });

  it('a database of the first schema migrates to the step log, keeping its checkpoints', async () => {
    const filename = join(dir, 'v1.db');
    const { raw, old } = await migratedTo(filename, '0001_histories_checkpoints_batches');
    const legacy = { version: 1, fsm: 'orders', executionId: 'old:1', state: 'b', steps: [] };
    raw
      .prepare(
        "insert into fsm_checkpoints (execution_id, fsm, updated_at, body) values ('old:1', 'orders', 1, ?)",
      )
      .run(JSON.stringify(legacy));
    await old.destroy();
    const store = await openSqliteStore({ filename });
    expect(await store.loadCheckpoint('old:1')).toEqual(legacy);
    expect(await store.listCheckpoints('old:')).toEqual(['old:1']);
    await store.finishExecution({ executionId: 'old:1' });
    expect(await store.loadCheckpoint('old:1')).toBeUndefined();
    await store.close();
  });

  it('makes the start-time indexes ascending (also on a file of migration 0003), and lists newest first from them without sorting', async () => {
    const filename = join(dir, 'ascending.db');
    const { raw, old } = await migratedTo(filename, '0003_batch_items_in_histories');
    const startedIndexes = (db: InstanceType<typeof Database>) =>
      (
        db
          .prepare(
            "select sql from sqlite_master where type = 'index' and name like 'fsm_histories_%started'",
          )
          .all() as Array<{ sql: string }>
      ).map((r) => r.sql);
    expect(startedIndexes(raw).every((s) => s.includes('desc'))).toBe(true);
    await old.destroy();
    const store = await openSqliteStore({ filename });
    for (let i = 0; i < 5; i++)
      await store.save(sampleHistory({ executionId: `asc:${i}`, startedAt: 1000 + i }));
    const check = new Database(filename, { readonly: true });
    const indexes = startedIndexes(check);
    expect(indexes).toHaveLength(2);
    expect(indexes.some((s) => s.includes('desc'))).toBe(false);
    const plan = check
      .prepare(
        'explain query plan select execution_id from fsm_histories order by started_at desc, execution_id desc limit 10',
      )
      .all() as Array<{ detail: string }>;
    check.close();
    expect(plan.map((p) => p.detail).join(' ')).toContain('INDEX fsm_histories_started');
    expect(plan.map((p) => p.detail).join(' ')).not.toContain('TEMP B-TREE');
    const listed = [];
    for await (const summary of store.query({})) listed.push(summary.executionId);
    expect(listed).toEqual(['asc:4', 'asc:3', 'asc:2', 'asc:1', 'asc:0']);
    await store.close();
  });

  it('keeps a batch item in its history row (no row of its own, a body without the columns), and reads old rows', async () => {
    const filename = join(dir, 'items-in-histories.db');
    const store = await openSqliteStore({ filename });
    const history = sampleHistory({ executionId: 'ih:0', batchId: 'ih', itemIndex: 0 });
    const result = resultOfHistory(history as ExecutionHistory & FinishedHistoryFields, 7.5);
    await store.finishExecution({
      executionId: 'ih:0',
      history,
      batchItem: { batchId: 'ih', itemIndex: 0, executionId: 'ih:0', success: true, result },
      itemInHistory: true,
      checkpointed: false,
    });
    const raw = new Database(filename);
    expect(raw.prepare('select count(*) as n from fsm_batch_items').get()).toEqual({ n: 0 });
    const row = raw.prepare("select item_ms, body from fsm_histories where execution_id = 'ih:0'").get() as {
      item_ms: number;
      body: string;
    };
    expect(row.item_ms).toBe(7.5);
    expect(Object.keys(JSON.parse(row.body))).not.toContain('executionId');
    expect(await store.loadBatchItems('ih')).toEqual([
      { itemIndex: 0, executionId: 'ih:0', success: true, result: JSON.parse(JSON.stringify(result)) },
    ]);
    // A row written before bodies left the columns out (the whole history in its body) reads the same.
    const old = sampleHistory({ executionId: 'old:0' });
    raw
      .prepare(
        "insert into fsm_histories (execution_id, fsm, status, started_at, ended_at, body) values ('old:0', 'orders', 'succeeded', ?, ?, ?)",
      )
      .run(old.startedAt, old.endedAt, JSON.stringify(old.toJSON()));
    expect((await store.load('old:0'))?.toJSON()).toEqual(old.toJSON());
    // A marked row that does not hold a finished history cannot stand for the item: named, not skipped.
    const body = (
      raw.prepare("select body from fsm_histories where execution_id = 'ih:0'").get() as { body: string }
    ).body;
    raw.prepare("update fsm_histories set body = '{\"steps\":[]}' where execution_id = 'ih:0'").run();
    await expect(store.loadBatchItems('ih')).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      operation: 'streamBatchItems',
      message: expect.stringContaining('history "ih:0" is marked as batch item 0 of "ih" but did not finish'),
    });
    raw.prepare("update fsm_histories set body = ? where execution_id = 'ih:0'").run(body);
    raw.close();
    // Such an item lives as long as its history.
    expect(await store.delete('ih:0')).toBe(true);
    expect(await store.loadBatchItems('ih')).toEqual([]);
    await store.close();
  });

  describe('step-log groups', () => {
    it('are on disk when their promises resolve (another connection reads them), and a bad row fails alone', async () => {
      const filename = join(dir, 'group.db');
      const store = await openSqliteStore({ filename });
      const good = Array.from({ length: 20 }, (_, i) =>
        store.finishExecution({
          executionId: `g:${i}`,
          history: sampleHistory({ executionId: `g:${i}` }),
          batchItem: { batchId: 'g', itemIndex: i, executionId: `g:${i}`, success: true, result: { i } },
          checkpointed: false,
        }),
      );
      // fsm is NOT NULL: this row fails inside the group's transaction, which is then retried row by row.
      const bad = store.appendStep({
        executionId: 'bad',
        seq: 1,
        fsm: undefined as unknown as string,
        snapshot: { network: 'main', state: 'a', phase: 'enter', data: {}, transitions: 0, path: [] },
      });
      await Promise.all(good);
      await expect(bad).rejects.toMatchObject({ code: 'STORAGE_FAILED', backend: 'sqlite' });
      const other = new Database(filename, { readonly: true });
      expect(other.prepare('select count(*) as n from fsm_histories').get()).toEqual({ n: 20 });
      expect(other.prepare('select count(*) as n from fsm_batch_items').get()).toEqual({ n: 20 });
      other.close();
      await store.close();
      await expect(store.appendStep({} as never)).rejects.toMatchObject({ code: 'MISUSE' });
    });

    it('flush the WAL from a descriptor of their own, closed with the store', async () => {
      const filename = join(dir, 'flushed.db');
      const walOpen = () =>
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`) === `${filename}-wal`;
          } catch (error) {
            // The descriptor readdir itself used is gone by now.
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
            throw error;
          }
        }).length;
      const store = await openSqliteStore({ filename });
      await store.finishExecution({
        executionId: 'f:0',
        history: sampleHistory({ executionId: 'f:0' }),
        checkpointed: false,
      });
      // SQLite's own descriptor and the flusher's.
      expect(walOpen()).toBe(2);
      await store.close();
      expect(walOpen()).toBe(0);
    });
  });

  it('a closed store refuses work with a MisuseError', async () => {
    const store = await openSqliteStore({ filename: join(dir, 'closed.db') });
    await store.close();
    await expect(store.load('x')).rejects.toMatchObject({ code: 'MISUSE' });
  });
});
