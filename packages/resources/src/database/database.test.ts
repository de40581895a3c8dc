import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { describeResourceProvider } from '@fsm/core/testing';
import { Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultResourceTypes, resourceFunctions } from '../index.js';
import { ResourceManager } from '../resource-manager.js';
import { type DatabaseHandle, databaseProvider } from './database-provider.js';
import { testServers } from './test-support/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-db-resource-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const table = `orders_${process.pid}_${Date.now().toString(36)}`;

const servers = testServers(join(dir, 'db.sqlite'));

const exercise = async (handle: unknown) => {
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute((handle as DatabaseHandle).db);
  expect(Number(rows[0]?.one)).toBe(1);
};

for (const server of servers) {
  describeResourceProvider(`database/${server.name}`, () => databaseProvider(server.options), {
    validHandle: (handle) => (handle as DatabaseHandle).db instanceof Kysely,
    exercise,
    cycles: 5,
  });

  describe(`database resource on ${server.name}`, () => {
    it('a state inserts rows through ctx.resources.get("db") from a pooled resource', async () => {
      const rows = `${table}_rows`;
      const admin = await databaseProvider(server.options).create();
      await sql`create table ${sql.table(rows)} (id integer primary key, label varchar(32))`.execute(
        admin.db,
      );
      try {
        const config = {
          name: 'insert',
          resources: [{ name: 'db', type: 'database', config: server.config, connection_pool_size: 2 }],
          states: [
            {
              name: 'save',
              is_start: true,
              resources: ['db'],
              transforms: ['save'],
              arcs: [{ target: 'done' }],
            },
            { name: 'done', is_end: true },
          ],
        };
        const manager = new ResourceManager();
        const fsm = await SimpleFSM.create(config, {
          resourceTypes: defaultResourceTypes,
          resourceManager: manager,
          functions: {
            save: async (record: { id: number; label: string }, ctx) => {
              const { db } = ctx.resources.get<DatabaseHandle>('db');
              await db.insertInto(rows).values(record).execute();
              return record;
            },
          },
        });
        const batch = await fsm.processBatch(
          Array.from({ length: 20 }, (_, i) => ({ id: i, label: `row ${i}` })),
          { concurrency: 4 },
        );
        expect(batch.succeeded).toBe(20);
        const { rows: saved } = await sql<{
          n: number;
        }>`select count(*) as n from ${sql.table(rows)}`.execute(admin.db);
        expect(Number(saved[0]?.n)).toBe(20);
        expect(manager.metrics().db).toMatchObject({ inUse: 0, acquisitions: 20, releases: 20 });
        expect(manager.metrics().db?.created).toBeLessThanOrEqual(2);
        await fsm.close();
        expect(manager.metrics().db?.idle).toBe(0);
      } finally {
        await sql`drop table ${sql.table(rows)}`.execute(admin.db);
        await admin.db.destroy();
      }
    });

    it('a config upserts records through db_upsert and reads them back with db_query (bound parameters)', async () => {
      const admin = await databaseProvider(server.options).create();
      const id = server.name === 'mariadb' ? 'varchar(64)' : 'text';
      await sql`create table ${sql.table(table)} (order_id ${sql.raw(id)} primary key, amount double precision, region ${sql.raw(id)})`.execute(
        admin.db,
      );
      try {
        const config = {
          name: 'load',
          resources: [
            { name: 'warehouse', type: 'database', config: server.config, connection_pool_size: 2 },
          ],
          states: [
            {
              name: 'load',
              is_start: true,
              resources: ['warehouse'],
              transforms: [
                {
                  type: 'builtin',
                  name: 'db_upsert',
                  params: {
                    resource: 'warehouse',
                    table,
                    key: 'order_id',
                    fields: ['order_id', 'amount', 'region'],
                  },
                },
                {
                  type: 'builtin',
                  name: 'db_query',
                  params: {
                    resource: 'warehouse',
                    sql: `select count(*) as n from ${table} where region = :region`,
                    target: 'same_region',
                    single: true,
                  },
                },
              ],
              arcs: [{ target: 'done' }],
            },
            { name: 'done', is_end: true },
          ],
        };
        const manager = new ResourceManager();
        const fsm = await SimpleFSM.create(config, {
          resourceTypes: defaultResourceTypes,
          builtins: resourceFunctions,
          resourceManager: manager,
        });
        const records = [
          { order_id: 'a', amount: 1, region: 'EU' },
          { order_id: 'b', amount: 2, region: "EU' or '1'='1" },
          { order_id: 'a', amount: 5, region: 'EU' },
        ];
        const batch = await fsm.processBatch(records, { concurrency: 1 });
        expect(batch.results.map((r) => r.error?.message ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
        const second = batch.results[1]?.data as { same_region: { n: number } } | undefined;
        expect(Number(second?.same_region.n)).toBe(1);
        const { rows } = await sql<{
          order_id: string;
          amount: number;
        }>`select order_id, amount from ${sql.table(table)} order by order_id`.execute(admin.db);
        expect(rows.map((r) => [r.order_id, Number(r.amount)])).toEqual([
          ['a', 5],
          ['b', 2],
        ]);
        expect(manager.metrics().warehouse).toMatchObject({ inUse: 0 });
        expect(manager.metrics().warehouse?.created).toBeLessThanOrEqual(2);
        await fsm.close();
      } finally {
        await sql`drop table ${sql.table(table)}`.execute(admin.db);
        await admin.db.destroy();
      }
    });
  });
}

describe('database resource errors', () => {
  it('an unreachable server is RESOURCE_UNAVAILABLE naming the resource, after the configured retries', async () => {
    const provider = databaseProvider({
      name: 'dw',
      dialect: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/x',
      connectTimeoutMs: 1000,
    });
    await expect(provider.create()).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE', resource: 'dw' });
  });

  it('an unknown dialect is a ConfigError naming the config path', () => {
    expect(() =>
      defaultResourceTypes.database?.({
        name: 'dw',
        type: 'database',
        config: { dialect: 'oracle' },
        connection_pool_size: 1,
        timeout_seconds: 1,
        retry_attempts: 0,
        retry_delay_seconds: 0,
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('resources.dw.config.dialect'),
      }),
    );
  });
});
