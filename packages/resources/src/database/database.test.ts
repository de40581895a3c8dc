import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { describeResourceProvider } from '@fsm/core/testing';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultResourceTypes, resourceFunctions } from '../index.js';
import { ResourceManager } from '../resource-manager.js';
import { type DatabaseHandle, type DatabaseProviderOptions, databaseProvider } from './database-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-db-resource-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const table = `orders_${process.pid}_${Date.now().toString(36)}`;

const servers: { name: string; options: DatabaseProviderOptions; config: Record<string, unknown> }[] = [
  {
    name: 'sqlite',
    options: { dialect: 'sqlite', filename: join(dir, 'db.sqlite') },
    config: { dialect: 'sqlite', path: join(dir, 'db.sqlite') },
  },
  {
    name: 'postgres',
    options: { dialect: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' },
    config: { dialect: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' },
  },
  {
    name: 'mariadb',
    options: { dialect: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: 'test' },
    config: { backend: 'mariadb', host: '127.0.0.1', port: 3306, user: 'root', database: 'test' },
  },
];

const exercise = async (handle: unknown) => {
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute((handle as DatabaseHandle).db);
  expect(Number(rows[0]?.one)).toBe(1);
};

for (const server of servers) {
  describeResourceProvider(`database/${server.name}`, () => databaseProvider(server.options), {
    exercise,
    cycles: 5,
  });

  describe(`database resource on ${server.name}`, () => {
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
