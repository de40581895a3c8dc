import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFlowSummary } from '@fsm/core/testing';
import pg from 'pg';
import { afterAll } from 'vitest';
import { FileStore } from '../file/file-store.js';
import { MemoryStore } from '../memory/memory-store.js';
import { openPostgresStore } from '../postgres/postgres-store.js';
import { openSqliteStore } from '../sqlite/sqlite-store.js';

// The flow summary and search of every built-in store: SQL aggregation on SQLite and PostgreSQL,
// the in-memory fallback on memory and file stores.
const dir = mkdtempSync(join(tmpdir(), 'fsm-flow-'));
const url = process.env.FSM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const run = `fsm_flow${process.pid}_${Date.now().toString(36)}`;
const schemas: string[] = [];
let n = 0;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

describeFlowSummary('memory', () => new MemoryStore());
// A fresh store per call: the suite opens more than one.
describeFlowSummary('file', () => FileStore.open({ directory: join(dir, `file-${++n}`) }));
describeFlowSummary('sqlite', () => openSqliteStore({ filename: join(dir, `flow-${++n}.db`) }));
describeFlowSummary('postgres', () => {
  const schema = `${run}_${++n}`;
  schemas.push(schema);
  return openPostgresStore({ connectionString: url, schema });
});
