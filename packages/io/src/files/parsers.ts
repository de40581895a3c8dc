import { IoError } from '@fsm/core';
import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/** One record read from a file, with the line (JSONL, CSV) or element number (JSON) it came from. */
export interface ParsedRecord {
  line: number;
  value?: Record<string, unknown>;
  /** Set when the input at this line could not be parsed. */
  bad?: { raw: string; message: string };
}

export interface CsvOptions {
  delimiter?: string;
  /** `true` (default): the first row names the columns; an array names them; `false`: records are arrays as `{ "0": …, "1": … }`. */
  columns?: boolean | string[];
  /** Numbers and booleans become numbers and booleans, empty cells are left out (default false: every value is a string). */
  cast?: boolean;
  /** Skip empty lines (default true). */
  skipEmptyLines?: boolean;
}

function castValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}

/** CSV through csv-parse, one row at a time. A row with the wrong number of fields is reported, not thrown. */
export async function* csvRecords(input: Readable, options: CsvOptions): AsyncGenerator<ParsedRecord> {
  const columns = options.columns ?? true;
  const parser = input.pipe(
    parseCsv({
      delimiter: options.delimiter ?? ',',
      columns: false,
      relax_column_count: true,
      skip_empty_lines: options.skipEmptyLines ?? true,
      info: true,
      bom: true,
    }),
  );
  let header: string[] | undefined = Array.isArray(columns) ? columns : undefined;
  for await (const row of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const fields = row.record;
    const line = row.info.lines;
    if (columns === true && header === undefined) {
      header = fields;
      continue;
    }
    const names = header ?? fields.map((_, i) => String(i));
    if (header && fields.length !== header.length) {
      yield {
        line,
        bad: {
          raw: fields.join(options.delimiter ?? ','),
          message: `expected ${header.length} fields, found ${fields.length}`,
        },
      };
      continue;
    }
    const value: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      const field = fields[i] ?? '';
      // With `cast`, an empty cell is a missing value (so `required` checks see it), not "".
      if (options.cast && field === '') continue;
      value[names[i] as string] = options.cast ? castValue(field) : field;
    }
    yield { line, value };
  }
}

/** JSON Lines, one line at a time; blank lines are skipped. */
export async function* jsonlRecords(input: Readable): AsyncGenerator<ParsedRecord> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { line, value: asRecord(JSON.parse(text)) };
    } catch (error) {
      yield { line, bad: { raw: text, message: (error as Error).message } };
    }
  }
}

/**
 * A JSON array, streamed: elements are cut out of the text as it arrives (tracking strings, escapes
 * and nesting), so memory holds one element at a time, not the whole file.
 */
export async function* jsonArrayRecords(input: Readable, source: string): AsyncGenerator<ParsedRecord> {
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element: string[] = [];
  let count = 0;
  const emit = (): ParsedRecord | undefined => {
    const raw = element.join('').trim();
    element = [];
    if (raw === '') return undefined;
    count++;
    try {
      return { line: count, value: asRecord(JSON.parse(raw)) };
    } catch (error) {
      return { line: count, bad: { raw, message: (error as Error).message } };
    }
  };
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (!started) {
        if (c === '[') {
          started = true;
          from = i + 1;
        } else if (c !== undefined && !/\s|\uFEFF/.test(c)) {
          throw new IoError(`${source}: not a JSON array (starts with "${c}")`, { source, line: 1 });
        }
        continue;
      }
      if (ended) {
        if (c !== undefined && !/\s/.test(c))
          throw new IoError(`${source}: text after the end of the JSON array`, { source });
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0 && c === ']') {
          element.push(text.slice(from, i));
          const record = emit();
          if (record) yield record;
          ended = true;
          continue;
        }
        depth--;
      } else if (c === ',' && depth === 0) {
        element.push(text.slice(from, i));
        from = i + 1;
        const record = emit();
        if (record) yield record;
      }
    }
    if (started && !ended) element.push(text.slice(from));
  }
  if (!ended)
    throw new IoError(`${source}: the JSON array is not closed (truncated file?)`, {
      source,
      line: count + 1,
    });
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new Error(`expected an object, found ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/** Records of any byte stream in a format (for S3 objects, HTTP bodies, stdin). */
export function parseRecords(
  format: 'csv' | 'jsonl' | 'json',
  input: Readable,
  source: string,
  csv: CsvOptions = {},
): AsyncGenerator<ParsedRecord> {
  if (format === 'csv') return csvRecords(input, csv);
  if (format === 'jsonl') return jsonlRecords(input);
  return jsonArrayRecords(input, source);
}
