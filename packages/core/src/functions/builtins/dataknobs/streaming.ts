/**
 * dataknobs-fsm's `streaming` library (functions/library/streaming.py) under its own names and parameters.
 * RecordParser parses a field of the record; StreamAggregator aggregates across the records it sees, as
 * dataknobs' does. ChunkReader reads a file in chunks into the record (a source, not a step): refused with
 * what to use instead. FileAppender writes to a file: @fsm/resources adds it on a filesystem resource.
 */
import { parse as parseYaml } from 'yaml';
import { isObject } from '../../../util/field-path.js';
import type { BuiltinFunction } from '../../types.js';
import { z } from '../define.js';
import { own, put, pyType, type Rec } from './python.js';
import { type Callable, fieldMap, key, member } from './shared.js';

/** A builtin name that refuses to be configured, saying what to use instead (a config error at load). */
export function refusedMember(module: string, cls: string, factory: string, why: string): BuiltinFunction[] {
  return [`${module}.${cls}`, cls, `${module}.${factory}`, factory].map((name) => ({
    name,
    roles: ['transform'] as const,
    sync: false,
    description: `dataknobs' ${cls}: not available here (${why}).`,
    create: () => {
      throw new Error(`${cls}: ${why}`);
    },
  }));
}

const csvOptions = z.strictObject({
  delimiter: z.string().length(1).optional(),
  quotechar: z.string().length(1).optional(),
  skipinitialspace: z.boolean().optional(),
  fieldnames: z.array(key()).optional(),
});
type CsvOptions = z.output<typeof csvOptions>;

/** The rows of a CSV text, as Python's csv reader splits them (quotes, doubled quotes, \r\n). */
function csvRows(text: string, delimiter: string, quote: string, skipSpace: boolean): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c !== quote) cell += c;
      else if (text[i + 1] === quote) {
        cell += quote;
        i++;
      } else quoted = false;
    } else if (c === quote && atStart) {
      quoted = true;
      atStart = false;
    } else if (c === delimiter) {
      row.push(cell);
      cell = '';
      atStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      // Python's reader gives [] for a blank line and DictReader skips it.
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      cell = '';
      atStart = true;
    } else if (c === ' ' && atStart && skipSpace) {
      // skipinitialspace: spaces after a delimiter are dropped
    } else {
      cell += c;
      atStart = false;
    }
  }
  if (cell !== '' || row.length > 0 || quoted) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** csv.DictReader: the first row names the fields; extra cells go to a `null` key's list, missing ones are None. */
function dictReader(text: string, options: CsvOptions): Rec[] {
  const rows = csvRows(
    text,
    options.delimiter ?? ',',
    options.quotechar ?? '"',
    options.skipinitialspace ?? false,
  );
  const names = options.fieldnames ?? rows.shift() ?? [];
  return rows.map((cells) => {
    const out: Rec = {};
    names.forEach((name, i) => {
      put(out, name, i < cells.length ? cells[i] : null);
    });
    if (cells.length > names.length) put(out, 'null', cells.slice(names.length));
    return out;
  });
}

const parserParams = z.strictObject({
  format: z.enum(['json', 'csv', 'yaml', 'xml']),
  field: key().optional(),
  output_field: key().optional(),
  options: csvOptions.nullable().optional(),
});
type ParserParams = z.output<typeof parserParams>;

function recordParser(p: ParserParams): Callable {
  if (p.format === 'xml')
    throw new Error(
      "RecordParser: format 'xml' is not supported here (no XML parser in the runtime); parse XML in a registered function",
    );
  const field = p.field ?? 'raw';
  const output = p.output_field ?? 'parsed';
  const options = p.options ?? {};
  const parse = (raw: string): unknown => {
    if (p.format === 'json') return JSON.parse(raw);
    if (p.format === 'yaml') return parseYaml(raw, { version: '1.1' }) ?? null;
    return dictReader(raw, options);
  };
  return (data) => {
    const record = dictOf(data, 'RecordParser');
    const raw = own(record, field);
    if (raw === undefined || raw === null) return record;
    if (typeof raw !== 'string')
      throw new Error(
        `Failed to parse ${p.format} (${raw instanceof Uint8Array ? 'bytes' : pyType(raw)} is not text)`,
      );
    let parsed: unknown;
    try {
      parsed = parse(raw);
    } catch (error) {
      throw new Error(`Failed to parse ${p.format} (${(error as Error).name})`, { cause: error });
    }
    const result: Rec = { ...record };
    put(result, output, parsed);
    return result;
  };
}

function dictOf(data: unknown, what: string): Rec {
  if (isObject(data)) return data;
  throw new Error(`${what}: expected a dict record, got ${pyType(data)}`);
}

const aggregation = z.strictObject({
  function: z.enum(['sum', 'avg', 'min', 'max', 'count']),
  field: key().nullable().optional(),
});
type Aggregation = z.output<typeof aggregation>;

const aggregatorParams = z.strictObject({
  aggregations: fieldMap(aggregation),
  group_by: z.array(key()).nullable().optional(),
  window_size: z.number().int().min(1).nullable().optional(),
});
type AggregatorParams = z.output<typeof aggregatorParams>;

/** Running totals of one aggregation, so an unwindowed aggregator keeps no records. */
interface Totals {
  sum: number;
  n: number;
  min: unknown;
  max: unknown;
}

const less = (a: unknown, b: unknown): boolean => (a as number) < (b as number);

function addTo(t: Totals, value: unknown, what: string): void {
  if (value === null || value === undefined) return;
  if (t.n === 0 || less(value, t.min)) t.min = value;
  if (t.n === 0 || less(t.max, value)) t.max = value;
  t.n++;
  if (typeof value === 'number' || typeof value === 'boolean') t.sum += Number(value);
  else t.sum = Number.NaN;
  if (Number.isNaN(t.sum) && what !== 'min' && what !== 'max')
    throw new Error(`unsupported operand type(s) for +: 'int' and '${pyType(value)}'`);
}

function result(spec: Aggregation, count: number, t: Totals): unknown {
  if (spec.function === 'count') return count;
  if (t.n === 0) return null;
  if (spec.function === 'sum') return t.sum;
  if (spec.function === 'avg') return t.sum / t.n;
  return spec.function === 'min' ? t.min : t.max;
}

/** One group's (or the whole stream's) state: totals, or the last `window_size` records when windowed. */
class Group {
  count = 0;
  readonly totals: Totals[];
  readonly window: Rec[] = [];
  constructor(
    readonly key: unknown[],
    readonly specs: readonly [string, Aggregation][],
    readonly size: number | undefined,
  ) {
    this.totals = specs.map(() => ({ sum: 0, n: 0, min: null, max: null }));
  }
  add(record: Rec): void {
    if (this.size !== undefined) {
      this.window.push(record);
      if (this.window.length > this.size) this.window.shift();
      return;
    }
    this.count++;
    this.specs.forEach(([, spec], i) => {
      if (spec.function !== 'count')
        addTo(this.totals[i] as Totals, own(record, spec.field as string), spec.function);
    });
  }
  into(out: Rec): Rec {
    let totals = this.totals;
    let count = this.count;
    if (this.size !== undefined) {
      count = this.window.length;
      totals = this.specs.map(([, spec]) => {
        const t: Totals = { sum: 0, n: 0, min: null, max: null };
        if (spec.function !== 'count')
          for (const r of this.window) addTo(t, own(r, spec.field as string), spec.function);
        return t;
      });
    }
    this.specs.forEach(([name, spec], i) => {
      put(out, name, result(spec, count, totals[i] as Totals));
    });
    return out;
  }
}

function streamAggregator(p: AggregatorParams): Callable {
  const specs = Object.entries(p.aggregations);
  for (const [name, spec] of specs)
    if (spec.function !== 'count' && !spec.field)
      throw new Error(`aggregations.${name}: Field required for ${spec.function} aggregation`);
  const size = p.window_size ?? undefined;
  const groupBy = p.group_by?.length ? p.group_by : undefined;
  // State across records, as dataknobs' instance keeps it: per group, in first-seen order.
  const groups = new Map<string, Group>();
  const all = new Group([], specs, size);
  return (data) => {
    const record = dictOf(data, 'StreamAggregator');
    const records = Object.hasOwn(record, 'records') ? record.records : [record];
    if (!Array.isArray(records)) throw new Error("StreamAggregator: 'records' is not a list");
    if (!groupBy) {
      for (const r of records) all.add(dictOf(r, 'StreamAggregator'));
      return { ...record, aggregation: all.into({}) };
    }
    for (const r of records) {
      const row = dictOf(r, 'StreamAggregator');
      const values = groupBy.map((f) => own(row, f) ?? null);
      const id = JSON.stringify(values);
      let group = groups.get(id);
      if (!group) {
        group = new Group(values, specs, size);
        groups.set(id, group);
      }
      group.add(row);
    }
    const aggregations = [...groups.values()].map((g) => {
      const out: Rec = {};
      groupBy.forEach((f, i) => {
        put(out, f, g.key[i]);
      });
      return g.into(out);
    });
    return { ...record, aggregations };
  };
}

const roles: BuiltinFunction['roles'] = ['transform'];

export const dataknobsStreaming = [
  member({
    module: 'streaming',
    cls: 'RecordParser',
    factory: 'parse',
    roles,
    description:
      'Parses the text in `field` (default raw) as json, csv (a list of dicts, csv `options`) or yaml into `output_field` (default parsed).',
    classParams: parserParams,
    factoryParams: parserParams,
    fromFactory: (p) => p,
    create: recordParser,
  }),
  member({
    module: 'streaming',
    cls: 'StreamAggregator',
    factory: 'aggregate',
    roles,
    description:
      'Aggregates (sum, avg, min, max, count of a field) over every record it has seen (or the last window_size), per group_by group; results go to `aggregation` (or `aggregations`, grouped).',
    classParams: aggregatorParams,
    factoryParams: fieldMap(aggregation),
    fromFactory: (p) => ({ aggregations: p }),
    create: streamAggregator,
  }),
];

/** ChunkReader yields a file's records chunk by chunk: a source of records, which a state is not. */
export const refusedStreaming: readonly BuiltinFunction[] = refusedMember(
  'streaming',
  'ChunkReader',
  'read_chunks',
  'a reader of chunks is a source of records, not a step of one; read files with `fsm run --input` or an @fsm/io source (CSV, JSON lines, JSON), or @fsm/streaming for streams in batches',
);
