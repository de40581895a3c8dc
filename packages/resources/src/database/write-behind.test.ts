import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FunctionContext, SimpleFSM, WalFlusher } from '@fsm/core';
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultResourceTypes, resourceFunctions } from '../index.js';
import { ResourceManager } from '../resource-manager.js';
import { type DatabaseHandle, databaseProvider } from './database-provider.js';
import type { WriteBehind } from './write-behind.js';
import { type TestServer, testServers } from './test-support/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-write-behind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let tables = 0;
const newTable = () => `wb_${process.pid}_${Date.now().toString(36)}_${tables++}`;

const servers = testServers(join(dir, 'wb.sqlite'));

/** A table whose `amount` must not be negative: a negative amount is a row the database refuses. */
async function createTable(handle: DatabaseHandle, table: string): Promise<void> {
  await sql`create table ${sql.table(table)} (id varchar(32) primary key, amount integer not null check (amount >= 0), note varchar(32))`.execute(
    handle.db,
  );
}

/** Runs `body` on a new table of `server`, with a handle of its own to read it; drops the table after. */
async function withTable(
  server: TestServer,
  body: (table: string, admin: DatabaseHandle) => Promise<void>,
): Promise<void> {
  const table = newTable();
  const admin = await databaseProvider({ ...server.options, batchSize: 1 }).create();
  await createTable(admin, table);
  try {
    await body(table, admin);
  } finally {
    await sql`drop table ${sql.table(table)}`.execute(admin.db);
    await admin.db.destroy();
  }
}

async function rowsOf(
  handle: DatabaseHandle,
  table: string,
): Promise<{ id: string; amount: number; note: string | null }[]> {
  const { rows } = await sql<{
    id: string;
    amount: number;
    note: string | null;
  }>`select id, amount, note from ${sql.table(table)} order by id`.execute(handle.db);
  return rows.map((r) => ({ ...r, amount: Number(r.amount) }));
}

const loadConfig = (
  config: Record<string, unknown>,
  table: string,
  params: Record<string, unknown> = {},
  poolSize = 4,
) => ({
  name: 'load',
  resources: [{ name: 'dw', type: 'database', config, connection_pool_size: poolSize }],
  states: [
    {
      name: 'load',
      is_start: true,
      resources: ['dw'],
      transforms: [
        {
          type: 'builtin',
          name: 'db_upsert',
          params: { resource: 'dw', table, key: 'id', fields: ['id', 'amount', 'note'], ...params },
        },
        'grab',
      ],
      arcs: [{ target: 'done' }],
    },
    { name: 'done', is_end: true },
  ],
});

/** Custom functions that keep the resource's batcher, to read its counters. */
function grabber() {
  const seen: { writer: WriteBehind | undefined } = { writer: undefined };
  const functions = {
    grab: (data: unknown, ctx: FunctionContext) => {
      seen.writer = ctx.resources.get<DatabaseHandle>('dw').writer;
      return data;
    },
  };
  return { seen, functions };
}

describe('write-behind batching on a shared SQLite handle', () => {
  it('records waiting for their commit hold no pool slot: batches grow past the pool size', async () => {
    const sqlite = servers[0] as (typeof servers)[number];
    await withTable(sqlite, async (table, admin) => {
      const { seen, functions } = grabber();
      const fsm = await SimpleFSM.create(loadConfig(sqlite.config, table, {}, 2), {
        resourceTypes: defaultResourceTypes,
        builtins: resourceFunctions,
        resourceManager: new ResourceManager(),
        functions,
      });
      const records = Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, amount: i }));
      const batch = await fsm.processBatch(records, { concurrency: 64 });
      expect(batch.succeeded).toBe(1000);
      expect((await rowsOf(admin, table)).length).toBe(1000);
      const stats = seen.writer?.stats();
      expect(stats).toMatchObject({ rows: 1000, failed: 0 });
      // A pool of 2 exclusive handles would commit at most 2 rows per transaction (≥ 500 batches).
      expect(stats?.batches).toBeLessThan(100);
      await fsm.close();
    });
  });
});

describe('write-behind on SQLite runs batches on the better-sqlite3 connection itself', () => {
  it('after the first batch (SQL built by kysely): one transaction per batch, a refused row fails alone', async () => {
    const sqlite = servers[0] as (typeof servers)[number];
    await withTable(sqlite, async (table, admin) => {
      const provider = databaseProvider({ ...sqlite.options, batchSize: 100, batchMaxDelayMs: 10_000 });
      const handle = await provider.create();
      const writer = handle.writer;
      if (!writer) throw new Error('no writer');
      const lane = writer.lane({ kind: 'upsert', table, columns: ['id', 'amount', 'note'], keys: ['id'] });
      await writer.write(lane, ['first', 1, null]);
      expect(lane.sqlite).toBeUndefined();
      const good = Array.from({ length: 20 }, (_, i) => writer.write(lane, [`g${i}`, i, 'ok']));
      const bad = writer.write(lane, ['bad', -1, 'refused']);
      const late = writer.write(lane, ['k', 1, 'a']);
      const later = writer.write(lane, ['k', 2, 'b']);
      await Promise.all([...good, late, later]);
      await expect(bad).rejects.toMatchObject({
        code: 'IO_FAILED',
        message: expect.stringContaining('id=bad'),
      });
      expect(lane.sqlite).toBeDefined();
      const rows = await rowsOf(admin, table);
      expect(rows.map((r) => r.id)).toEqual(
        ['first', ...Array.from({ length: 20 }, (_, i) => `g${i}`)].concat('k').sort(),
      );
      expect(rows.find((r) => r.id === 'k')).toEqual({ id: 'k', amount: 2, note: 'b' });
      expect(writer.stats()).toMatchObject({ rows: 23, failed: 1 });
      await provider.destroy(handle);
      await provider.close?.();
    });
  });

  it('writes the WAL of a file to disk in the background after its batches, and stops with the writer', async () => {
    const sqlite = servers[0] as (typeof servers)[number];
    const wrote = vi.spyOn(WalFlusher.prototype, 'wrote');
    const closed = vi.spyOn(WalFlusher.prototype, 'close');
    try {
      await withTable(sqlite, async (table) => {
        const provider = databaseProvider({ ...sqlite.options, batchSize: 10, batchMaxDelayMs: 10_000 });
        const handle = await provider.create();
        const writer = handle.writer;
        if (!writer) throw new Error('no writer');
        const lane = writer.lane({ kind: 'insert', table, columns: ['id', 'amount', 'note'], keys: [] });
        await writer.write(lane, ['first', 1, null]);
        await Promise.all(Array.from({ length: 30 }, (_, i) => writer.write(lane, [`r${i}`, i, null])));
        // The first batch goes through kysely (its SQL is not known yet); the next three on the connection.
        expect(wrote).toHaveBeenCalledTimes(3);
        expect(wrote.mock.instances[0]).toBeInstanceOf(WalFlusher);
        expect(closed).not.toHaveBeenCalled();
        await provider.destroy(handle);
        await provider.close?.();
        expect(closed).toHaveBeenCalledTimes(1);
      });
    } finally {
      wrote.mockRestore();
      closed.mockRestore();
    }
  });
});

for (const server of servers) {
  describe(`write-behind batching on ${server.name}`, () => {
    it('8 concurrent records × 1000: every row exactly once, in far fewer transactions than rows', async () => {
      await withTable(server, async (table, admin) => {
        const manager = new ResourceManager();
        const { seen, functions } = grabber();
        const fsm = await SimpleFSM.create(loadConfig(server.config, table), {
          resourceTypes: defaultResourceTypes,
          builtins: resourceFunctions,
          resourceManager: manager,
          functions,
        });
        const records = Array.from({ length: 1000 }, (_, i) => ({
          id: `r${String(i).padStart(4, '0')}`,
          amount: i,
        }));
        const batch = await fsm.processBatch(records, { concurrency: 8 });
        expect(batch.failed).toBe(0);
        expect(batch.succeeded).toBe(1000);
        // Every record's load completed after its commit: the rows are there before close.
        const rows = await rowsOf(admin, table);
        expect(rows.map((r) => r.id)).toEqual(records.map((r) => r.id));
        expect(rows.map((r) => r.amount)).toEqual(records.map((r) => r.amount));
        const stats = seen.writer?.stats();
        expect(stats).toMatchObject({ rows: 1000, failed: 0, splits: 0 });
        // Four pooled connections: up to four records wait on one transaction together.
        expect(stats?.batches).toBeLessThan(600);
        await fsm.close();
      });
    });

    it('a row the database refuses fails only its record, with its own typed error; the others commit', async () => {
      await withTable(server, async (table, admin) => {
        const manager = new ResourceManager();
        // Ten connections, a long delay: rows of up to ten records share a transaction, which the bad row fails.
        const { seen, functions } = grabber();
        const fsm = await SimpleFSM.create(
          loadConfig(server.config, table, { batch_size: 40, batch_max_delay_ms: 10_000 }, 10),
          {
            resourceTypes: defaultResourceTypes,
            builtins: resourceFunctions,
            resourceManager: manager,
            functions,
          },
        );
        const records = Array.from({ length: 40 }, (_, i) => ({
          id: `r${String(i).padStart(2, '0')}`,
          amount: i === 17 ? -1 : i,
        }));
        const batch = await fsm.processBatch(records, { concurrency: 10 });
        expect(batch.succeeded).toBe(39);
        // The bad row was in a batch with others: that batch was split until only the bad row failed.
        expect(seen.writer?.stats()).toMatchObject({ rows: 39, failed: 1, splits: expect.any(Number) });
        expect(seen.writer?.stats().splits).toBeGreaterThan(0);
        const failed = batch.results.filter((r) => r.error);
        expect(failed).toHaveLength(1);
        expect(failed[0]?.data).toMatchObject({ id: 'r17' });
        expect(failed[0]?.error).toMatchObject({
          code: expect.stringMatching(/IO_FAILED|FUNCTION_FAILED/),
          message: expect.stringContaining('id=r17'),
        });
        const rows = await rowsOf(admin, table);
        expect(rows.map((r) => r.id)).toEqual(records.filter((r) => r.id !== 'r17').map((r) => r.id));
        await fsm.close();
      });
    });

    it("db_insert without fields writes each record's own columns; batch_size 1 writes without the batcher", async () => {
      await withTable(server, async (table, admin) => {
        for (const batchSize of [500, 1]) {
          const { seen, functions } = grabber();
          const config = loadConfig(server.config, table);
          const state = config.states[0] as { transforms: unknown[] };
          state.transforms = [
            { type: 'builtin', name: 'db_insert', params: { resource: 'dw', table, batch_size: batchSize } },
            'grab',
          ];
          const fsm = await SimpleFSM.create(config, {
            resourceTypes: defaultResourceTypes,
            builtins: resourceFunctions,
            resourceManager: new ResourceManager(),
            functions,
          });
          const records = [
            { id: `${batchSize}-a`, amount: 1 },
            { id: `${batchSize}-b`, amount: 2, note: 'with a note' },
            { id: `${batchSize}-c`, amount: 3, nested: { ignored: true } },
          ];
          const batch = await fsm.processBatch(records, { concurrency: 3 });
          expect(batch.failed).toBe(0);
          expect(seen.writer?.stats().rows ?? 0).toBe(batchSize === 1 ? 0 : 3);
          await fsm.close();
        }
        expect(await rowsOf(admin, table)).toEqual([
          { id: '1-a', amount: 1, note: null },
          { id: '1-b', amount: 2, note: 'with a note' },
          { id: '1-c', amount: 3, note: null },
          { id: '500-a', amount: 1, note: null },
          { id: '500-b', amount: 2, note: 'with a note' },
          { id: '500-c', amount: 3, note: null },
        ]);
      });
    });

    it('upserts of one key in one batch keep arrival order: the last writer wins', async () => {
      await withTable(server, async (table, admin) => {
        const provider = databaseProvider({ ...server.options, batchSize: 100, batchMaxDelayMs: 10_000 });
        const handle = await provider.create();
        const writer = handle.writer;
        if (!writer) throw new Error('no writer');
        const lane = writer.lane({ kind: 'upsert', table, columns: ['id', 'amount', 'note'], keys: ['id'] });
        const writes = Array.from({ length: 10 }, (_, i) => writer.write(lane, ['k', i, `v${i}`]));
        writes.push(writer.write(lane, ['other', 1, null]));
        await provider.destroy(handle);
        await provider.close?.();
        await Promise.all(writes);
        expect(await rowsOf(admin, table)).toEqual([
          { id: 'k', amount: 9, note: 'v9' },
          { id: 'other', amount: 1, note: null },
        ]);
        expect(writer.stats()).toMatchObject({ batches: 1, rows: 11, failed: 0 });
      });
    });

    it('close writes the rows still queued; a record aborted while queued leaves its batch', async () => {
      await withTable(server, async (table, admin) => {
        const provider = databaseProvider({ ...server.options, batchSize: 1000, batchMaxDelayMs: 60_000 });
        const handle = await provider.create();
        const writer = handle.writer;
        if (!writer) throw new Error('no writer');
        const lane = writer.lane({ kind: 'insert', table, columns: ['id', 'amount'], keys: [] });
        const outcomes: string[] = [];
        const abort = new AbortController();
        const writes = ['a', 'b', 'c'].map((id) =>
          writer
            .write(lane, [id, 1], id === 'b' ? abort.signal : undefined)
            .then(() => outcomes.push(`${id} committed`))
            .catch((error: Error) => outcomes.push(`${id} ${error.message}`)),
        );
        // Still in this turn: nothing was sent, the batch is neither full nor idle for a turn.
        abort.abort(new Error('aborted while queued'));
        await provider.destroy(handle);
        await provider.close?.();
        await Promise.all(writes);
        expect(outcomes.sort()).toEqual(['a committed', 'b aborted while queued', 'c committed']);
        expect((await rowsOf(admin, table)).map((r) => r.id)).toEqual(['a', 'c']);
        await expect(writer.write(lane, ['d', 1])).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE' });
      });
    });
  });
}

describe('write-behind configuration', () => {
  it('batch_size and batch_max_delay_ms of a database resource are checked, naming the config path', () => {
    const base = {
      name: 'dw',
      type: 'database',
      connection_pool_size: 1,
      timeout_seconds: 1,
      retry_attempts: 0,
      retry_delay_seconds: 0,
    };
    expect(() =>
      defaultResourceTypes.database?.({
        ...base,
        config: { dialect: 'sqlite', path: join(dir, 'x.db'), batch_size: 0 },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('resources.dw.config.batch_size'),
      }),
    );
    expect(() =>
      defaultResourceTypes.database?.({
        ...base,
        config: { dialect: 'sqlite', path: join(dir, 'x.db'), batch_max_delay_ms: 'soon' },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('resources.dw.config.batch_max_delay_ms'),
      }),
    );
    for (const config of [
      { dialect: 'sqlite', path: join(dir, 'x.db'), synchronous: 'sometimes' },
      { dialect: 'sqlite', path: join(dir, 'x.db'), synchronous: 'normal; drop table x' },
      { dialect: 'postgres', url: 'postgres://127.0.0.1/test', synchronous: 'often' },
    ])
      expect(() => defaultResourceTypes.database?.({ ...base, config })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining('resources.dw.config.synchronous'),
        }),
      );
  });

  it('synchronous sets the pragma on the SQLite connections of the resource', async () => {
    const provider = defaultResourceTypes.database?.({
      name: 'dw',
      type: 'database',
      connection_pool_size: 1,
      timeout_seconds: 1,
      retry_attempts: 0,
      retry_delay_seconds: 0,
      config: { dialect: 'sqlite', path: join(dir, 'sync.db'), synchronous: 'NORMAL' },
    }) as Awaited<ReturnType<NonNullable<typeof defaultResourceTypes.database>>>;
    const handle = (await provider.create()) as DatabaseHandle;
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(handle.db);
    // 1 = NORMAL (2 = FULL, SQLite's default).
    expect(rows[0]?.synchronous).toBe(1);
    await provider.destroy(handle);
    await provider.close();
  });
});
