import {
  type BuiltinFunction,
  defineBuiltin,
  type FunctionContext,
  forbiddenSegment,
  getField,
  setField,
} from '@fsm/core';
import { sql } from 'kysely';
import { z } from 'zod';
import type { DatabaseHandle } from './database-provider.js';
import { buildWrite, type Lane, type RowWrite, type WriteBehind } from './write-behind.js';

type Row = Record<string, unknown>;
const isRow = (value: unknown): value is Row =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The columns written for a record without `fields`: every top-level non-object field. */
function columnsOf(data: Row): Row {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v === null || typeof v !== 'object'));
}

function handleOf(context: FunctionContext, resource: string): DatabaseHandle {
  return context.resources.get<DatabaseHandle>(resource);
}

const PLACEHOLDER = /(?<!:):([A-Za-z_][\w.]*)/g;

const forbidden = (path: string, segment: string) =>
  `field path "${path}" contains "${segment}"; __proto__, constructor and prototype are not allowed in field paths`;

/** A dotted field path into the record; `__proto__`, `constructor`, `prototype` are refused with the config. */
const fieldPath = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    const segment = forbiddenSegment(path);
    if (segment !== undefined) ctx.addIssue({ code: 'custom', message: forbidden(path, segment) });
  });

/** SQL whose `:placeholders` are safe field paths. */
const sqlText = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    for (const match of text.matchAll(PLACEHOLDER)) {
      const path = match[1] as string;
      const segment = forbiddenSegment(path);
      if (segment !== undefined)
        ctx.addIssue({ code: 'custom', message: `placeholder :${forbidden(path, segment)}` });
    }
  });

/** `:name` placeholders (dotted paths into the record) become bound parameters, never spliced text. */
function boundQuery(text: string, data: unknown) {
  const parts: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index));
    values.push(getField(data, match[1] as string) ?? null);
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(text.slice(last));
  return sql<Row>(Object.assign([...parts], { raw: [...parts] }) as TemplateStringsArray, ...values);
}

const writeParams = z.object({
  resource: z.string().min(1),
  table: z.string().min(1),
  fields: z.array(fieldPath).optional(),
  /** Rows per transaction of the resource's write-behind batcher (1: write on the record's connection). */
  batch_size: z.number().int().min(1).optional(),
  /** How long a row waits for others to join its transaction, at most. */
  batch_max_delay_ms: z.number().min(0).optional(),
});

/**
 * Writes one record's row. With the resource's write-behind batcher, the row joins a transaction with
 * rows of concurrent records and this resolves when that transaction committed; else (batching off) the
 * statement runs on the record's own connection. Columns whose value is undefined are left out (their
 * column default applies), as kysely does.
 */
function rowWriter(kind: RowWrite['kind'], p: z.infer<typeof writeParams>, keys: readonly string[]) {
  const settings = {
    ...(p.batch_size !== undefined ? { batchSize: p.batch_size } : {}),
    ...(p.batch_max_delay_ms !== undefined ? { maxDelayMs: p.batch_max_delay_ms } : {}),
  };
  // With `fields` every row has the same columns (the last segment of each path; a later path of the
  // same name wins): compute them and the statement shape once, not per record.
  const fixed = p.fields
    ? [...new Map(p.fields.map((f) => [f.split('.').at(-1) as string, f])).entries()]
    : undefined;
  const fixedWrite: RowWrite | undefined = fixed
    ? { kind, table: p.table, columns: fixed.map(([column]) => column), keys }
    : undefined;
  let lastWriter: WriteBehind | undefined;
  let lastLane: Lane | undefined;
  return async (data: unknown, context: FunctionContext): Promise<unknown> => {
    const { db, dialect, writer } = handleOf(context, p.resource);
    const record = isRow(data) ? data : {};
    let write: RowWrite;
    let values: unknown[];
    if (fixed && fixedWrite) {
      write = fixedWrite;
      values = new Array<unknown>(fixed.length);
      for (let i = 0; i < fixed.length; i++)
        values[i] = getField(record, (fixed[i] as [string, string])[1]) ?? null;
    } else {
      const row = columnsOf(record);
      const columns = Object.keys(row).filter((c) => row[c] !== undefined);
      values = columns.map((c) => row[c]);
      write = { kind, table: p.table, columns, keys };
    }
    if (!writer || settings.batchSize === 1) {
      await buildWrite(db, dialect, write, [values]).execute();
      return data;
    }
    let lane: Lane;
    if (fixed && lastWriter === writer && lastLane) lane = lastLane;
    else {
      lane = writer.lane(write, settings);
      if (fixed) {
        lastWriter = writer;
        lastLane = lane;
      }
    }
    await writer.write(lane, values, context.signal);
    return data;
  };
}

/**
 * Database functions for configs (the dataknobs "database" library): `db_insert`, `db_upsert` (by
 * `key` columns; rows of concurrent records share a transaction, see `rowWriter`), `db_query` (rows
 * into `target`).
 * Each names its `database` resource, which the state must declare in `resources:`.
 */
export const databaseFunctions: readonly BuiltinFunction[] = [
  ...defineBuiltin({
    name: 'db_insert',
    aliases: ['database_insert'],
    roles: ['transform'],
    sync: false,
    // Reads the record and returns it as it was.
    pure: true,
    description: 'Inserts the record (or `fields` of it) as a row of `table`.',
    params: writeParams,
    create: (p) => rowWriter('insert', p, []),
  }),
  ...defineBuiltin({
    name: 'db_upsert',
    aliases: ['database_upsert'],
    roles: ['transform'],
    sync: false,
    // Reads the record and returns it as it was.
    pure: true,
    description: 'Inserts the record as a row of `table`, or updates the row with the same `key` columns.',
    params: writeParams.extend({ key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) }),
    create: (p) => rowWriter('upsert', p, Array.isArray(p.key) ? p.key : [p.key]),
  }),
  ...defineBuiltin({
    name: 'db_query',
    aliases: ['database_query'],
    roles: ['transform'],
    sync: false,
    description:
      'Runs `sql` with `:field` placeholders bound from the record; rows (or the first, with `single`) go to `target`.',
    params: z.object({
      resource: z.string().min(1),
      sql: sqlText,
      target: fieldPath,
      single: z.boolean().default(false),
    }),
    create: (p) => async (data, context) => {
      const { db } = handleOf(context, p.resource);
      const { rows } = await boundQuery(p.sql, data).execute(db);
      const out = isRow(data) ? { ...data } : {};
      setField(out, p.target, p.single ? (rows[0] ?? null) : rows);
      return out;
    },
  }),
];
