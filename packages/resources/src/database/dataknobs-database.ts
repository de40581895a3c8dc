import { type BuiltinFunction, defineBuiltin, type FunctionContext, isForbiddenKey } from '@fsm/core';
import { type InsertQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { DatabaseHandle } from './database-provider.js';

/**
 * dataknobs-fsm's `database` library (functions/library/database.py) by its own names
 * (`database.DatabaseUpsert`, `database.upsert`, the bare class names, and `custom` references into
 * `dataknobs_fsm.functions.library.database`), with its parameters and its record shapes
 * (`records`/`record`, `upserted_count`, `inserted_count`, ...), on our `database` resource.
 * BatchCommit and DatabaseTransaction are refused with what to use instead: they work on dataknobs'
 * record-store resources (a table of their own, transaction handles carried in the record), which a SQL
 * database resource is not; db_insert/db_upsert batch rows into transactions by themselves.
 */

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const name = () =>
  z
    .string()
    .min(1)
    .refine((s) => !isForbiddenKey(s), { error: (i) => `"${String(i.input)}" is not allowed as a name` });
const handleOf = (context: FunctionContext, resource: string) =>
  context.resources.get<DatabaseHandle>(resource);
const own = (row: Row, key: string) => (Object.hasOwn(row, key) ? row[key] : undefined);

/** `:name` placeholders bound from `params` (own keys); a placeholder without a value is an error, as in SQLAlchemy. */
function bound(text: string, params: Row) {
  const parts: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(/(?<!:):([A-Za-z_]\w*)/g)) {
    const key = match[1] as string;
    if (!Object.hasOwn(params, key)) throw new Error(`query parameter :${key} has no value`);
    parts.push(text.slice(last, match.index));
    values.push(params[key]);
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(text.slice(last));
  return sql<Row>(Object.assign([...parts], { raw: [...parts] }) as TemplateStringsArray, ...values);
}

type Conflict = 'error' | 'ignore' | 'update';

/** One row's insert under dataknobs' conflict policies: error (plain insert), ignore, update (`update` columns). */
async function writeRow(
  handle: DatabaseHandle,
  table: string,
  row: Row,
  columns: readonly string[],
  keys: readonly string[],
  conflict: Conflict,
  update: readonly string[] | undefined,
): Promise<number> {
  const values = Object.fromEntries(columns.map((c) => [c, own(row, c) ?? null]));
  // biome-ignore lint/suspicious/noExplicitAny: kysely's dynamic table type for a table named at run time.
  let insert: InsertQueryBuilder<any, any, any> = handle.db.insertInto(table).values(values);
  if (conflict === 'ignore') {
    insert =
      handle.dialect === 'mysql'
        ? insert.ignore()
        : insert.onConflict((oc) => oc.columns([...keys]).doNothing());
  } else if (conflict === 'update') {
    const set = (update ?? columns.filter((c) => !keys.includes(c))).filter((c) => columns.includes(c));
    if (handle.dialect === 'mysql') {
      const updated = set.length > 0 ? set : keys.slice(0, 1);
      insert = insert.onDuplicateKeyUpdate((eb) =>
        Object.fromEntries(updated.map((c) => [c, eb.fn('values', [eb.ref(c)])])),
      );
    } else {
      insert = insert.onConflict((oc) =>
        set.length === 0
          ? oc.columns([...keys]).doNothing()
          : oc
              .columns([...keys])
              .doUpdateSet((eb) => Object.fromEntries(set.map((c) => [c, eb.ref(`excluded.${c}`)]))),
      );
    }
  }
  const [result] = await insert.execute();
  return Number(result?.numInsertedOrUpdatedRows ?? 0);
}

const conflictPolicy = z.enum(['update', 'ignore', 'error']);

function upsertFunction(p: {
  resource_name: string;
  table: string;
  key_columns?: string[] | null | undefined;
  value_columns?: string[] | null | undefined;
  on_conflict?: Conflict | undefined;
}) {
  const keys = p.key_columns ?? [];
  const conflict = p.on_conflict ?? 'update';
  if (keys.length === 0 && conflict !== 'error')
    throw new Error(`on_conflict='${conflict}' needs key_columns to detect the conflict`);
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    const records = Object.hasOwn(record, 'records')
      ? record.records
      : Object.hasOwn(record, 'record')
        ? [record.record]
        : [record];
    if (!Array.isArray(records)) throw new Error("DatabaseUpsert: 'records' is not a list");
    const handle = handleOf(context, p.resource_name);
    let count = 0;
    for (const row of records) {
      if (!isRow(row)) throw new Error('DatabaseUpsert: a record to upsert is not a dict');
      count += await writeRow(
        handle,
        p.table,
        row,
        Object.keys(row),
        keys,
        conflict,
        p.value_columns ?? undefined,
      );
    }
    return { ...record, upserted_count: count };
  };
}

function bulkInsertFunction(p: {
  resource_name: string;
  table: string;
  columns?: string[] | null | undefined;
  chunk_size?: number | undefined;
  on_duplicate?: Conflict | undefined;
  key_columns?: string[] | null | undefined;
}) {
  const keys = p.key_columns ?? [];
  const conflict = p.on_duplicate ?? 'error';
  if (keys.length === 0 && conflict !== 'error')
    throw new Error(`on_duplicate='${conflict}' needs key_columns to detect duplicates`);
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    const records = own(record, 'records') ?? [];
    if (!Array.isArray(records)) throw new Error("DatabaseBulkInsert: 'records' is not a list");
    if (records.length === 0) return { ...record, inserted_count: 0 };
    const first = records[0];
    const columns = p.columns ?? (isRow(first) ? Object.keys(first) : []);
    const handle = handleOf(context, p.resource_name);
    let count = 0;
    for (const row of records) {
      if (!isRow(row)) throw new Error('DatabaseBulkInsert: a record to insert is not a dict');
      count += await writeRow(handle, p.table, row, columns, keys, conflict, undefined);
    }
    return { ...record, inserted_count: count };
  };
}

function fetchFunction(p: {
  resource_name: string;
  query: string;
  params?: Row | null | undefined;
  fetch_one?: boolean | undefined;
}) {
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    // Fields named param_<x> of the record fill :x (dataknobs' convention).
    const params: Row = { ...(p.params ?? {}) };
    for (const [key, value] of Object.entries(record))
      if (key.startsWith('param_') && !isForbiddenKey(key.slice(6))) params[key.slice(6)] = value;
    const { rows } = await bound(p.query, params).execute(handleOf(context, p.resource_name).db);
    return p.fetch_one ? { record: rows[0] ?? null, ...record } : { records: rows, ...record };
  };
}

function queryFunction(p: {
  resource_name: string;
  query_field?: string | undefined;
  params_field?: string | undefined;
  result_field?: string | undefined;
}) {
  const queryField = p.query_field ?? 'query';
  const paramsField = p.params_field ?? 'params';
  const resultField = p.result_field ?? 'result';
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    // The SQL text comes from the record, as in dataknobs: only configs that mean it should name this.
    const query = own(record, queryField);
    if (typeof query !== 'string' || query === '') throw new Error(`Query field '${queryField}' not found`);
    const params = own(record, paramsField) ?? {};
    if (!isRow(params)) throw new Error(`Params field '${paramsField}' is not a dict`);
    const { rows } = await bound(query, params).execute(handleOf(context, p.resource_name).db);
    return { ...record, [resultField]: rows };
  };
}

const refused = (cls: string, factory: string, instead: string): BuiltinFunction[] =>
  [`database.${cls}`, cls, `database.${factory}`].map((n) => ({
    name: n,
    roles: ['transform'] as const,
    sync: false,
    description: `dataknobs' ${cls}: not available on a SQL database resource (${instead}).`,
    create: () => {
      throw new Error(`${cls} works on dataknobs' record-store resources; here ${instead}`);
    },
  }));

const upsertClass = z.strictObject({
  resource_name: name(),
  table: name(),
  key_columns: z.array(name()).min(1).nullable().optional(),
  value_columns: z.array(name()).nullable().optional(),
  on_conflict: conflictPolicy.optional(),
});
const bulkClass = z.strictObject({
  resource_name: name(),
  table: name(),
  columns: z.array(name()).min(1).nullable().optional(),
  chunk_size: z.number().int().min(1).optional(),
  on_duplicate: conflictPolicy.optional(),
  key_columns: z.array(name()).min(1).nullable().optional(),
});
const fetchClass = z.strictObject({
  resource_name: name(),
  query: z.string().min(1),
  params: z.record(name(), z.unknown()).nullable().optional(),
  fetch_one: z.boolean().optional(),
  as_dict: z.literal(true).optional(),
});
// Running SQL that records carry is code from data: our one departure from dataknobs here is that a config
// must say it means it (records from outside could otherwise drop or rewrite any table).
const queryClass = z
  .strictObject({
    resource_name: name(),
    query_field: name().optional(),
    params_field: name().optional(),
    result_field: name().optional(),
    allow_record_sql: z.boolean().optional(),
  })
  .refine((p) => p.allow_record_sql === true, {
    path: ['allow_record_sql'],
    error:
      'DatabaseQuery runs the SQL text each record carries in its query_field; add allow_record_sql: true when every record comes from you (or use DatabaseFetch with a fixed query and :params)',
  });

/** dataknobs' factories take `resource` where its classes take `resource_name` (and upsert's `keys`). */
const factory = <S extends z.ZodType<Record<string, unknown>>>(schema: S, renames: Record<string, string>) =>
  z
    .record(z.string(), z.unknown())
    .transform((p) =>
      Object.fromEntries(Object.entries(p).map(([k, v]) => [Object.hasOwn(renames, k) ? renames[k] : k, v])),
    )
    .pipe(schema);

const pair = <S extends z.ZodType<Record<string, unknown>>>(
  cls: string,
  fn: string,
  description: string,
  schema: S,
  renames: Record<string, string>,
  create: (p: z.output<S>) => (data: unknown, context: FunctionContext) => Promise<unknown>,
): BuiltinFunction[] => [
  ...defineBuiltin({
    name: `database.${cls}`,
    aliases: [cls],
    roles: ['transform'],
    sync: false,
    description,
    params: schema,
    create,
  }),
  ...defineBuiltin({
    name: `database.${fn}`,
    roles: ['transform'],
    sync: false,
    description,
    params: factory(schema, renames),
    create: create as (p: unknown) => (data: unknown, context: FunctionContext) => Promise<unknown>,
  }),
];

export const dataknobsDatabaseFunctions: readonly BuiltinFunction[] = [
  ...pair(
    'DatabaseFetch',
    'fetch',
    "Runs `query` with :name parameters from `params` and the record's param_<name> fields; rows go to `records` (or the first to `record`, fetch_one).",
    fetchClass,
    { resource: 'resource_name' },
    fetchFunction,
  ),
  ...pair(
    'DatabaseQuery',
    'query',
    "Runs the SQL in the record's `query_field` with the parameters in its `params_field`; rows go to `result_field`.",
    queryClass,
    { resource: 'resource_name' },
    queryFunction,
  ),
  ...pair(
    'DatabaseUpsert',
    'upsert',
    'Upserts the record (or its `records`/`record`) into `table` by `key_columns` (on_conflict update|ignore|error); sets upserted_count.',
    upsertClass,
    { resource: 'resource_name', keys: 'key_columns' },
    upsertFunction,
  ),
  ...pair(
    'DatabaseBulkInsert',
    'bulk_insert',
    "Inserts the record's `records` into `table` (on_duplicate error|ignore|update by key_columns); sets inserted_count.",
    bulkClass,
    { resource: 'resource_name' },
    bulkInsertFunction,
  ),
  ...refused(
    'BatchCommit',
    'commit_batch',
    'use db_insert/db_upsert, whose rows share transactions (batch_size)',
  ),
  ...refused(
    'DatabaseTransaction',
    'transaction',
    'use db_insert/db_upsert (rows of concurrent records commit together) or a transform using the resource',
  ),
];
