import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultResourceTypes, resourceFunctions } from '../index.js';
import { databaseProvider } from './database-provider.js';
import { testServers } from './test-support/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-dk-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const table = `dk_${process.pid}_${Date.now().toString(36)}`;

const servers = testServers(join(dir, 'db.sqlite'));

/** A dataknobs-format config: each state runs one member of dataknobs' database library. */
const config = (db: Record<string, unknown>) => ({
  name: 'dk_database',
  resources: [{ name: 'warehouse', type: 'database', config: db }],
  states: [
    {
      name: 'upsert',
      is_start: true,
      resources: ['warehouse'],
      transforms: [
        // dataknobs' factory spelling: resource, table, keys.
        { type: 'builtin', name: 'database.upsert', params: { resource: 'warehouse', table, keys: ['id'] } },
      ],
      arcs: [{ target: 'bulk' }],
    },
    {
      name: 'bulk',
      resources: ['warehouse'],
      transforms: [
        {
          type: 'custom',
          module: 'dataknobs_fsm.functions.library.database',
          name: 'DatabaseBulkInsert',
          params: { resource_name: 'warehouse', table, on_duplicate: 'ignore', key_columns: ['id'] },
        },
      ],
      arcs: [{ target: 'fetch' }],
    },
    {
      name: 'fetch',
      resources: ['warehouse'],
      transforms: [
        {
          type: 'builtin',
          name: 'DatabaseFetch',
          params: {
            resource_name: 'warehouse',
            query: `select id, label from ${table} where id >= :low order by id`,
            params: { low: 0 },
          },
        },
        {
          type: 'builtin',
          name: 'database.query',
          params: { resource: 'warehouse', result_field: 'count', allow_record_sql: true },
        },
      ],
      arcs: [{ target: 'done' }],
    },
    { name: 'done', is_end: true },
  ],
});

for (const server of servers) {
  describe(`dataknobs database library on ${server.name}`, () => {
    it('upsert, bulk_insert (ignore duplicates), fetch with :params and param_ fields, query from the record', async () => {
      const admin = await databaseProvider(server.options).create();
      const id = server.name === 'mariadb' ? 'varchar(64)' : 'text';
      await sql`create table ${sql.table(table)} (id ${sql.raw(id)} primary key, label ${sql.raw(id)})`.execute(
        admin.db,
      );
      try {
        const fsm = await SimpleFSM.create(config(server.config), {
          resourceTypes: defaultResourceTypes,
          builtins: resourceFunctions,
        });
        const r = await fsm.process({
          id: 'a',
          label: 'first',
          param_low: 'a',
          records: [
            { id: 'a', label: 'dupe' },
            { id: 'b', label: 'second' },
          ],
          query: `select count(*) as n from ${table} where label = :label`,
          params: { label: "first' or '1'='1" },
        });
        expect(r.error?.message).toBeUndefined();
        const data = r.data as Record<string, unknown>;
        // upsert took `records` (dataknobs' precedence: records, then record, then the record itself).
        expect(data.upserted_count).toBe(2);
        expect(data.inserted_count).toBe(0);
        // The record's own `records` key wins over the fetched rows ({"records": rows, **data}).
        expect(data.records).toEqual([
          { id: 'a', label: 'dupe' },
          { id: 'b', label: 'second' },
        ]);
        expect((data.count as Array<{ n: unknown }>).map((row) => Number(row.n))).toEqual([0]);
        const { rows } = await sql<{
          id: string;
          label: string;
        }>`select id, label from ${sql.table(table)} order by id`.execute(admin.db);
        expect(rows).toEqual([
          { id: 'a', label: 'dupe' },
          { id: 'b', label: 'second' },
        ]);
        // `record` is upserted alone; :low comes from param_low.
        const fetched = await fsm.process({
          record: { id: 'c', label: 'third' },
          param_low: 'b',
          query: `select count(*) as n from ${table}`,
        });
        expect(fetched.data).toMatchObject({ upserted_count: 1, inserted_count: 0, count: [{}] });
        expect((fetched.data as { records: unknown[] }).records).toEqual([
          { id: 'b', label: 'second' },
          { id: 'c', label: 'third' },
        ]);
        await fsm.close();
      } finally {
        await sql`drop table ${sql.table(table)}`.execute(admin.db);
        await admin.db.destroy();
      }
    });
  });
}

describe('DatabaseQuery runs SQL from records only when the config says so', () => {
  const queryConfig = (params: Record<string, unknown>) => ({
    name: 'record-sql',
    resources: [{ name: 'db', type: 'database', config: { dialect: 'sqlite', path: ':memory:' } }],
    states: [
      {
        name: 'q',
        is_start: true,
        resources: ['db'],
        transforms: [{ type: 'builtin', name: 'DatabaseQuery', params: { resource_name: 'db', ...params } }],
        arcs: [{ target: 'done' }],
      },
      { name: 'done', is_end: true },
    ],
  });

  it('without allow_record_sql it is CONFIG_INVALID at that param, naming the safe alternative', async () => {
    const created = SimpleFSM.create(queryConfig({}), {
      resourceTypes: defaultResourceTypes,
      builtins: resourceFunctions,
    });
    await expect(created).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const error = (await created.catch((e: unknown) => e)) as { issues: { path: string; message: string }[] };
    expect(error.issues.map((i) => i.path)).toContain(
      'networks[0].states[0].transforms[0].params.allow_record_sql',
    );
    expect(JSON.stringify(error.issues)).toContain('DatabaseFetch');
  });

  it('a factory param named after an Object.prototype member is reported by its own name', async () => {
    const created = SimpleFSM.create(queryConfig({ allow_record_sql: true, toString: 1 }), {
      resourceTypes: defaultResourceTypes,
      builtins: resourceFunctions,
    });
    const error = (await created.catch((e: unknown) => e)) as { issues: { message: string }[] };
    expect(JSON.stringify(error.issues)).not.toContain('native code');
    expect(JSON.stringify(error.issues)).toContain('toString');
  });
});

describe('dataknobs database members without an equivalent', () => {
  it.each(['database.BatchCommit', 'database.commit_batch', 'DatabaseTransaction'])(
    '%s is a config error naming what to use',
    async (name) => {
      const create = SimpleFSM.create(
        {
          name: 'x',
          states: [
            {
              name: 'a',
              is_start: true,
              transforms: [{ type: 'builtin', name, params: {} }],
              arcs: [{ target: 'b' }],
            },
            { name: 'b', is_end: true },
          ],
        },
        { builtins: resourceFunctions },
      );
      await expect(create).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(create).rejects.toThrow(/db_insert\/db_upsert/);
    },
  );

  it('on_conflict ignore without key columns is refused', async () => {
    const create = SimpleFSM.create(
      {
        name: 'x',
        states: [
          {
            name: 'a',
            is_start: true,
            transforms: [
              {
                type: 'builtin',
                name: 'database.DatabaseUpsert',
                params: { resource_name: 'db', table: 't', on_conflict: 'ignore' },
              },
            ],
            arcs: [{ target: 'b' }],
          },
          { name: 'b', is_end: true },
        ],
      },
      { builtins: resourceFunctions },
    );
    await expect(create).rejects.toThrow(/needs key_columns/);
  });
});
