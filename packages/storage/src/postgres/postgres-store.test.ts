import { describeHistoryStore, sampleHistory } from '@fsm/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from './postgres-store.js';

const url = process.env.FSM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const run = `fsm_t${process.pid}_${Date.now().toString(36)}`;
const schemas: string[] = [];
let n = 0;
const nextSchema = () => {
  const schema = `${run}_${++n}`;
  schemas.push(schema);
  return schema;
};

beforeAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect().catch((error: unknown) => {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (start it: see scripts/ensure-services.sh): ${error}`,
    );
  });
  await client.end();
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas)
    await client.query(`drop schema if exists "${schema.replaceAll('"', '""')}" cascade`);
  await client.end();
});

describeHistoryStore('postgres', () => openPostgresStore({ connectionString: url, schema: nextSchema() }));

describe('postgres store', () => {
  it('two stores opening the same schema at once migrate it once and share data', async () => {
    const schema = nextSchema();
    const [a, b] = await Promise.all([
      openPostgresStore({ connectionString: url, schema }),
      openPostgresStore({ connectionString: url, schema }),
    ]);
    await a.save(sampleHistory({ executionId: 'shared' }));
    expect((await b.load('shared'))?.executionId).toBe('shared');
    await Promise.all([a.close(), b.close()]);
  });

  it('a store without a schema migrates its own default schema even when another schema has the tables', async () => {
    const other = nextSchema();
    const fresh = nextSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create schema "${fresh}"`);
    await client.end();
    await (await openPostgresStore({ connectionString: url, schema: other })).close();
    // The connection's default schema is the empty one: its tables must be made there.
    const store = await openPostgresStore({
      connectionString: `${url}?options=${encodeURIComponent(`-c search_path=${fresh}`)}`,
    });
    await store.save(sampleHistory({ executionId: 'in-default-schema' }));
    expect((await store.load('in-default-schema'))?.executionId).toBe('in-default-schema');
    await store.close();
  });

  it('group commits reach a schema whose name needs quoting (capitals, a space, a double quote)', async () => {
    const schema = `${run}_Odd "Q" Name`;
    schemas.push(schema);
    const store = await openPostgresStore({ connectionString: url, schema });
    const history = sampleHistory({ executionId: 'quoted-schema', batchId: 'b', itemIndex: 0 });
    await store.finishExecution({
      executionId: 'quoted-schema',
      history,
      batchItem: { batchId: 'b', itemIndex: 0, executionId: 'quoted-schema', success: true, result: {} },
    });
    expect((await store.load('quoted-schema'))?.executionId).toBe('quoted-schema');
    expect((await store.loadBatchItems('b')).map((item) => item.executionId)).toEqual(['quoted-schema']);
    await store.close();
  });

  it('an unreachable server is a StorageError, not a hang', async () => {
    await expect(
      openPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'STORAGE_FAILED', backend: 'postgres' });
  });
});
