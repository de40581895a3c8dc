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
const schema = `fsm_flow${process.pid}_${Date.now().toString(36)}`;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

describeFlowSummary('memory', () => new MemoryStore());
describeFlowSummary('file', () => FileStore.open({ directory: join(dir, 'file') }));
describeFlowSummary('sqlite', () => openSqliteStore({ filename: join(dir, 'flow.db') }));
describeFlowSummary('postgres', () => openPostgresStore({ connectionString: url, schema }));
