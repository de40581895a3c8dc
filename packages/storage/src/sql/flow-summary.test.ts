import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExecutionHistory,
  type ExecutionHistoryData,
  type HistoryStep,
  type HistoryStore,
  scanExecutions,
  scanFlowSummary,
} from '@fsm/core';
import { describeFlowSummary, flowSampleHistories } from '@fsm/core/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
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
describeFlowSummary('sqlite', () => openSqliteStore({ filename: join(dir, `flow-${++n}.db`) }), {
  windowedFieldSearch: true,
});
describeFlowSummary(
  'postgres',
  () => {
    const schema = `${run}_${++n}`;
    schemas.push(schema);
    return openPostgresStore({ connectionString: url, schema });
  },
  { windowedFieldSearch: true },
);

// SQLite serializes index updates with `begin immediate` across processes; two connections in one process
// would block each other's synchronous busy wait (better-sqlite3), so only PostgreSQL is raced here.
describe('flow index shared by two stores on one database', () => {
  const pairs: [string, () => Promise<[HistoryStore, HistoryStore]>][] = [
    [
      'postgres',
      async () => {
        const schema = `${run}_${++n}`;
        schemas.push(schema);
        const a = await openPostgresStore({ connectionString: url, schema });
        return [a, await openPostgresStore({ connectionString: url, schema })];
      },
    ],
  ];
  for (const [name, open] of pairs) {
    it(`${name}: summaries at the same time index each new execution once`, async () => {
      const [a, b] = await open();
      try {
        const histories = flowSampleHistories();
        await a.summarizeFlow?.({ fsm: 'scoring' });
        for (const h of histories) await a.save(new ExecutionHistory(structuredClone(h)));
        const [x, y] = await Promise.all([
          a.summarizeFlow?.({ fsm: 'scoring' }),
          b.summarizeFlow?.({ fsm: 'scoring' }),
        ]);
        const expected = await scanFlowSummary(histories, { fsm: 'scoring' });
        expect(x).toEqual(expected);
        expect(y).toEqual(expected);
        expect(await a.summarizeFlow?.({ fsm: 'scoring' })).toEqual(expected);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }
});

describe('flow index made by an earlier version', () => {
  it('sqlite: totals without final-state counts get them once, and the search counts by final state', async () => {
    const filename = join(dir, `old-${++n}.db`);
    const histories = flowSampleHistories();
    const first = await openSqliteStore({ filename });
    try {
      for (const h of histories) await first.save(new ExecutionHistory(structuredClone(h)));
      await first.summarizeFlow({});
    } finally {
      await first.close();
    }
    // As the index was before it counted final states.
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(filename);
    raw.prepare(`delete from fsm_flow_totals where network = '' and state = 'final'`).run();
    raw.close();
    const store = await openSqliteStore({ filename });
    try {
      for (const finalState of ['ok', 'bad', 'calc']) {
        const page = await store.findExecutions({ finalState, limit: 100 });
        const reference = await scanExecutions(histories, { finalState, limit: 100 });
        expect(page.counts, finalState).toEqual(reference.counts);
        expect(page.items.map((i) => i.executionId)).toEqual(reference.items.map((i) => i.executionId));
      }
    } finally {
      await store.close();
    }
  });
});

/** A history's body as stores wrote it with packing 1: every step with its network and both times. */
function packingOneBody(history: ExecutionHistoryData): string {
  const base = history.startedAt;
  const steps = (list: HistoryStep[]): unknown[] =>
    list.map((step) => ({
      ...step,
      startedAt: step.startedAt - base,
      ...(step.endedAt !== undefined ? { endedAt: step.endedAt - base } : {}),
      ...(step.children ? { children: steps(step.children) } : {}),
    }));
  return JSON.stringify({ ...history, packing: 1, steps: steps(history.steps) });
}

describe('bodies written with packing 1 (every step names its network and both times)', () => {
  const row = (h: ExecutionHistoryData) => [
    h.executionId,
    h.fsm,
    h.status,
    h.startedAt,
    h.endedAt ?? null,
    packingOneBody(h),
  ];
  const insert =
    'insert into fsm_histories (execution_id, fsm, status, started_at, ended_at, body) values ($1, $2, $3, $4, $5, $6)';

  it('sqlite: summarize as the scan does, next to packing 2 bodies', async () => {
    const filename = join(dir, `packing-one-${++n}.db`);
    const histories = flowSampleHistories();
    const store = await openSqliteStore({ filename });
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(filename);
    const half = Math.floor(histories.length / 2);
    try {
      const statement = raw.prepare(insert.replace(/\$\d/g, '?'));
      for (const h of histories.slice(0, half)) statement.run(...row(h));
      for (const h of histories.slice(half)) await store.save(new ExecutionHistory(structuredClone(h)));
      for (const filter of [{}, { fsm: 'scoring' }]) {
        expect(await store.summarizeFlow(filter)).toEqual(await scanFlowSummary(histories, filter));
      }
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('postgres: summarize as the scan does, next to packing 2 bodies', async () => {
    const schema = `${run}_${++n}`;
    schemas.push(schema);
    const histories = flowSampleHistories();
    const store = await openPostgresStore({ connectionString: url, schema });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const half = Math.floor(histories.length / 2);
    try {
      for (const h of histories.slice(0, half))
        await client.query(insert.replace('fsm_histories', `"${schema}".fsm_histories`), row(h));
      for (const h of histories.slice(half)) await store.save(new ExecutionHistory(structuredClone(h)));
      for (const filter of [{}, { fsm: 'scoring' }]) {
        expect(await store.summarizeFlow(filter)).toEqual(await scanFlowSummary(histories, filter));
      }
    } finally {
      await client.end();
      await store.close();
    }
  });
});
