import {
  compareNewestFirst,
  type ExecutionSearch,
  type ExecutionStatus,
  emptyStatusCounts,
  encodeSearchCursor,
  fieldPathSegments,
  searchScanLimit,
} from '@fsm/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { StoreTables } from './schema.js';

type Backend = 'sqlite' | 'postgres';
type Position = { startedAt: number; executionId: string };

/*
 * A search by a data field parses history bodies: on a store of a million that is seconds (SQLite) to tens of
 * seconds (PostgreSQL) for every match counted. So it reads a *window*: at most `scanLimit` histories, newest
 * first among those passing the search's other conditions (through the started_at index). A first page takes
 * its page and its counts from one window in one statement (each body tested once); a later page reads its
 * window in growing chunks until the page is full and counts the newest window again. A page cut short by the
 * window goes on where the window stopped; counts over a full window are a lower bound (`countsExact: false`),
 * unless the caller asks for every match (`exactCounts`).
 */

/** A JSON field of the body as text, as `fieldText` shows it (SQL NULL when absent or null). */
function fieldText(backend: Backend, body: RawBuilder<unknown>, path: string[]): RawBuilder<unknown> {
  if (backend === 'postgres') {
    // `json`, not `jsonb`: the text is checked and scanned, no binary value built (1.5 s instead of 2.5 s for
    // 100 000 bodies), and objects come back as stored (JSON.stringify's spelling, as `fieldText` writes them).
    return sql`(${body} #>> ${`{${path.join(',')}}`})`;
  }
  const jsonPath = `$.${path.join('.')}`;
  // json_extract gives 1/0 for JSON booleans; spell them as JSON does, like Postgres' #>>.
  return sql`(case json_type(${body}, ${jsonPath}) when 'true' then 'true' when 'false' then 'false' when 'null' then null else cast(json_extract(${body}, ${jsonPath}) as text) end)`;
}

/** Characters JSON.stringify writes escaped: a value holding one may be spelled otherwise in the body. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: those are the characters JSON escapes
const ESCAPED_IN_JSON = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Whether the history `h` has the field's value: in the final data, else in the input. */
export function fieldMatch(backend: Backend, field: { path: string; value: string }): RawBuilder<unknown> {
  const segments = fieldPathSegments(field.path);
  const body = backend === 'postgres' ? sql`h.body::json` : sql`h.body`;
  const match = sql`coalesce(${fieldText(backend, body, ['output', 'data', ...segments])}, ${fieldText(backend, body, ['input', ...segments])}) = ${field.value}`;
  if (ESCAPED_IN_JSON.test(field.value)) return match;
  // Bodies are JSON.stringify's text: a value that matches (a string, number or boolean as fieldText spells
  // it; an object holds quotes) is in the body verbatim. Looking for it first skips parsing most bodies of a rare value
  // (1 M on PostgreSQL: 9.4 s -> 2.1 s; a window of 100 000: 1.5 s -> 0.4 s). CASE keeps the order.
  const contains =
    backend === 'postgres' ? sql`strpos(h.body, ${field.value}) > 0` : sql`instr(h.body, ${field.value}) > 0`;
  return sql`(case when ${contains} then ${match} else false end)`;
}

interface WindowRow {
  kind: 'count' | 'read' | 'last' | 'hit';
  status: string | null;
  n: number | string;
  execution_id: string | null;
  started_at: number | string | null;
}

/** What one window of histories held: its matches by status, how many it read, its oldest, its newest matches. */
export interface FieldWindow {
  counts: Record<ExecutionStatus, number>;
  read: number;
  oldest?: Position;
  hits: Position[];
}

/**
 * Reads up to `scanLimit` histories passing `where` (alias `h`), newest first from `after` (exclusive), and
 * tests each for the field once: matches by status, the count read, the oldest read, the newest `hits` matches.
 */
export async function scanFieldWindow(
  db: Kysely<StoreTables>,
  options: {
    histories: RawBuilder<unknown>;
    where: RawBuilder<unknown>;
    match: RawBuilder<unknown>;
    after: Position | undefined;
    scanLimit: number;
    hits: number;
  },
): Promise<FieldWindow> {
  const { after } = options;
  const before = after
    ? sql`(h.started_at < ${after.startedAt} or (h.started_at = ${after.startedAt} and h.execution_id < ${after.executionId}))`
    : sql`1 = 1`;
  // Materialized: every branch below reads the window's rows without testing a body again.
  const rows = await sql<WindowRow>`with w as materialized (
      select h.execution_id, h.status, h.started_at, (${options.match}) as hit from ${options.histories} h
      where ${options.where} and ${before} order by h.started_at desc, h.execution_id desc limit ${options.scanLimit})
    select 'count' as kind, w.status as status, count(*) as n, cast(null as text) as execution_id,
      cast(null as bigint) as started_at from w where w.hit group by w.status
    union all select 'read', cast(null as text), count(*), cast(null as text), cast(null as bigint) from w
    union all select * from (select 'last', null, 0, w.execution_id, w.started_at from w
      order by w.started_at, w.execution_id limit 1) oldest
    union all select * from (select 'hit', w.status, 0, w.execution_id, w.started_at from w where w.hit
      order by w.started_at desc, w.execution_id desc limit ${options.hits}) newest`.execute(db);
  const window: FieldWindow = { counts: emptyStatusCounts(), read: 0, hits: [] };
  for (const row of rows.rows) {
    const position = () => ({ startedAt: Number(row.started_at), executionId: String(row.execution_id) });
    if (row.kind === 'count' && row.status !== null && Object.hasOwn(window.counts, row.status)) {
      window.counts[row.status as ExecutionStatus] += Number(row.n);
    } else if (row.kind === 'read') window.read = Number(row.n);
    else if (row.kind === 'last') window.oldest = position();
    else if (row.kind === 'hit') window.hits.push(position());
  }
  // Union branches come back in no promised order: newest first again.
  window.hits.sort(compareNewestFirst);
  return window;
}

/** The page's matches and how to go on, and the counts with how exact they are, of a data-field search. */
export interface FieldSearchResult {
  ids: string[];
  nextCursor?: string;
  counts: Record<ExecutionStatus, number>;
  countsExact: boolean;
  countedSince?: number;
  countedExecutions?: number;
}

/** The first chunk of a page read apart from its counts; each next one is twice as big (dense matches stop early). */
const FIRST_CHUNK = 1_000;

/**
 * A page's matches from one window (`scanLimit` histories from `after`) read in growing chunks, stopping at
 * `hits` matches: a page of a common value reads a few hundred bodies, not the whole window.
 */
export async function pageInChunks(
  scan: (after: Position | undefined, scanLimit: number, hits: number) => Promise<FieldWindow>,
  after: Position | undefined,
  scanLimit: number,
  hits: number,
): Promise<{ hits: Position[]; read: number; oldest?: Position }> {
  const found: Position[] = [];
  let read = 0;
  let oldest: Position | undefined;
  for (let chunk = FIRST_CHUNK; read < scanLimit && found.length < hits; chunk *= 2) {
    const size = Math.min(chunk, scanLimit - read);
    const window = await scan(oldest ?? after, size, hits - found.length);
    found.push(...window.hits);
    read += window.read;
    if (window.oldest) oldest = window.oldest;
    if (window.read < size) break; // no older history
  }
  return oldest ? { hits: found, read, oldest } : { hits: found, read };
}

/**
 * A data-field search over `where` (the other conditions). A first page takes its page and counts from one
 * window from the newest; a later page (or a "count all") reads its page in chunks and counts the newest window
 * again (or every history), so the counts are the same on every page.
 */
export async function sqlFieldSearch(
  db: Kysely<StoreTables>,
  backend: Backend,
  search: ExecutionSearch & { field: { path: string; value: string } },
  options: { histories: RawBuilder<unknown>; where: RawBuilder<unknown>; after: Position | undefined },
): Promise<FieldSearchResult> {
  const limit = search.limit ?? 50;
  const scanLimit = searchScanLimit(search);
  const match = fieldMatch(backend, search.field);
  const scan = (after: Position | undefined, size: number, hits: number) =>
    scanFieldWindow(db, { ...options, match, after, scanLimit: size, hits });
  const together = options.after === undefined && !search.exactCounts;
  const first = together ? await scan(undefined, scanLimit, limit + 1) : undefined;
  const page = first ?? (await pageInChunks(scan, options.after, scanLimit, limit + 1));
  const items = page.hits.slice(0, limit);
  const result: FieldSearchResult = {
    ids: items.map((h) => h.executionId),
    counts: emptyStatusCounts(),
    countsExact: true,
  };
  const last = items.at(-1);
  if (page.hits.length > limit && last) result.nextCursor = encodeSearchCursor(last);
  // A full window may have stopped short of older matches: go on from the oldest history it read.
  else if (page.read >= scanLimit && page.oldest) result.nextCursor = encodeSearchCursor(page.oldest);

  if (search.exactCounts) {
    const rows = await sql<{ status: string; n: number | string }>`
      select h.status as status, count(*) as n from ${options.histories} h
      where ${options.where} and ${match} group by h.status`.execute(db);
    for (const row of rows.rows) {
      if (Object.hasOwn(result.counts, row.status))
        result.counts[row.status as ExecutionStatus] += Number(row.n);
    }
    return result;
  }
  const counted = first ?? (await scan(undefined, scanLimit, 0));
  result.counts = counted.counts;
  if (counted.read >= scanLimit) {
    result.countsExact = false;
    result.countedExecutions = counted.read;
    if (counted.oldest) result.countedSince = counted.oldest.startedAt;
  }
  return result;
}
