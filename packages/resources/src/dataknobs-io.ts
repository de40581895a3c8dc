import {
  type BuiltinFunction,
  DataError,
  defineBuiltin,
  type FunctionContext,
  isForbiddenKey,
} from '@fsm/core';
import { z } from 'zod';
import type { DatabaseHandle } from './database/database-provider.js';
import type { Folder } from './filesystem/folder.js';

/**
 * The members of dataknobs-fsm's library that do I/O, by their names, on our resources:
 * - `enrichers.LookupMergeEnricher` and the lookup form of `enrichers.build_record_enricher` read one
 *   reference row from a table of a `database` resource (dataknobs' resource is one table; ours holds many,
 *   so `table` names it) and merge its fields into the record;
 * - `streaming.FileAppender`/`append_to_file` appends the record's `field` to a file inside a `filesystem`
 *   resource's folder (never a path outside it).
 */

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (row: Row, key: string) => (Object.hasOwn(row, key) ? row[key] : undefined);
const name = () =>
  z
    .string()
    .min(1)
    .refine((s) => !isForbiddenKey(s), { error: (i) => `"${String(i.input)}" is not allowed as a name` });
const put = (row: Row, key: string, value: unknown) =>
  Object.defineProperty(row, key, { value, enumerable: true, writable: true, configurable: true });

const onMissing = z.enum(['ignore', 'null', 'error']);

const lookupParams = z
  .strictObject({
    resource_name: name(),
    table: name(),
    match: z.record(name(), name()).refine((m) => Object.keys(m).length > 0, {
      error: "LookupMergeEnricher requires a non-empty 'match' mapping {record_field: reference_field}",
    }),
    fields: z.array(name()).nullable().optional(),
    overwrite: z.boolean().optional(),
    on_missing: onMissing.optional(),
  })
  .superRefine((p, ctx) => {
    // dataknobs' own refusals: a blanket merge that overwrites can clobber the record's key columns, and
    // nulling "every field" with no fields named would silently be `ignore`.
    if (p.overwrite && !p.fields)
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: "overwrite=True requires an explicit 'fields' list; name the fields to overwrite",
      });
    if (p.on_missing === 'null' && !p.fields)
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message:
          "on_missing='null' requires an explicit 'fields' list: there are no named fields to set to None",
      });
  });
type LookupParams = z.output<typeof lookupParams>;

/** Field-level merge: a field the record has is kept unless `overwrite` (dataknobs' merge policy). */
function merge(result: Row, field: string, value: unknown, overwrite: boolean): void {
  if (overwrite || !Object.hasOwn(result, field)) put(result, field, value);
}

function lookupMergeEnricher(p: LookupParams) {
  const match = Object.entries(p.match);
  const refColumns = new Set(Object.values(p.match));
  const overwrite = p.overwrite ?? false;
  const miss = p.on_missing ?? 'ignore';
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    const handle = context.resources.get<DatabaseHandle>(p.resource_name);
    let query = handle.db.selectFrom(p.table).selectAll();
    // A missing match field looks up null (dataknobs' `data.get(field)` → EQ None): `is null` in SQL.
    for (const [recField, refField] of match) {
      const value = own(record, recField) ?? null;
      query = value === null ? query.where(refField, 'is', null) : query.where(refField, '=', value);
    }
    let row: Row | undefined;
    try {
      row = (await query.limit(1).executeTakeFirst()) as Row | undefined;
    } catch (error) {
      throw new DataError(
        `Enrichment lookup failed in table ${p.table} of resource '${p.resource_name}': ${(error as Error).message}`,
        { cause: error },
      );
    }
    const result: Row = { ...record };
    if (!row) {
      if (miss === 'error')
        throw new DataError(
          `No reference row matched ${JSON.stringify(p.match)} for enrichment from resource '${p.resource_name}' (table ${p.table})`,
        );
      if (miss === 'null') for (const f of p.fields ?? []) merge(result, f, null, overwrite);
      return result;
    }
    const fields = p.fields ?? Object.keys(row).filter((k) => !refColumns.has(k));
    for (const f of fields) if (Object.hasOwn(row, f)) merge(result, f, row[f], overwrite);
    return result;
  };
}

const ETL_KEYS = ['database', 'api'];

/** build_record_enricher: a `resource` spec is a lookup, any other mapping a field→value map. */
const builderParams = z.strictObject({
  spec: z.record(name(), z.unknown()),
  on_missing: onMissing.optional(),
});

function buildRecordEnricher(p: z.output<typeof builderParams>) {
  const spec = p.spec;
  if (Object.hasOwn(spec, 'resource')) {
    const match = own(spec, 'match');
    if (!isRow(match) || Object.keys(match).length === 0)
      throw new Error(
        "spec.match: a 'resource' lookup enrichment requires a non-empty 'match' mapping {record_field: reference_field}",
      );
    const parsed = lookupParams.safeParse({
      resource_name: own(spec, 'resource'),
      table: own(spec, 'table'),
      match,
      ...(own(spec, 'fields') !== undefined ? { fields: own(spec, 'fields') } : {}),
      overwrite: Boolean(own(spec, 'overwrite') ?? false),
      on_missing: p.on_missing ?? 'ignore',
    });
    if (!parsed.success)
      throw new Error(
        parsed.error.issues
          .map((i) => `spec.${String(i.path[0] ?? '').replace('resource_name', 'resource')}: ${i.message}`)
          .join('; '),
      );
    return lookupMergeEnricher(parsed.data);
  }
  for (const k of ETL_KEYS)
    if (Object.hasOwn(spec, k))
      throw new Error(
        `spec.${k}: enrichment spec key '${k}' is an ETL-level convenience (a backend config, not a registered name); name a database resource under 'resource' with 'table' and 'match'`,
      );
  if (isRow(own(spec, 'match')))
    throw new Error(
      "spec.match: enrichment spec has a 'match' join spec but no 'resource' source key: a reference lookup needs {resource, table, match}; remove 'match' for a field→value map",
    );
  const entries = Object.entries(spec);
  return (data: unknown) => {
    const result: Row = structuredClone(isRow(data) ? data : {});
    for (const [field, value] of entries) merge(result, field, structuredClone(value), false);
    return result;
  };
}

// ---- FileAppender ------------------------------------------------------------------------------------

/** Python's json.dumps (ensure_ascii, `, ` and `: ` separators), for a JSON value. */
function pyDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(', ')}]`;
  if (isRow(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${ascii(JSON.stringify(k))}: ${pyDumps(v)}`)
      .join(', ')}}`;
  if (value === undefined) return 'null';
  return ascii(JSON.stringify(value));
}

/** ensure_ascii: non-ASCII characters (only ever inside strings in JSON text) as \uXXXX. */
const ascii = (json: string) =>
  json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Python's str() of a JSON value, for the `lines` format's non-dict items. */
function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return String(value);
}
const pyRepr = (v: unknown) =>
  typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : pyStr(v);

/** One cell as Python's csv module writes it (QUOTE_MINIMAL; None is empty). */
function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : pyStr(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const appenderParams = z.strictObject({
  resource_name: name(),
  file_path: z.string().min(1),
  format: z.enum(['json', 'csv', 'lines']).optional(),
  field: name().optional(),
  buffer_size: z.number().int().min(1).optional(),
  create_if_missing: z.boolean().optional(),
});
type AppenderParams = z.output<typeof appenderParams>;

function fileAppender(p: AppenderParams) {
  const format = p.format ?? 'json';
  const field = p.field ?? 'data';
  // Appends of concurrent records go one after another (the json format rewrites the whole file).
  let tail: Promise<unknown> = Promise.resolve();
  const write = async (folder: Folder, items: unknown[]) => {
    if (format === 'lines') {
      const text = items.map((r) => `${isRow(r) ? pyDumps(r) : pyStr(r)}\n`).join('');
      await folder.appendText(p.file_path, text);
    } else if (format === 'json') {
      const text = (await folder.exists(p.file_path)) ? await folder.readText(p.file_path) : '';
      let existing: unknown = [];
      try {
        if (text !== '') existing = JSON.parse(text);
      } catch (error) {
        throw new DataError(`FileAppender: ${p.file_path} is not JSON to append to`, { cause: error });
      }
      if (!Array.isArray(existing))
        throw new DataError(`FileAppender: ${p.file_path} does not hold a JSON array to append to`);
      await folder.writeText(p.file_path, ascii(JSON.stringify([...existing, ...items], null, 2)));
    } else {
      const first = items[0];
      let lines: string[];
      if (isRow(first)) {
        const names = Object.keys(first);
        const empty = !(await folder.exists(p.file_path)) || (await folder.readText(p.file_path)) === '';
        lines = items.map((r) => {
          if (!isRow(r)) throw new DataError('FileAppender: a csv row is not a dict like the first');
          const extra = Object.keys(r).filter((k) => !names.includes(k));
          if (extra.length > 0)
            throw new DataError(
              `dict contains fields not in fieldnames: ${extra.map((k) => `'${k}'`).join(', ')}`,
            );
          return names.map((n) => csvCell(own(r, n))).join(',');
        });
        if (empty) lines.unshift(names.map(csvCell).join(','));
      } else
        lines = items.map((r) => {
          if (!Array.isArray(r)) throw new DataError('FileAppender: a csv row is neither a dict nor a list');
          return r.map(csvCell).join(',');
        });
      await folder.appendText(p.file_path, lines.map((l) => `${l}\r\n`).join(''));
    }
  };
  return async (data: unknown, context: FunctionContext) => {
    const record = isRow(data) ? data : {};
    const value = own(record, field);
    if (value === undefined || value === null) return record;
    const items = Array.isArray(value) ? value : [value];
    const folder = context.resources.get<Folder>(p.resource_name);
    const done = tail.then(() => (items.length > 0 ? write(folder, items) : undefined));
    tail = done.catch(() => undefined);
    await done;
    // Written at once (no buffer kept between records, which a run's end would lose): nothing stays buffered.
    return { ...record, appended_count: items.length, buffer_size: 0 };
  };
}

/** dataknobs' factories take the first argument positionally; here by their own names. */
const renamed = <S extends z.ZodType<Record<string, unknown>>>(schema: S, renames: Record<string, string>) =>
  z
    .record(z.string(), z.unknown())
    .transform((p) =>
      Object.fromEntries(Object.entries(p).map(([k, v]) => [Object.hasOwn(renames, k) ? renames[k] : k, v])),
    )
    .pipe(schema);

export const dataknobsIoFunctions: readonly BuiltinFunction[] = [
  ...defineBuiltin({
    name: 'enrichers.LookupMergeEnricher',
    aliases: ['LookupMergeEnricher'],
    roles: ['transform'],
    sync: false,
    description:
      "Merges `fields` of the `table` row (on the database resource `resource_name`) whose columns equal the record's `match` fields; present fields kept unless overwrite; on_missing ignore|null|error.",
    params: lookupParams,
    create: lookupMergeEnricher,
  }),
  ...defineBuiltin({
    name: 'enrichers.build_record_enricher',
    aliases: ['build_record_enricher'],
    roles: ['transform'],
    sync: false,
    description:
      'Enriches the record from `spec`: a {field: value} map adds fields the record lacks; {resource, table, match, fields, overwrite} looks them up in a database table; on_missing ignore|null|error.',
    params: builderParams,
    create: buildRecordEnricher,
  }),
  ...defineBuiltin({
    name: 'streaming.FileAppender',
    aliases: ['FileAppender'],
    roles: ['transform'],
    sync: false,
    description:
      "Appends the record's `field` (default data; a list appends each item) to `file_path` in the filesystem resource `resource_name` as json (an array), csv or lines; sets appended_count.",
    params: appenderParams,
    create: fileAppender,
  }),
  ...defineBuiltin({
    name: 'streaming.append_to_file',
    aliases: ['append_to_file'],
    roles: ['transform'],
    sync: false,
    description: "dataknobs' append_to_file(path, ...): FileAppender with `path` for file_path.",
    params: renamed(appenderParams, { path: 'file_path', resource: 'resource_name' }),
    create: fileAppender as (p: unknown) => ReturnType<typeof fileAppender>,
  }),
];
