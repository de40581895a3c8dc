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
  sortFlowSummary,
} from '@fsm/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { toMillis } from '../shared/summaries.js';
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
  if (filter.field !== undefined) {
    const segments = fieldPathSegments(filter.field.path);
    conditions.push(
      sql`coalesce(${bodyText(backend, 'output', 'data', ...segments)}, ${bodyText(backend, 'input', ...segments)}) = ${filter.field.value}`,
    );
  }
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
  if (backend === 'postgres') {
    const fields = (v: string) =>
      sql.raw(`${v} ->> 'network', ${v} ->> 'state', ${v} ->> 'arc', ((${v} -> 'error') is not null)::int,
        (${v} ->> 'endedAt')::float8 - (${v} ->> 'startedAt')::float8, ((${v} -> 'endedAt') is not null)::int,
        case when jsonb_typeof(${v} -> 'children') = 'array' then ${v} -> 'children' end`);
    return sql`with recursive s(${columns}) as (
      select ${carried('h')}, ${fields('j.step')} from ${histories}
        cross join lateral jsonb_array_elements(h.body::jsonb -> 'steps') as j(step)
      where ${where}
      union all
      select ${carried('s')}, ${fields('c.step')} from s
        cross join lateral jsonb_array_elements(s.children) as c(step)
      where s.children is not null
    )`;
  }
  const fields = (v: string) =>
    sql.raw(`json_extract(${v}, '$.network'), json_extract(${v}, '$.state'), json_extract(${v}, '$.arc'),
      json_type(${v}, '$.error') is not null,
      json_extract(${v}, '$.endedAt') - json_extract(${v}, '$.startedAt'),
      json_type(${v}, '$.endedAt') is not null,
      json_extract(${v}, '$.children')`);
  return sql`with recursive s(${columns}) as (
    select ${carried('h')}, ${fields('j.value')} from ${histories}, json_each(h.body, '$.steps') j where ${where}
    union all
    select ${carried('s')}, ${fields('c.value')} from s, json_each(s.children) c where s.children is not null
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
    done = createFlowIndex(db, backend, schema);
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
      await sql`select pg_advisory_xact_lock(hashtext('fsm_flow_index'))`.execute(trx);
    await sql`create table if not exists ${table(schema, 'fsm_flow_indexed')} (
      execution_id ${id} primary key, fsm text not null, batch_id text, status text not null,
      started_at bigint not null, ended_at bigint not null, error_code text, final_state text)`.execute(trx);
    for (const column of ['error_code', 'final_state']) {
      await sql`create index if not exists ${sql.raw(`fsm_flow_indexed_${column}`)}
        on ${table(schema, 'fsm_flow_indexed')} (${sql.raw(column)})`.execute(trx);
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

/** Adds (sign 1) or takes out (sign -1) the step rows of some executions to the running totals. */
function moveTotals(
  schema: string | undefined,
  sign: 1 | -1,
  executions: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const k = sql.raw(String(sign));
  return sql`insert into ${table(schema, 'fsm_flow_totals')} as t
      (fsm, batch_id, status, network, state, arc, n, failures, total_ms, timed)
    select s.fsm, coalesce(s.batch_id, ''), s.status, s.network, s.state, coalesce(s.arc, ''),
      ${k} * count(*), ${k} * sum(s.failed), ${k} * coalesce(sum(s.ms), 0), ${k} * sum(s.ended)
    from ${table(schema, 'fsm_flow_steps')} s where s.execution_id in (${executions})
    group by s.fsm, coalesce(s.batch_id, ''), s.status, s.network, s.state, coalesce(s.arc, '')
    on conflict (fsm, batch_id, status, network, state, arc) do update set n = t.n + excluded.n,
      failures = t.failures + excluded.failures, total_ms = t.total_ms + excluded.total_ms,
      timed = t.timed + excluded.timed`;
}

/**
 * Execution and error-code counts kept in the totals as rows with an empty network: `state = ''` counts
 * executions, `state = 'error'` counts them by error code (in `arc`). Taken out from the index's rows
 * (what was counted), added from the histories (what is there now).
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
      ? { from: table(schema, 'fsm_flow_indexed'), code: sql.raw('h.error_code') }
      : { from: historiesTable(schema), code: bodyText(backend, 'error', 'code') };
  const upsert = sql`on conflict (fsm, batch_id, status, network, state, arc) do update set n = t.n + excluded.n`;
  const into = sql`insert into ${table(schema, 'fsm_flow_totals')} as t
    (fsm, batch_id, status, network, state, arc, n, failures, total_ms, timed)`;
  return [
    sql`${into} select h.fsm, coalesce(h.batch_id, ''), h.status, '', '', '', ${k} * count(*), 0, 0, 0
      from ${source.from} h where ${where} group by h.fsm, coalesce(h.batch_id, ''), h.status ${upsert}`,
    sql`${into} select h.fsm, coalesce(h.batch_id, ''), h.status, '', 'error', ${source.code}, ${k} * count(*), 0, 0, 0
      from ${source.from} h where ${where} and ${source.code} is not null
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
  work: (trx: Kysely<StoreTables>) => Promise<void>,
): Promise<void> {
  if (backend === 'postgres') {
    return db.transaction().execute(async (trx) => {
      // Two summaries at once would both index the same new executions: one at a time (the second finds none).
      await sql`select pg_advisory_xact_lock(hashtext('fsm_flow_refresh'))`.execute(trx);
      await work(trx);
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

/** Brings the flow index up to date with the histories: new and re-saved finished executions in, deleted ones out. */
async function refreshFlowIndex(
  db: Kysely<StoreTables>,
  backend: Backend,
  schema: string | undefined,
): Promise<void> {
  const histories = historiesTable(schema);
  const indexed = table(schema, 'fsm_flow_indexed');
  const steps = table(schema, 'fsm_flow_steps');
  /** What is to do: finished executions not (or differently) indexed, and whether some indexed ones are gone. */
  const look = async (q: Kysely<StoreTables>) => {
    const mark = await sql<{ w: number | string | null }>`select max(ended_at) as w from ${indexed}`.execute(
      q,
    );
    const since = Number(mark.rows[0]?.w ?? 0) - SKEW_MS;
    const fresh = sql`h.status != 'running' and h.ended_at is not null and h.ended_at >= ${since}
      and not exists (select 1 from ${indexed} i where i.execution_id = h.execution_id
        and i.ended_at = h.ended_at and i.status = h.status)`;
    const any = await sql`select 1 as x from ${histories} h where ${fresh} limit 1`.execute(q);
    // More indexed than finished histories: some were deleted (or saved again as running).
    const counts = await sql<{ i: number | string; h: number | string }>`select
      (select count(*) from ${indexed}) as i,
      (select count(*) from ${histories}) - (select count(*) from ${histories}
        where status = 'running' or ended_at is null) as h`.execute(q);
    const row = counts.rows[0];
    return {
      fresh,
      hasFresh: any.rows.length > 0,
      hasGone: row !== undefined && Number(row.i) > Number(row.h),
    };
  };
  // Nothing finished since the last summary (the live view's usual second): reads only, no lock.
  const first = await look(db);
  if (!first.hasFresh && !first.hasGone) return;
  await writeTransaction(db, backend, async (trx) => {
    const { fresh, hasFresh, hasGone } = await look(trx);
    if (hasFresh) {
      const freshIds = sql`select h.execution_id from ${histories} h where ${fresh}`;
      // Saved again: out of the totals and the rows first, then in with what they are now.
      await moveTotals(schema, -1, freshIds).execute(trx);
      for (const q of moveCounts(backend, schema, -1, sql`h.execution_id in (${freshIds})`))
        await q.execute(trx);
      await sql`delete from ${steps} where execution_id in (${freshIds})`.execute(trx);
      await sql`${stepsCte(backend, fresh, schema)}
        insert into ${steps} (execution_id, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended)
        select eid, fsm, batch_id, status, started_at, network, state, arc, failed, ms, ended from s`.execute(
        trx,
      );
      await moveTotals(schema, 1, freshIds).execute(trx);
      for (const q of moveCounts(backend, schema, 1, fresh)) await q.execute(trx);
      await sql`insert into ${indexed}
          (execution_id, fsm, batch_id, status, started_at, ended_at, error_code, final_state)
        select h.execution_id, h.fsm, h.batch_id, h.status, h.started_at, h.ended_at,
          ${bodyText(backend, 'error', 'code')}, ${bodyText(backend, 'finalState')}
        from ${histories} h where ${fresh}
        on conflict (execution_id) do update set fsm = excluded.fsm, batch_id = excluded.batch_id,
          status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at,
          error_code = excluded.error_code, final_state = excluded.final_state`.execute(trx);
    }
    if (hasGone) {
      const gone = sql`select i.execution_id from ${indexed} i where not exists (select 1 from ${histories} h
        where h.execution_id = i.execution_id and h.status != 'running' and h.ended_at = i.ended_at)`;
      await moveTotals(schema, -1, gone).execute(trx);
      for (const q of moveCounts(backend, schema, -1, sql`h.execution_id in (${gone})`)) await q.execute(trx);
      await sql`delete from ${steps} where execution_id in (${gone})`.execute(trx);
      await sql`delete from ${indexed} where execution_id in (${gone})`.execute(trx);
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

/** One page of matching executions (keyset paging, newest first) and the filter's counts by status. */
export async function sqlFindExecutions(
  db: Kysely<StoreTables>,
  backend: Backend,
  search: ExecutionSearch = {},
  schema?: string,
): Promise<ExecutionSearchPage> {
  // Final state and error code come from the flow index (no JSON parsed per row) once it is up to date.
  const byIndex = search.finalState !== undefined || search.errorCode !== undefined;
  if (byIndex) {
    await ensureFlowIndex(db, backend, schema);
    await refreshFlowIndex(db, backend, schema);
  }
  const where = whereClause(backend, search, byIndex ? table(schema, 'fsm_flow_indexed') : undefined);
  const limit = search.limit ?? 50;
  const histories = historiesTable(schema);
  let page = where;
  if (search.cursor !== undefined) {
    const after = decodeSearchCursor(search.cursor);
    page = sql`${where} and (h.started_at < ${after.startedAt} or (h.started_at = ${after.startedAt} and h.execution_id < ${after.executionId}))`;
  }
  const rows = await sql<MatchRow>`
    select h.execution_id, h.fsm, h.status, h.started_at, h.ended_at, h.batch_id,
      ${bodyText(backend, 'finalState')} as final_state, ${bodyText(backend, 'error', 'code')} as error_code
    from ${histories} h where ${page}
    order by h.started_at desc, h.execution_id desc limit ${limit + 1}`.execute(db);
  const statusRows = await sql<{ status: string; n: number | string }>`
    select h.status as status, count(*) as n from ${histories} h where ${where} group by h.status`.execute(
    db,
  );
  const counts = emptyStatusCounts();
  for (const row of statusRows.rows) {
    if (Object.hasOwn(counts, row.status)) counts[row.status as ExecutionStatus] = Number(row.n);
  }
  const items = rows.rows.slice(0, limit).map((row) => {
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
  });
  const result: ExecutionSearchPage = { items, counts };
  const last = items.at(-1);
  if (rows.rows.length > limit && last?.cursor) result.nextCursor = last.cursor;
  return result;
}
