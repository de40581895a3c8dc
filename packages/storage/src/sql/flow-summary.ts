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

function whereClause(backend: Backend, filter: ExecutionFilter): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (filter.fsm !== undefined) conditions.push(sql`h.fsm = ${filter.fsm}`);
  if (filter.status !== undefined) conditions.push(sql`h.status = ${filter.status}`);
  if (filter.batchId !== undefined) conditions.push(sql`h.batch_id = ${filter.batchId}`);
  if (filter.since !== undefined) conditions.push(sql`h.started_at >= ${toMillis(filter.since)}`);
  if (filter.until !== undefined) conditions.push(sql`h.started_at < ${toMillis(filter.until)}`);
  if (filter.finalState !== undefined)
    conditions.push(sql`${bodyText(backend, 'finalState')} = ${filter.finalState}`);
  if (filter.errorCode !== undefined)
    conditions.push(sql`${bodyText(backend, 'error', 'code')} = ${filter.errorCode}`);
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
 * `s(network, state, arc, failed, ms, ended, children)`: every step, nested ones too. Each step's
 * fields are read once in the CTE, so the big `data` of a step is not parsed again per aggregate.
 */
function stepsCte(
  backend: Backend,
  where: RawBuilder<unknown>,
  schema: string | undefined,
): RawBuilder<unknown> {
  const histories = historiesTable(schema);
  if (backend === 'postgres') {
    const fields = (v: string) =>
      sql.raw(`${v} ->> 'network', ${v} ->> 'state', ${v} ->> 'arc', (${v} -> 'error') is not null,
        (${v} ->> 'endedAt')::float8 - (${v} ->> 'startedAt')::float8, ${v} -> 'endedAt',
        case when jsonb_typeof(${v} -> 'children') = 'array' then ${v} -> 'children' end`);
    return sql`with recursive s(network, state, arc, failed, ms, ended, children) as (
      select ${fields('j.step')} from ${histories} h
        cross join lateral jsonb_array_elements(h.body::jsonb -> 'steps') as j(step)
      where ${where}
      union all
      select ${fields('c.step')} from s cross join lateral jsonb_array_elements(s.children) as c(step)
      where s.children is not null
    )`;
  }
  const fields = (v: string) =>
    sql.raw(`json_extract(${v}, '$.network'), json_extract(${v}, '$.state'), json_extract(${v}, '$.arc'),
      json_type(${v}, '$.error') is not null,
      json_extract(${v}, '$.endedAt') - json_extract(${v}, '$.startedAt'), json_extract(${v}, '$.endedAt'),
      json_extract(${v}, '$.children')`);
  return sql`with recursive s(network, state, arc, failed, ms, ended, children) as (
    select ${fields('j.value')} from ${histories} h, json_each(h.body, '$.steps') j where ${where}
    union all
    select ${fields('c.value')} from s, json_each(s.children) c where s.children is not null
  )`;
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
  const where = whereClause(backend, filter);
  const failed = backend === 'postgres' ? sql`failed` : sql`failed = 1`;
  const groups = await sql<StepGroupRow>`${stepsCte(backend, where, schema)}
    select network, state, arc, count(*) as n, sum(case when ${failed} then 1 else 0 end) as failures,
      sum(ms) as total_ms, count(ended) as timed
    from s group by network, state, arc`.execute(db);
  const histories = historiesTable(schema);
  const statusRows = await sql<{ status: string; n: number | string }>`
    select h.status as status, count(*) as n from ${histories} h where ${where} group by h.status`.execute(
    db,
  );
  const errorCode = bodyText(backend, 'error', 'code');
  const errorRows = await sql<{ code: string; n: number | string }>`
    select ${errorCode} as code, count(*) as n from ${histories} h
    where ${where} and ${errorCode} is not null group by 1`.execute(db);

  const statuses = emptyStatusCounts();
  let executions = 0;
  for (const row of statusRows.rows) {
    executions += Number(row.n);
    if (Object.hasOwn(statuses, row.status)) statuses[row.status as ExecutionStatus] = Number(row.n);
  }
  const states = new Map<
    string,
    { network: string; state: string; visits: number; failures: number; timed: number; totalMs: number }
  >();
  const arcs: FlowSummary['arcs'] = [];
  for (const row of groups.rows) {
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
    if (row.arc !== null)
      arcs.push({ network: row.network, state: row.state, arc: row.arc, count: Number(row.n) });
  }
  return sortFlowSummary({
    executions,
    statuses,
    arcs,
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
  const where = whereClause(backend, search);
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
