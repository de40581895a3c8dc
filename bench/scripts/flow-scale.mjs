#!/usr/bin/env node
// The inspector's queries on a big store: fills a SQLite file or a PostgreSQL schema with N synthetic etl-demo
// histories (real bodies from a small `fsm run`, copied with new ids and times: the whole bulk run finishes
// within one minute, the worst case for the flow index's freshness check), builds the flow index with one
// summary, then times summaries and searches (median of 5). Build first:
//   pnpm exec turbo run build --filter=@fsm/storage... --output-logs=errors-only
//   fsm run apps/etl-demo/etl.yaml --input <50 orders> --storage sqlite:/tmp/src.db --batch-id demo
//   node bench/scripts/flow-scale.mjs --source /tmp/src.db --storage sqlite:/tmp/1m.db [--count 1000000] [--fill-only|--no-fill]
//   node bench/scripts/flow-scale.mjs --source /tmp/src.db --storage 'postgres://postgres@127.0.0.1:5432/test?schema=flow1m' [--drop]
// --fields-only times the data-field searches alone (they read history bodies, not the flow index: no index build).
import Database from 'better-sqlite3';
import { ExecutionHistory } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import pg from 'pg';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const flag = (name) => args.includes(`--${name}`);
const source = option('source');
const storage = option('storage');
const count = Number(option('count', '1000000'));
if (!source || !storage) {
  console.error(
    'usage: flow-scale.mjs --source <sqlite file of a small etl-demo run> --storage <url> [--count N]',
  );
  process.exit(2);
}

/** One succeeded and one failed body of the small run: every 50th synthetic record fails, as in the demo. */
function templates() {
  const db = new Database(source, { readonly: true });
  const pick = (status) =>
    db.prepare('select body from fsm_histories where status = ? limit 1').get(status)?.body;
  const ok = pick('succeeded');
  const failed = pick('failed');
  db.close();
  if (!ok || !failed) throw new Error(`${source} needs a succeeded and a failed history`);
  return { ok: JSON.parse(ok), failed: JSON.parse(failed) };
}

const T0 = Date.UTC(2026, 5, 1);
/** Row i of the synthetic run: 1 M records started and ended within 60 s, batches of 100 000. */
function row(i, bodies) {
  const template = i % 50 === 49 ? bodies.failed : bodies.ok;
  const startedAt = T0 + Math.floor((i * 60_000) / count);
  const endedAt = startedAt + (template.endedAt - template.startedAt);
  const batchId = `bulk-${Math.floor(i / 100_000)}`;
  const executionId = `${batchId}:${i}`;
  const customer = `c${String(i % 5000).padStart(4, '0')}`;
  const input = { ...template.input, order_id: `A-${i}`, customer };
  const body = { ...template, executionId, startedAt, endedAt, batchId, itemIndex: i, input };
  if (template.output)
    body.output = {
      ...template.output,
      data: { ...template.output.data, order_id: input.order_id, customer },
    };
  return [executionId, template.fsm, template.status, startedAt, endedAt, batchId, i, JSON.stringify(body)];
}

async function fillSqlite(file, bodies) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'insert into fsm_histories (execution_id, fsm, status, started_at, ended_at, batch_id, item_index, body) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const chunk = db.transaction((from, to) => {
    for (let i = from; i < to; i++) insert.run(...row(i, bodies));
  });
  for (let i = 0; i < count; i += 50_000) chunk(i, Math.min(count, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function fillPostgres(url, schema, bodies) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `"${schema}".fsm_histories`;
  for (let i = 0; i < count; i += 2000) {
    const values = [];
    const params = [];
    for (let j = i; j < Math.min(count, i + 2000); j++) {
      const r = row(j, bodies);
      values.push(`(${r.map((_, k) => `$${params.length + k + 1}`).join(', ')})`);
      params.push(...r);
    }
    await client.query(
      `insert into ${table} (execution_id, fsm, status, started_at, ended_at, batch_id, item_index, body) values ${values.join(', ')}`,
      params,
    );
  }
  await client.query(`vacuum analyze ${table}`);
  await client.end();
}

async function time(label, work, runs = 5) {
  const ms = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await work();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(46)} median ${ms[Math.floor(runs / 2)].toFixed(1).padStart(8)} ms  (min ${ms[0].toFixed(1)}, max ${ms.at(-1).toFixed(1)})`,
  );
  return result;
}

const bodies = templates();
const isPostgres = storage.startsWith('postgres');
const schema = isPostgres ? new URL(storage).searchParams.get('schema') : undefined;
if (isPostgres && !schema) throw new Error('give the PostgreSQL store its own ?schema=');
// Opening the store runs its migrations (the tables exist before the synthetic rows go in).
let store = await createStorage(storage);
if (!flag('no-fill')) {
  await store.close();
  const t = performance.now();
  if (isPostgres) {
    const url = new URL(storage);
    url.searchParams.delete('schema');
    await fillPostgres(url.toString(), schema, bodies);
  } else await fillSqlite(storage.replace(/^sqlite:/, ''), bodies);
  console.log(`filled ${count} histories in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (flag('fill-only')) process.exit(0);
  store = await createStorage(storage);
}
let k = 0;
/** Histories this run adds (deleted again at the end). */
const late = [];
const fieldsOnly = flag('fields-only');
try {
  if (!fieldsOnly) {
    await time('first summary (builds the flow index)', () => store.summarizeFlow({}), 1);
    const flow = await time('summary, whole store', () => store.summarizeFlow({}));
    console.log(
      `  ${flow.executions} executions, ${flow.arcs.length} arcs, statuses ${JSON.stringify(flow.statuses)}`,
    );
    await time('summary, one batch', () => store.summarizeFlow({ batchId: 'bulk-3' }));
    await time('summary, status failed', () => store.summarizeFlow({ status: 'failed' }));
    // A write to another table: the change mark moves, so the summary runs the index-only check (nothing new).
    await time('summary after an unrelated write (full check)', async () => {
      await store.saveCheckpoint({ executionId: `ck-${k}`, fsm: 'x', state: 'a', data: {}, path: [] });
      await store.deleteCheckpoint(`ck-${k++}`);
      return store.summarizeFlow({});
    });
    await time('search, first page, no filter', () => store.findExecutions({ limit: 50 }));
    await time('search, status failed', () => store.findExecutions({ status: 'failed', limit: 50 }));
    await time('search, final state (98 % of the store)', () =>
      store.findExecutions({ finalState: 'loaded', limit: 50 }),
    );
    await time('search, error code', () =>
      store.findExecutions({ errorCode: 'VALIDATION_FAILED', limit: 50 }),
    );
  }
  const customer = { path: 'customer', value: 'c0042' };
  const field = await time('search, data field (customer = c0042), first page', () =>
    store.findExecutions({ field: customer, limit: 50 }),
  );
  const { items, nextCursor, ...counted } = field;
  console.log(`  ${items.length} items, ${JSON.stringify(counted)}`);
  await time('search, data field, next page', () =>
    store.findExecutions({ field: customer, limit: 50, cursor: nextCursor }),
  );
  // The inspector names its FSM in every search.
  await time('search, data field, with the fsm (as the inspector asks)', () =>
    store.findExecutions({ fsm: bodies.ok.fsm, field: customer, limit: 50 }),
  );
  await time('search, data field, no match', () =>
    store.findExecutions({ field: { path: 'customer', value: 'nobody' }, limit: 50 }),
  );
  // The worst case of a window: a value of every record, so no body is skipped unparsed.
  const everyRecord = { path: 'region', value: bodies.ok.input.region };
  const common = await time('search, data field of every record, first page', () =>
    store.findExecutions({ field: everyRecord, limit: 50 }),
  );
  await time('search, data field of every record, next page', () =>
    store.findExecutions({ field: everyRecord, limit: 50, cursor: common.nextCursor }),
  );
  const exact = await time(
    'search, data field, exact counts (count all)',
    () => store.findExecutions({ field: customer, limit: 50, exactCounts: true }),
    1,
  );
  console.log(`  counts ${JSON.stringify(exact.counts)}`);
  if (!fieldsOnly) {
    // Last: it moves the newest end time past the bulk run (the next checks read a short window).
    // One more finished execution each time, ending after everything indexed (a live run's usual second).
    await time('summary after one new history', async () => {
      const [, , , startedAt, endedAt, , , body] = row(count + k++, bodies);
      const history = JSON.parse(body);
      history.executionId = `late-${k}`;
      late.push(history.executionId);
      history.startedAt = startedAt + 60_000;
      history.endedAt = endedAt + 60_000;
      await store.save(new ExecutionHistory(history));
      return store.summarizeFlow({});
    });
  }
} finally {
  // The store as it was (the bulk run's minute is the newest again) for the next measurement.
  for (const id of late) await store.delete(id);
  if (!fieldsOnly) await time('summary after deleting those', () => store.summarizeFlow({}), 1);
  await store.close();
  if (isPostgres && flag('drop')) {
    const url = new URL(storage);
    url.searchParams.delete('schema');
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}
