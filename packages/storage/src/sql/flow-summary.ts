import {
  decodeSearchCursor,
  type ExecutionFilter,
  type ExecutionMatch,
  type ExecutionSearch,
  type ExecutionSearchPage,
  type ExecutionStatus,
  emptyStatusCounts,
  encodeSearchCursor,
  type FlowSummary,
  fieldPathSegments,
  searchScanLimit,
  sortFlowSummary,
} from '@fsm/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { toMillis } from '../shared/summaries.js';
import { fieldMatch, sqlFieldSearch } from './field-search.js';
import type { StoreTables } from './schema.js';

type Backend = 'sqlite' | 'postgres';

/*
 * Flow summaries and searches aggregated in SQL, so a store of a million executions answers with a
 * few hundred rows. Steps live in each history's JSON body (nested under `children` for push arcs):
 * a recursive CTE unnests them — json_each on SQLite, jsonb_array_elements on PostgreSQL.
 */

/** A top-level field of the body as text (SQL NULL when absent). */
function bodyText(backend: Backend, ...path: string[]): RawBuilder<string | null> {
  if (backend === 'postgres') return sql`(h.body::jsonb #>> ${`{${path.join(',')}}`})`;
  const jsonPath = `$.${path.join('.')}`;
  // json_extract gives 1/0 for JSON booleans; spell them as JSON does, like Postgres' #>>.
  return sql`(case json_type(h.body, ${jsonPath}) when 'true' then 'true' when 'false' then 'false' when 'null' then null else cast(json_extract(h.body, ${jsonPath}) as text) end)`;
}

/**
 * The filter on the histories (alias `h`). With the flow index (`indexed`, up to date), final state and
 * error code are looked up in its indexed columns instead of parsing every body: only finished
 * executions have them.
 */
function whereClause(
  backend: Backend,
  filter: ExecutionFilter,
  indexed?: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (filter.fsm !== undefined) conditions.push(sql`h.fsm = ${filter.fsm}`);
  if (filter.status !== undefined) conditions.push(sql`h.status = ${filter.status}`);
  if (filter.batchId !== undefined) conditions.push(sql`h.batch_id = ${filter.batchId}`);
  if (filter.since !== undefined) conditions.push(sql`h.started_at >= ${toMillis(filter.since)}`);
  if (filter.until !== undefined) conditions.push(sql`h.started_at < ${toMillis(filter.until)}`);
  if (filter.finalState !== undefined) {
    conditions.push(
      indexed
        ? sql`h.execution_id in (select x.execution_id from ${indexed} x where x.final_state = ${filter.finalState})`
        : sql`${bodyText(backend, 'finalState')} = ${filter.finalState}`,
    );
  }
  if (filter.errorCode !== undefined) {
    conditions.push(
      indexed
        ? sql`h.execution_id in (select x.execution_id from ${indexed} x where x.error_code = ${filter.errorCode})`
        : sql`${bodyText(backend, 'error', 'code')} = ${filter.errorCode}`,
    );
  }
  if (filter.field !== undefined) conditions.push(fieldMatch(backend, filter.field));
  return sql.join(conditions, sql` and `);
}

function historiesTable(schema: string | undefined): RawBuilder<unknown> {
  return sql.table(schema ? `${schema}.fsm_histories` : 'fsm_histories');
}

/**
 * `s(eid, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended, children)`: every
 * step of the matching histories, nested ones too, with its execution's columns. Each step's fields are
 * read once in the CTE, so the big `data` of a step is not parsed again per aggregate.
 */
function stepsCte(
  backend: Backend,
  where: RawBuilder<unknown>,
  schema: string | undefined,
  /** The histories as `<table> h` (a hint may follow the alias). */
  histories: RawBuilder<unknown> = sql`${historiesTable(schema)} h`,
): RawBuilder<unknown> {
  const carried = (from: 'h' | 's') =>
    sql.raw(
      from === 'h'
        ? 'h.execution_id, h.fsm, h.batch_id, h.status, h.started_at'
        : 's.eid, s.fsm, s.batch_id, s.status, s.started_at',
    );
  const columns = sql.raw(
    'eid, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended, children',
  );
  // Packed bodies (core's packHistoryBody): a step without `network` is in its level's first step's network,
  // and its duration is `ms` (packing 2) or `endedAt - startedAt` (packing 1).
  if (backend === 'postgres') {
    const fields = (v: string, level: string) =>
      sql.raw(`coalesce(${v} ->> 'network', ${level} -> 0 ->> 'network'), ${v} ->> 'state', ${v} ->> 'arc',
        ((${v} -> 'error') is not null)::int,
        coalesce((${v} ->> 'ms')::float8, (${v} ->> 'endedAt')::float8 - (${v} ->> 'startedAt')::float8),
        ((${v} -> 'ms') is not null or (${v} -> 'endedAt') is not null)::int,
        case when jsonb_typeof(${v} -> 'children') = 'array' then ${v} -> 'children' end`);
    return sql`with recursive s(${columns}) as (
      select ${carried('h')}, ${fields('j.step', 'b.steps')} from ${histories}
        cross join lateral (select h.body::jsonb -> 'steps' as steps) as b
        cross join lateral jsonb_array_elements(b.steps) as j(step)
      where ${where}
      union all
      select ${carried('s')}, ${fields('c.step', 's.children')} from s
        cross join lateral jsonb_array_elements(s.children) as c(step)
      where s.children is not null
    )`;
  }
  const fields = (v: string, firstNetwork: string) =>
    sql.raw(`coalesce(json_extract(${v}, '$.network'), ${firstNetwork}), json_extract(${v}, '$.state'),
      json_extract(${v}, '$.arc'), json_type(${v}, '$.error') is not null,
      coalesce(json_extract(${v}, '$.ms'), json_extract(${v}, '$.endedAt') - json_extract(${v}, '$.startedAt')),
      json_type(${v}, '$.ms') is not null or json_type(${v}, '$.endedAt') is not null,
      json_extract(${v}, '$.children')`);
  return sql`with recursive s(${columns}) as (
    select ${carried('h')}, ${fields('j.value', "json_extract(h.body, '$.steps[0].network')")}
      from ${histories}, json_each(h.body, '$.steps') j where ${where}
    union all
    select ${carried('s')}, ${fields('c.value', "json_extract(s.children, '$[0].network')")}
      from s, json_each(s.children) c where s.children is not null
  )`;
}

/*
 * The flow index: finished executions' steps as plain rows (`fsm_flow_steps`) and which executions are
 * in it (`fsm_flow_indexed`, with their end time, status and error code). A summary reads the rows with
 * one GROUP BY instead of parsing every history's JSON again; only histories that finished since the last
 * summary are unnested (found through the `ended_at` index), so a live view of a store of a million
 * executions parses what is new. Histories saved again (another end time or status) are re-indexed,
 * deleted ones dropped. The tables are a cache of the histories, created on first use.
 */
const table = (schema: string | undefined, name: string) => sql.table(schema ? `${schema}.${name}` : name);
/** Finished executions whose end time is up to this much before the newest indexed one are re-checked (clock skew between writers). */
const SKEW_MS = 60_000;
const ready = new WeakMap<object, Promise<void>>();

function ensureFlowIndex(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<void> {
  let done = ready.get(db);
  if (!done) {
    done = createFlowIndex(db, backend, schema).then(() => countFinalStates(db, backend, schema));
    ready.set(db, done);
    done.catch(() => ready.delete(db));
  }
  return done;
}

async function createFlowIndex(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<void> {
  const id = backend === 'postgres' ? sql.raw('text collate "C"') : sql.raw('text');
  await db.transaction().execute(async (trx) => {
    // Two processes creating the tables at once race on Postgres' catalog: one at a time.
    if (backend === 'postgres')
      await sql`select pg_advisory_xact_lock(hashtext(${`fsm_flow_index:${schema ?? ''}`}))`.execute(trx);
    await sql`create table if not exists ${table(schema, 'fsm_flow_indexed')} (
      execution_id ${id} primary key, fsm text not null, batch_id text, status text not null,
      started_at bigint not null, ended_at bigint not null, error_code text, final_state text)`.execute(trx);
    for (const column of ['error_code', 'final_state']) {
      // A search by error code or final state reads its page newest first, and its counts, from these alone.
      await sql`create index if not exists ${sql.raw(`fsm_flow_indexed_${column}_page`)}
        on ${table(schema, 'fsm_flow_indexed')} (${sql.raw(column)}, started_at desc, execution_id desc, status)`.execute(
        trx,
      );
      // Its prefix, made by earlier versions: a second copy to keep up for nothing.
      await sql`drop index if exists ${table(schema, `fsm_flow_indexed_${column}`)}`.execute(trx);
    }
    await sql`create index if not exists fsm_flow_indexed_ended on ${table(schema, 'fsm_flow_indexed')} (ended_at)`.execute(
      trx,
    );
    await sql`create table if not exists ${table(schema, 'fsm_flow_steps')} (
      execution_id ${id} not null, fsm text not null, batch_id text, status text not null, started_at bigint not null,
      network text not null, state text not null, arc text, failed integer not null, ms double precision,
      ended integer not null)`.execute(trx);
    await sql`create index if not exists fsm_flow_steps_execution on ${table(schema, 'fsm_flow_steps')} (execution_id)`.execute(
      trx,
    );
    await sql`create index if not exists fsm_flow_steps_fsm_batch on ${table(schema, 'fsm_flow_steps')} (fsm, batch_id)`.execute(
      trx,
    );
    await sql`create index if not exists fsm_flow_indexed_fsm_batch on ${table(schema, 'fsm_flow_indexed')} (fsm, batch_id)`.execute(
      trx,
    );
    // Running executions are read from their JSON: a partial index finds the few of them without a scan.
    await sql`create index if not exists fsm_histories_unfinished on ${historiesTable(schema)} (status)
      where status = 'running' or ended_at is null`.execute(trx);
    // Running totals per FSM, batch, status and arc: the whole store's or a batch's flow is a few hundred rows.
    await sql`create table if not exists ${table(schema, 'fsm_flow_totals')} (
      fsm text not null, batch_id text not null, status text not null, network text not null, state text not null,
      arc text not null, n bigint not null, failures bigint not null, total_ms double precision not null,
      timed bigint not null, primary key (fsm, batch_id, status, network, state, arc))`.execute(trx);
  });
}

/**
 * Totals made before they counted final states have none: counted once from the index's rows, under the
 * refresh's lock (a refresh moving counts at the same time would count some twice).
 */
async function countFinalStates(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<void> {
  const totals = table(schema, 'fsm_flow_totals');
  const indexed = table(schema, 'fsm_flow_indexed');
  const missing = async (q: Kysely<StoreTables>) => {
    const counted =
      await sql`select 1 as x from ${totals} where network = '' and state = 'final' limit 1`.execute(q);
    if (counted.rows.length > 0) return false;
    const some = await sql`select 1 as x from ${indexed} where final_state is not null limit 1`.execute(q);
    return some.rows.length > 0;
  };
  if (!(await missing(db))) return;
  await writeTransaction(db, backend, schema, async (trx) => {
    if (!(await missing(trx))) return;
    await sql`insert into ${totals} (fsm, batch_id, status, network, state, arc, n, failures, total_ms, timed)
      select fsm, coalesce(batch_id, ''), status, '', 'final', final_state, count(*), 0, 0, 0 from ${indexed}
      where final_state is not null group by 1, 2, 3, 6`.execute(trx);
  });
}

/**
 * `column` is one of `ids`, passed as one parameter: the planner looks each up by its index. (On PostgreSQL
 * an `in (subquery)` estimated at thousands of rows became a hash join over every step row: 0.7 s a statement.)
 */
function idIn(backend: Backend, column: string, ids: readonly string[]): RawBuilder<unknown> {
  const ref = sql.ref(column);
  if (backend === 'postgres') return sql`${ref} = any(${[...ids]}::text[])`;
  return sql`${ref} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/** Ids per statement: bounds the parameter (a first index of a million executions goes in chunks). */
const CHUNK = 20_000;

/** Adds (sign 1) or takes out (sign -1) the step rows of some executions to the running totals. */
function moveTotals(
  schema: string | undefined,
  sign: 1 | -1,
  /** Which step rows, on `s.execution_id`. */
  executions: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const k = sql.raw(String(sign));
  return sql`insert into ${table(schema, 'fsm_flow_totals')} as t
      (fsm, batch_id, status, network, state, arc, n, failures, total_ms, timed)
    select s.fsm, coalesce(s.batch_id, ''), s.status, s.network, s.state, coalesce(s.arc, ''),
      ${k} * count(*), ${k} * sum(s.failed), ${k} * coalesce(sum(s.ms), 0), ${k} * sum(s.ended)
    from ${table(schema, 'fsm_flow_steps')} s where ${executions}
    group by s.fsm, coalesce(s.batch_id, ''), s.status, s.network, s.state, coalesce(s.arc, '')
    on conflict (fsm, batch_id, status, network, state, arc) do update set n = t.n + excluded.n,
      failures = t.failures + excluded.failures, total_ms = t.total_ms + excluded.total_ms,
      timed = t.timed + excluded.timed`;
}

/**
 * Execution, error-code and final-state counts kept in the totals as rows with an empty network: `state = ''`
 * counts executions, `state = 'error'` counts them by error code and `state = 'final'` by final state (both
 * in `arc`). Taken out from the index's rows (what was counted), added from the histories (what is there now).
 */
function moveCounts(
  backend: Backend,
  schema: string | undefined,
  sign: 1 | -1,
  where: RawBuilder<unknown>,
): RawBuilder<unknown>[] {
  const k = sql.raw(String(sign));
  const source =
    sign === -1
      ? {
          from: table(schema, 'fsm_flow_indexed'),
          code: sql.raw('h.error_code'),
          final: sql.raw('h.final_state'),
        }
      : {
          from: historiesTable(schema),
          code: bodyText(backend, 'error', 'code'),
          final: bodyText(backend, 'finalState'),
        };
  const upsert = sql`on conflict (fsm, batch_id, status, network, state, arc) do update set n = t.n + excluded.n`;
  const into = sql`insert into ${table(schema, 'fsm_flow_totals')} as t
    (fsm, batch_id, status, network, state, arc, n, failures, total_ms, timed)`;
  return [
    sql`${into} select h.fsm, coalesce(h.batch_id, ''), h.status, '', '', '', ${k} * count(*), 0, 0, 0
      from ${source.from} h where ${where} group by h.fsm, coalesce(h.batch_id, ''), h.status ${upsert}`,
    sql`${into} select h.fsm, coalesce(h.batch_id, ''), h.status, '', 'error', ${source.code}, ${k} * count(*), 0, 0, 0
      from ${source.from} h where ${where} and ${source.code} is not null
      group by 1, 2, 3, 6 ${upsert}`,
    sql`${into} select h.fsm, coalesce(h.batch_id, ''), h.status, '', 'final', ${source.final}, ${k} * count(*), 0, 0, 0
      from ${source.from} h where ${where} and ${source.final} is not null
      group by 1, 2, 3, 6 ${upsert}`,
  ];
}

/**
 * One write transaction, one at a time. SQLite's is `begin immediate`: a deferred one that reads and then
 * writes fails at once (SQLITE_BUSY) when a writer in another process committed in between; immediate waits
 * its turn. PostgreSQL's takes an advisory lock.
 */
async function writeTransaction(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
  work: (trx: Kysely<StoreTables>) => Promise<void>,
): Promise<void> {
  if (backend === 'postgres') {
    // Two summaries at once would both index the same new executions: one at a time (the second finds none),
    // per schema. The lock is the session's, taken before the transaction: a repeatable-read snapshot taken
    // while waiting would predate the other's commit. One snapshot for the whole update: the ids found and
    // the rows read for them are the same versions while other processes save histories.
    const key = `fsm_flow_refresh:${schema ?? ''}`;
    return db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtext(${key}))`.execute(conn);
      try {
        await conn.transaction().setIsolationLevel('repeatable read').execute(work);
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${key}))`.execute(conn);
      }
    });
  }
  await db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      await work(conn);
    } catch (error) {
      try {
        await sql`rollback`.execute(conn);
      } catch (rollbackError) {
        throw new AggregateError([error, rollbackError], 'flow index update and its rollback failed');
      }
      throw error;
    }
    await sql`commit`.execute(conn);
  });
}

/** Per database: the change mark at the last check that found the index up to date. */
const quiet = new WeakMap<object, string>();

/**
 * A value that changes whenever anyone commits a write, read in one cheap statement. PostgreSQL: the
 * current snapshot (`xmax` moves past every transaction that wrote, and `xip` lists the ones still open,
 * cluster-wide). SQLite: `data_version` (commits of other connections, other processes included) with this
 * connection's `total_changes()`. While it stays the same, nothing can have finished, been saved again or
 * deleted, and a summary skips even the index-only check.
 */
async function changeMark(db: Kysely<StoreTables>, backend: Backend): Promise<string> {
  if (backend === 'postgres') {
    const r = await sql<{ m: string }>`select pg_current_snapshot()::text as m`.execute(db);
    return String(r.rows[0]?.m);
  }
  const version = await sql<{ data_version: number }>`pragma data_version`.execute(db);
  const changes = await sql<{ c: number }>`select total_changes() as c`.execute(db);
  return `${version.rows[0]?.data_version}:${changes.rows[0]?.c}`;
}

/** What the freshness check compares: counts and sums of end times, each read from an index alone. */
interface IndexState {
  /** Newest indexed end time (0 when nothing is indexed); the window starts SKEW_MS before it. */
  newest: number;
  /** Finished histories and indexed executions ending in the window, and the sums of their end times in it. */
  windowMatches: boolean;
  /** Finished histories in the store, and executions in the index. */
  histories: bigint;
  indexed: bigint;
}

/**
 * One statement (one snapshot) of index-only aggregates: what finished in the window (the `ended_at` index
 * of both tables, minus the few running ones from the partial index) against what is indexed there, and the
 * whole store's counts (SQLite counts a b-tree by its pages). No history is probed one by one: a store that
 * finished a million executions within the window costs two index range scans, not a million lookups.
 * Equal counts and end-time sums mean nothing new, re-saved or deleted in the window; a history re-saved
 * with the same end time (to the millisecond) and another status, or one deleted while another with its
 * end time arrives, would go unseen (both are summed the same).
 */
async function indexState(
  q: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<IndexState> {
  const histories = historiesTable(schema);
  const indexed = table(schema, 'fsm_flow_indexed');
  const unfinished =
    backend === 'sqlite' ? sql`${histories} h indexed by fsm_histories_unfinished` : sql`${histories} h`;
  const since = sql`(select since from w)`;
  const whole = (pass: string, count: string) =>
    sql.raw(backend === 'postgres' ? `${pass}.all_n` : `${count}.n`);
  const result = await sql<{
    newest: number | string;
    hn: number | string;
    hs: number | string | null;
    rn: number | string;
    rs: number | string | null;
    iwn: number | string;
    iws: number | string | null;
    h_all: number | string;
    h_unfinished: number | string;
    i_all: number | string;
  }>`with w as (select coalesce(max(ended_at), 0) - ${SKEW_MS} as since, coalesce(max(ended_at), 0) as newest
      from ${indexed})
    select w.newest, hw.n as hn, hw.s as hs, hr.n as rn, hr.s as rs, iw.n as iwn, iw.s as iws,
      ${whole('hw', 'ha')} as h_all, hu.n as h_unfinished, ${whole('iw', 'ia')} as i_all
    from w, ${
      backend === 'postgres'
        ? // One pass over each table's end-time index gives the window's and the whole store's numbers (a
          // PostgreSQL count reads every entry anyway); SQLite counts a whole b-tree by its pages instead.
          sql`(select count(*) filter (where h.ended_at >= ${since}) as n,
            sum(h.ended_at - ${since}) filter (where h.ended_at >= ${since}) as s, count(*) as all_n
            from ${histories} h) hw,
          (select count(*) filter (where i.ended_at >= ${since}) as n,
            sum(i.ended_at - ${since}) filter (where i.ended_at >= ${since}) as s, count(*) as all_n
            from ${indexed} i) iw,`
        : sql`(select count(*) as n, sum(h.ended_at - ${since}) as s from ${histories} h where h.ended_at >= ${since}) hw,
          (select count(*) as n, sum(i.ended_at - ${since}) as s from ${indexed} i where i.ended_at >= ${since}) iw,
          (select count(*) as n from ${histories}) ha, (select count(*) as n from ${indexed}) ia,`
    }
      (select count(*) as n, sum(h.ended_at - ${since}) as s from ${unfinished}
        where (h.status = 'running' or h.ended_at is null) and h.ended_at >= ${since}) hr,
      (select count(*) as n from ${unfinished} where h.status = 'running' or h.ended_at is null) hu`.execute(
    q,
  );
  const row = result.rows[0];
  if (!row) throw new Error('the flow index state query returned no row');
  const big = (v: number | string | null) => BigInt(v ?? 0);
  return {
    newest: Number(row.newest),
    windowMatches: big(row.hn) - big(row.rn) === big(row.iwn) && big(row.hs) - big(row.rs) === big(row.iws),
    histories: big(row.h_all) - big(row.h_unfinished),
    indexed: big(row.i_all),
  };
}

/** Finished histories in `range` that are not indexed as they are now (new, or saved again). */
function freshIn(schema: string | undefined, range: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`h.status != 'running' and h.ended_at is not null and ${range}
    and not exists (select 1 from ${table(schema, 'fsm_flow_indexed')} i where i.execution_id = h.execution_id
      and i.ended_at = h.ended_at and i.status = h.status)`;
}

/**
 * Indexes the histories `fresh` selects; ones indexed before (saved again) are taken out first. The ids are
 * found once (one probe per history of the range), then each statement reads just those rows.
 */
async function indexFresh(
  trx: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
  fresh: RawBuilder<unknown>,
): Promise<number> {
  const histories = historiesTable(schema);
  const found = await sql<{
    id: string;
  }>`select h.execution_id as id from ${histories} h where ${fresh}`.execute(trx);
  const all = found.rows.map((r) => r.id);
  for (let at = 0; at < all.length; at += CHUNK) {
    const ids = all.slice(at, at + CHUNK);
    const inIds = (column: string) => idIn(backend, column, ids);
    // Saved again: out of the totals and the rows first, then in with what they are now.
    await moveTotals(schema, -1, inIds('s.execution_id')).execute(trx);
    for (const q of moveCounts(backend, schema, -1, inIds('h.execution_id'))) await q.execute(trx);
    await sql`delete from ${table(schema, 'fsm_flow_steps')} where ${inIds('execution_id')}`.execute(trx);
    await sql`${stepsCte(backend, inIds('h.execution_id'), schema)}
      insert into ${table(schema, 'fsm_flow_steps')} (execution_id, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended)
      select eid, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended from s`.execute(
      trx,
    );
    await moveTotals(schema, 1, inIds('s.execution_id')).execute(trx);
    for (const q of moveCounts(backend, schema, 1, inIds('h.execution_id'))) await q.execute(trx);
    await sql`insert into ${table(schema, 'fsm_flow_indexed')}
        (execution_id, fsm, batch_id, status, started_at, ended_at, error_code, final_state)
      select h.execution_id, h.fsm, h.batch_id, h.status, h.started_at, h.ended_at,
        ${bodyText(backend, 'error', 'code')}, ${bodyText(backend, 'finalState')}
      from ${histories} h where ${inIds('h.execution_id')}
      on conflict (execution_id) do update set fsm = excluded.fsm, batch_id = excluded.batch_id,
        status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at,
        error_code = excluded.error_code, final_state = excluded.final_state`.execute(trx);
  }
  return all.length;
}

/** Takes out of the index the executions whose history is gone (deleted, or saved again as running). */
async function dropGone(
  trx: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<number> {
  const indexed = table(schema, 'fsm_flow_indexed');
  const found = await sql<{ id: string }>`select i.execution_id as id from ${indexed} i where not exists (
      select 1 from ${historiesTable(schema)} h
      where h.execution_id = i.execution_id and h.status != 'running' and h.ended_at = i.ended_at)`.execute(
    trx,
  );
  const all = found.rows.map((r) => r.id);
  for (let at = 0; at < all.length; at += CHUNK) {
    const ids = all.slice(at, at + CHUNK);
    await moveTotals(schema, -1, idIn(backend, 's.execution_id', ids)).execute(trx);
    for (const q of moveCounts(backend, schema, -1, idIn(backend, 'h.execution_id', ids)))
      await q.execute(trx);
    await sql`delete from ${table(schema, 'fsm_flow_steps')} where ${idIn(backend, 'execution_id', ids)}`.execute(
      trx,
    );
    await sql`delete from ${indexed} where ${idIn(backend, 'execution_id', ids)}`.execute(trx);
  }
  return all.length;
}

/** Brings the flow index up to date with the histories: new and re-saved finished executions in, deleted ones out. */
async function refreshFlowIndex(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<void> {
  const indexed = table(schema, 'fsm_flow_indexed');
  const steps = table(schema, 'fsm_flow_steps');
  const settled = (s: IndexState) => s.windowMatches && s.histories === s.indexed;
  // Read before the check: a write committed after it changes the mark, so the next call checks again.
  const mark = await changeMark(db, backend);
  if (mark === quiet.get(db)) return;
  // Nothing finished, re-saved or deleted since the last summary (the live view's usual second): reads only, no lock.
  if (settled(await indexState(db, backend, schema))) {
    quiet.set(db, mark);
    return;
  }
  // Our own writes below move the mark: the next call checks once more (and finds it settled).
  quiet.delete(db);
  await writeTransaction(db, backend, schema, async (trx) => {
    // A live run's new executions end after everything indexed: a short range of the `ended_at` index, taken
    // before the whole check (which, at a million rows, costs more than the few new ones).
    const newest = await sql<{
      m: number | string | null;
    }>`select max(ended_at) as m from ${indexed}`.execute(trx);
    const from = Number(newest.rows[0]?.m ?? 0);
    let moved = await indexFresh(trx, backend, schema, freshIn(schema, sql`h.ended_at >= ${from}`));
    let state = await indexState(trx, backend, schema);
    if (!state.windowMatches) {
      // Something ended, or was saved again, earlier in the window (another writer's clock, a late commit):
      // every history of the window is probed.
      const since = state.newest - SKEW_MS;
      moved += await indexFresh(trx, backend, schema, freshIn(schema, sql`h.ended_at >= ${since}`));
      state = await indexState(trx, backend, schema);
    }
    if (state.histories > state.indexed) {
      // Finished histories older than the window (saved with an old end time): the whole store is probed once.
      moved += await indexFresh(trx, backend, schema, freshIn(schema, sql`1 = 1`));
      state = await indexState(trx, backend, schema);
    }
    if (state.indexed > state.histories || !state.windowMatches) {
      // More indexed than finished histories, or a window still apart: some were deleted (or saved again as running).
      moved += await dropGone(trx, backend, schema);
    }
    // No autovacuum (or not yet): a planner that thinks the index empty scans it whole.
    if (backend === 'postgres' && moved >= 10_000) {
      await sql`analyze ${indexed}`.execute(trx);
      await sql`analyze ${steps}`.execute(trx);
    }
    await sql`delete from ${table(schema, 'fsm_flow_totals')} where n = 0`.execute(trx);
  });
}

/** Whether a filter needs the history's body (then the index rows are joined with their histories). */
const needsBody = (filter: ExecutionFilter) =>
  filter.finalState !== undefined || filter.errorCode !== undefined || filter.field !== undefined;

/** The filter on the index's own columns (alias `s`), when no body field is asked for. */
function indexWhere(filter: ExecutionFilter): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (filter.fsm !== undefined) conditions.push(sql`s.fsm = ${filter.fsm}`);
  if (filter.status !== undefined) conditions.push(sql`s.status = ${filter.status}`);
  if (filter.batchId !== undefined) conditions.push(sql`s.batch_id = ${filter.batchId}`);
  if (filter.since !== undefined) conditions.push(sql`s.started_at >= ${toMillis(filter.since)}`);
  if (filter.until !== undefined) conditions.push(sql`s.started_at < ${toMillis(filter.until)}`);
  return sql.join(conditions, sql` and `);
}

/** Bad input (a field path, a cursor) fails as MisuseError before any SQL runs, not as a StorageError. */
export function checkSearch(search: ExecutionSearch = {}): void {
  if (search.field !== undefined) fieldPathSegments(search.field.path);
  searchScanLimit(search);
  if (search.cursor !== undefined) decodeSearchCursor(search.cursor);
}

interface StepGroupRow {
  network: string;
  state: string;
  arc: string | null;
  n: number | string;
  failures: number | string;
  total_ms: number | string | null;
  timed: number | string;
}

/** Arcs, states, statuses and error codes of the matching executions, each one GROUP BY in the database. */
export async function sqlFlowSummary(
  db: Kysely<StoreTables>,
  backend: Backend,
  filter: ExecutionFilter = {},
  schema?: string,
): Promise<FlowSummary> {
  await ensureFlowIndex(db, backend, schema);
  await refreshFlowIndex(db, backend, schema);
  const where = whereClause(backend, filter, table(schema, 'fsm_flow_indexed'));
  const histories = historiesTable(schema);
  const steps = table(schema, 'fsm_flow_steps');
  const indexed = table(schema, 'fsm_flow_indexed');
  const aggregate = sql.raw(
    's.network, s.state, s.arc, count(*) as n, sum(s.failed) as failures, sum(s.ms) as total_ms, sum(s.ended) as timed',
  );
  // Finished executions from the index; running ones (and any without an end time) from their JSON.
  const byTotals = !needsBody(filter) && filter.since === undefined && filter.until === undefined;
  const done = byTotals
    ? sql`select s.network, s.state, nullif(s.arc, '') as arc, sum(s.n) as n, sum(s.failures) as failures,
        sum(s.total_ms) as total_ms, sum(s.timed) as timed from ${table(schema, 'fsm_flow_totals')} s
        where ${indexWhere(filter)} and s.network != ''
        group by s.network, s.state, s.arc`
    : needsBody(filter)
      ? sql`select ${aggregate} from ${steps} s join ${histories} h on h.execution_id = s.execution_id
          where ${where} group by s.network, s.state, s.arc`
      : sql`select ${aggregate} from ${steps} s where ${indexWhere(filter)} group by s.network, s.state, s.arc`;
  const groups = await sql<StepGroupRow>`${done}`.execute(db);
  const unfinished = sql`(h.status = 'running' or h.ended_at is null)`;
  // SQLite would pick the fsm index and read every row of the FSM; the partial index holds only these.
  const unfinishedTable =
    backend === 'sqlite' ? sql`${histories} h indexed by fsm_histories_unfinished` : sql`${histories} h`;
  const pending =
    await sql<StepGroupRow>`${stepsCte(backend, sql`${where} and ${unfinished}`, schema, unfinishedTable)}
    select ${aggregate} from s group by s.network, s.state, s.arc`.execute(db);
  const totals = table(schema, 'fsm_flow_totals');
  const statusRows = byTotals
    ? {
        rows: [
          ...(
            await sql<{ status: string; n: number | string }>`select s.status as status, sum(s.n) as n
              from ${totals} s where ${indexWhere(filter)} and s.network = '' and s.state = '' group by s.status`.execute(
              db,
            )
          ).rows,
          ...(
            await sql<{ status: string; n: number | string }>`select h.status as status, count(*) as n
              from ${unfinishedTable} where ${where} and ${unfinished} group by h.status`.execute(db)
          ).rows,
        ],
      }
    : await sql<{ status: string; n: number | string }>`
    select h.status as status, count(*) as n from ${histories} h where ${where} group by h.status`.execute(
        db,
      );
  const errorRows = byTotals
    ? await sql<{ code: string; n: number | string }>`select s.arc as code, sum(s.n) as n from ${totals} s
        where ${indexWhere(filter)} and s.network = '' and s.state = 'error' group by s.arc`.execute(db)
    : needsBody(filter)
      ? await sql<{ code: string; n: number | string }>`select s.error_code as code, count(*) as n
        from ${indexed} s join ${histories} h on h.execution_id = s.execution_id
        where ${where} and s.error_code is not null group by s.error_code`.execute(db)
      : await sql<{
          code: string;
          n: number | string;
        }>`select s.error_code as code, count(*) as n from ${indexed} s
        where ${indexWhere(filter)} and s.error_code is not null group by s.error_code`.execute(db);

  const statuses = emptyStatusCounts();
  let executions = 0;
  for (const row of statusRows.rows) {
    executions += Number(row.n);
    if (Object.hasOwn(statuses, row.status)) statuses[row.status as ExecutionStatus] += Number(row.n);
  }
  const states = new Map<
    string,
    { network: string; state: string; visits: number; failures: number; timed: number; totalMs: number }
  >();
  const arcs = new Map<string, FlowSummary['arcs'][number]>();
  for (const row of [...groups.rows, ...pending.rows]) {
    const key = `${row.network}\u0000${row.state}`;
    let stats = states.get(key);
    if (!stats) {
      stats = { network: row.network, state: row.state, visits: 0, failures: 0, timed: 0, totalMs: 0 };
      states.set(key, stats);
    }
    stats.visits += Number(row.n);
    stats.failures += Number(row.failures);
    stats.timed += Number(row.timed);
    stats.totalMs += Number(row.total_ms ?? 0);
    if (row.arc === null) continue;
    const arcKey = `${key}\u0000${row.arc}`;
    const arc = arcs.get(arcKey);
    if (arc) arc.count += Number(row.n);
    else arcs.set(arcKey, { network: row.network, state: row.state, arc: row.arc, count: Number(row.n) });
  }
  return sortFlowSummary({
    executions,
    statuses,
    arcs: [...arcs.values()],
    states: [...states.values()].map(({ timed, totalMs, ...s }) => ({
      ...s,
      meanMs: timed === 0 ? null : totalMs / timed,
    })),
    errors: errorRows.rows.map((r) => ({ code: r.code, count: Number(r.n) })),
  });
}

/** The filter on the flow index's rows (alias `s`), final state and error code included. */
function indexedMatch(filter: ExecutionFilter): RawBuilder<unknown> {
  const conditions = [indexWhere(filter)];
  if (filter.finalState !== undefined) conditions.push(sql`s.final_state = ${filter.finalState}`);
  if (filter.errorCode !== undefined) conditions.push(sql`s.error_code = ${filter.errorCode}`);
  return sql.join(conditions, sql` and `);
}

/**
 * Counts per status of a filter without a data field (nor, unless by final state or error code, a time range),
 * from the up-to-date flow index: the running totals (or, for a final state or error code, the index's rows
 * by their page index) for the finished executions, the partial index for the running ones — not a pass
 * over every history's status.
 */
async function indexedStatusCounts(
  db: Kysely<StoreTables>,
  backend: Backend,
  filter: ExecutionFilter,
  schema: string | undefined,
): Promise<{ status: string; n: number | string }[]> {
  type Row = { status: string; n: number | string };
  const totals = table(schema, 'fsm_flow_totals');
  const ranged = filter.since !== undefined || filter.until !== undefined;
  if (filter.finalState !== undefined && filter.errorCode === undefined && !ranged) {
    // A final state most executions share (`loaded`) is a few total rows, not most of the index.
    const rows = await sql<Row>`select s.status as status, sum(s.n) as n from ${totals} s
      where ${indexWhere(filter)} and s.network = '' and s.state = 'final' and s.arc = ${filter.finalState}
      group by s.status`.execute(db);
    return rows.rows;
  }
  if (filter.finalState !== undefined || filter.errorCode !== undefined) {
    // Only finished executions have them in the index (a running one never matches, as in the search).
    const rows =
      await sql<Row>`select s.status as status, count(*) as n from ${table(schema, 'fsm_flow_indexed')} s
      where ${indexedMatch(filter)} group by s.status`.execute(db);
    return rows.rows;
  }
  const histories = historiesTable(schema);
  const unfinishedTable =
    backend === 'sqlite' ? sql`${histories} h indexed by fsm_histories_unfinished` : sql`${histories} h`;
  const finished = await sql<Row>`select s.status as status, sum(s.n) as n from ${totals} s
    where ${indexWhere(filter)} and s.network = '' and s.state = '' group by s.status`.execute(db);
  const running = await sql<Row>`select h.status as status, count(*) as n from ${unfinishedTable}
    where ${whereClause(backend, filter)} and (h.status = 'running' or h.ended_at is null) group by h.status`.execute(
    db,
  );
  return [...finished.rows, ...running.rows];
}

interface MatchRow {
  execution_id: string;
  fsm: string;
  status: string;
  started_at: number | string;
  ended_at: number | string | null;
  batch_id: string | null;
  final_state: string | null;
  error_code: string | null;
}

/** The list entries of some executions, by id (a page's worth: bodies read by primary key). */
async function matchesById(
  db: Kysely<StoreTables>,
  backend: Backend,
  ids: readonly string[],
  schema: string | undefined,
): Promise<MatchRow[]> {
  if (ids.length === 0) return [];
  const rows = await sql<MatchRow>`
    select h.execution_id, h.fsm, h.status, h.started_at, h.ended_at, h.batch_id,
      ${bodyText(backend, 'finalState')} as final_state, ${bodyText(backend, 'error', 'code')} as error_code
    from ${historiesTable(schema)} h where ${idIn(backend, 'h.execution_id', ids)}`.execute(db);
  const byId = new Map(rows.rows.map((row) => [row.execution_id, row]));
  // In the page's order; one deleted since the window was read is left out.
  return ids.flatMap((id) => byId.get(id) ?? []);
}

function toMatch(row: MatchRow): ExecutionMatch {
  const match: ExecutionMatch = {
    executionId: row.execution_id,
    fsm: row.fsm,
    status: row.status as ExecutionStatus,
    startedAt: Number(row.started_at),
  };
  match.cursor = encodeSearchCursor(match);
  if (row.ended_at !== null) match.endedAt = Number(row.ended_at);
  if (row.batch_id !== null) match.batchId = row.batch_id;
  if (row.final_state !== null) match.finalState = row.final_state;
  if (row.error_code !== null) match.errorCode = row.error_code;
  return match;
}

/** One page of matching executions (keyset paging, newest first) and the filter's counts by status. */
export async function sqlFindExecutions(
  db: Kysely<StoreTables>,
  backend: Backend,
  search: ExecutionSearch = {},
  schema?: string,
): Promise<ExecutionSearchPage> {
  // Final state and error code come from the flow index (no JSON parsed per row) once it is up to date;
  // so do the counts per status, unless a time range or a data field asks for more than the index holds.
  const byIndex = search.finalState !== undefined || search.errorCode !== undefined;
  // Without a data field, a search by final state or error code is answered by the index's rows alone.
  const pageByIndex = byIndex && search.field === undefined;
  const countsByIndex =
    pageByIndex || (search.field === undefined && search.since === undefined && search.until === undefined);
  if (byIndex || countsByIndex) {
    await ensureFlowIndex(db, backend, schema);
    await refreshFlowIndex(db, backend, schema);
  }
  const indexed = byIndex ? table(schema, 'fsm_flow_indexed') : undefined;
  const limit = search.limit ?? 50;
  const histories = historiesTable(schema);
  const after = search.cursor === undefined ? undefined : decodeSearchCursor(search.cursor);
  if (search.field !== undefined) {
    // Bodies parsed per row: read in a bounded window (see field-search.ts).
    const { field, ...others } = search;
    const found = await sqlFieldSearch(
      db,
      backend,
      { ...search, field },
      {
        histories,
        where: whereClause(backend, others, indexed),
        after,
      },
    );
    const { ids, ...rest } = found;
    return { items: (await matchesById(db, backend, ids, schema)).map(toMatch), ...rest };
  }
  const where = whereClause(backend, search, indexed);
  const before = (alias: 'h' | 's') => {
    if (!after) return sql`1 = 1`;
    const [startedAt, executionId] = [sql.ref(`${alias}.started_at`), sql.ref(`${alias}.execution_id`)];
    return sql`(${startedAt} < ${after.startedAt} or (${startedAt} = ${after.startedAt} and ${executionId} < ${after.executionId}))`;
  };
  // Newest first through the started index (histories) or a page index (flow index): a full page stops the scan.
  const rows = pageByIndex
    ? await sql<MatchRow>`
      select s.execution_id, s.fsm, s.status, s.started_at, s.ended_at, s.batch_id, s.final_state, s.error_code
      from ${table(schema, 'fsm_flow_indexed')} s where ${indexedMatch(search)} and ${before('s')}
      order by s.started_at desc, s.execution_id desc limit ${limit + 1}`.execute(db)
    : await sql<MatchRow>`
      select h.execution_id, h.fsm, h.status, h.started_at, h.ended_at, h.batch_id,
        ${bodyText(backend, 'finalState')} as final_state, ${bodyText(backend, 'error', 'code')} as error_code
      from ${histories} h where ${where} and ${before('h')}
      order by h.started_at desc, h.execution_id desc limit ${limit + 1}`.execute(db);
  // Without a data field the counts read no body (the index, or status and start time): always exact.
  const statusRows = countsByIndex
    ? await indexedStatusCounts(db, backend, search, schema)
    : (
        await sql<{ status: string; n: number | string }>`
          select h.status as status, count(*) as n from ${histories} h where ${where} group by h.status`.execute(
          db,
        )
      ).rows;
  const counts = emptyStatusCounts();
  for (const row of statusRows) {
    if (Object.hasOwn(counts, row.status)) counts[row.status as ExecutionStatus] += Number(row.n);
  }
  const items = rows.rows.slice(0, limit).map(toMatch);
  const result: ExecutionSearchPage = { items, counts, countsExact: true };
  const last = items.at(-1);
  if (rows.rows.length > limit && last?.cursor) result.nextCursor = last.cursor;
  return result;
}
