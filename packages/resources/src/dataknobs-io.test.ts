import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseProvider } from './database/database-provider.js';
import { defaultResourceTypes, resourceFunctions } from './index.js';
import { testServers } from './database/test-support/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-dk-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const table = `dk_ref_${process.pid}_${Date.now().toString(36)}`;
const options = { resourceTypes: defaultResourceTypes, builtins: resourceFunctions };

/** One state running one transform on the resource `res`. */
const oneState = (resource: Record<string, unknown>, transform: Record<string, unknown>) => ({
  name: 'dk_io',
  resources: [{ name: 'res', ...resource }],
  states: [
    { name: 'a', is_start: true, resources: ['res'], transforms: [transform], arcs: [{ target: 'b' }] },
    { name: 'b', is_end: true },
  ],
});

const servers = testServers(join(dir, 'ref.sqlite'));

for (const server of servers) {
  describe(`dataknobs enrichers on ${server.name}`, () => {
    it('LookupMergeEnricher and build_record_enricher merge the matching reference row', async () => {
      const admin = await databaseProvider(server.options).create();
      const t = sql.raw(server.name === 'mariadb' ? 'varchar(64)' : 'text');
      await sql`create table ${sql.table(table)} (code ${t} primary key, region ${t}, name ${t}, tier ${t})`.execute(
        admin.db,
      );
      await sql`insert into ${sql.table(table)} values ('a', 'eu', 'Alpha', 'gold'), ('b', null, 'Beta', null)`.execute(
        admin.db,
      );
      const db = { type: 'database', config: server.config };
      try {
        const lookup = await SimpleFSM.create(
          oneState(db, {
            type: 'custom',
            module: 'dataknobs_fsm.functions.library.enrichers',
            name: 'LookupMergeEnricher',
            params: { resource_name: 'res', table, match: { cust: 'code' } },
          }),
          options,
        );
        // Every reference column but the match column; the record's own `name` is kept (no overwrite).
        expect((await lookup.process({ cust: 'a', name: 'mine' })).data).toEqual({
          cust: 'a',
          name: 'mine',
          region: 'eu',
          tier: 'gold',
        });
        expect((await lookup.process({ cust: 'zz' })).data).toEqual({ cust: 'zz' });
        await lookup.close();

        const built = await SimpleFSM.create(
          oneState(db, {
            type: 'builtin',
            name: 'enrichers.build_record_enricher',
            params: {
              spec: {
                resource: 'res',
                table,
                match: { cust: 'code' },
                fields: ['name', 'tier'],
                overwrite: true,
              },
              on_missing: 'null',
            },
          }),
          options,
        );
        expect((await built.process({ cust: 'b', name: 'mine' })).data).toEqual({
          cust: 'b',
          name: 'Beta',
          tier: null,
        });
        expect((await built.process({ cust: 'x', name: 'mine' })).data).toEqual({
          cust: 'x',
          name: null,
          tier: null,
        });
        await built.close();

        const strict = await SimpleFSM.create(
          oneState(db, {
            type: 'builtin',
            name: 'LookupMergeEnricher',
            params: {
              resource_name: 'res',
              table,
              match: { cust: 'code', reg: 'region' },
              on_missing: 'error',
            },
          }),
          options,
        );
        // A missing match field looks up null: row b has a null region.
        expect((await strict.process({ cust: 'b' })).data).toMatchObject({ name: 'Beta' });
        const failed = await strict.process({ cust: 'a', reg: 'us' });
        expect(failed.success).toBe(false);
        expect(failed.error?.message).toMatch(/No reference row matched/);
        // A match value SQL cannot bind is a record error naming the lookup.
        const unbindable = await strict.process({ cust: { nested: 1 } });
        expect(unbindable.success).toBe(false);
        expect(unbindable.error?.message).toMatch(/Enrichment lookup failed|No reference row matched/);
        await strict.close();
      } finally {
        await sql`drop table ${sql.table(table)}`.execute(admin.db);
        await admin.db.destroy();
      }
    });
  });
}

describe('dataknobs enricher specs refused as dataknobs refuses them', () => {
  it.each([
    [{ resource_name: 'res', table: 't', match: {} }, /non-empty 'match'/],
    [{ resource_name: 'res', table: 't', match: { a: 'b' }, overwrite: true }, /explicit 'fields'/],
    [{ resource_name: 'res', table: 't', match: { a: 'b' }, on_missing: 'null' }, /explicit 'fields'/],
    [{ resource_name: 'res', table: '__proto__', match: { a: 'b' } }, /not allowed/],
  ])('LookupMergeEnricher %j', async (params, message) => {
    const create = SimpleFSM.create(
      oneState(
        { type: 'database', config: { dialect: 'sqlite', path: ':memory:' } },
        {
          type: 'builtin',
          name: 'enrichers.LookupMergeEnricher',
          params,
        },
      ),
      options,
    );
    await expect(create).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(create).rejects.toThrow(message);
  });

  it.each([
    [{ database: { dialect: 'sqlite' } }, /ETL-level convenience/],
    [{ match: { a: 'b' } }, /no 'resource' source key/],
    [{ resource: 'res', match: {} }, /non-empty 'match'/],
  ])('build_record_enricher spec %j', async (spec, message) => {
    const create = SimpleFSM.create(
      oneState(
        { type: 'database', config: { dialect: 'sqlite', path: ':memory:' } },
        {
          type: 'builtin',
          name: 'build_record_enricher',
          params: { spec },
        },
      ),
      options,
    );
    await expect(create).rejects.toThrow(message);
  });

  it('build_record_enricher with a field map needs no resource', async () => {
    const fsm = await SimpleFSM.create(
      oneState(
        { type: 'filesystem', config: { root: dir } },
        {
          type: 'builtin',
          name: 'build_record_enricher',
          params: { spec: { source: 'crm', id: 0 } },
        },
      ),
      options,
    );
    expect((await fsm.process({ id: 1 })).data).toEqual({ id: 1, source: 'crm' });
    await fsm.close();
  });
});

describe('dataknobs FileAppender on a filesystem resource', () => {
  const folder = { type: 'filesystem', config: { root: join(dir, 'out') } };
  const appender = (params: Record<string, unknown>) =>
    SimpleFSM.create(
      oneState(folder, {
        type: 'builtin',
        name: 'streaming.FileAppender',
        params: { resource_name: 'res', ...params },
      }),
      options,
    );
  const text = (file: string) => readFileSync(join(dir, 'out', file), 'utf8');

  it('appends lines (dicts as Python json.dumps), a json array, and csv with a header once', async () => {
    const lines = await appender({ file_path: 'a/log.txt', format: 'lines' });
    const r = await lines.process({ data: [{ k: 'é', n: [1, 2] }, 'plain', null] });
    expect(r.data).toMatchObject({ appended_count: 3, buffer_size: 0 });
    await lines.process({ data: true });
    await lines.process({ other: 1 });
    expect(text('a/log.txt')).toBe('{"k": "\\u00e9", "n": [1, 2]}\nplain\nNone\nTrue\n');
    await lines.close();

    const json = await appender({ file_path: 'all.json' });
    await Promise.all([json.process({ data: { i: 1 } }), json.process({ data: [{ i: 2 }, { i: 3 }] })]);
    expect(JSON.parse(text('all.json'))).toHaveLength(3);
    await json.close();

    const csv = await SimpleFSM.create(
      oneState(folder, {
        type: 'builtin',
        name: 'append_to_file',
        params: { resource: 'res', path: 'rows.csv', format: 'csv', field: 'rows' },
      }),
      options,
    );
    await csv.process({ rows: [{ a: 'x,y', b: 1 }, { a: 'q"' }] });
    await csv.process({ rows: { a: 'z', b: null } });
    expect(text('rows.csv')).toBe('a,b\r\n"x,y",1\r\n"q""",\r\nz,\r\n');
    await csv.close();
  });

  it('a json file that is not JSON fails the record with a DataError', async () => {
    const fsm = await appender({ file_path: 'a/log.txt' });
    const r = await fsm.process({ data: { i: 1 } });
    expect(r.success).toBe(false);
    expect(r.error).toMatchObject({ code: 'DATA_INVALID' });
    expect(r.error?.message).toMatch(/is not JSON to append to/);
    await fsm.close();
  });

  it('refuses a path outside the folder', async () => {
    const fsm = await appender({ file_path: '../escape.txt', format: 'lines' });
    const r = await fsm.process({ data: 'x' });
    expect(r.success).toBe(false);
    expect(r.error?.message).toMatch(/outside/);
    await fsm.close();
  });
});
