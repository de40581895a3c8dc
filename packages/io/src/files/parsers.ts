import { IoError } from '@fsm/core';
import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

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

interface CsvRow {
  record: string[];
  raw: string;
  info: { lines: number };
}

/**
 * CSV through csv-parse, one row at a time. A row with the wrong number of fields, or one csv-parse
 * cannot read (bad quoting), is yielded as a bad record with its line, not thrown: the reader's
 * `onBadRecord` policy decides.
 */
export async function* csvRecords(input: Readable, options: CsvOptions): AsyncGenerator<ParsedRecord> {
  const columns = options.columns ?? true;
  // csv-parse reports unreadable rows through `on_skip` while it parses ahead of us: queue them and
  // yield each one in line order among the good rows.
  const skipped: ParsedRecord[] = [];
  const parser = input.pipe(
    parseCsv({
      delimiter: options.delimiter ?? ',',
      columns: false,
      relax_column_count: true,
      skip_empty_lines: options.skipEmptyLines ?? true,
      info: true,
      raw: true,
      bom: true,
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        const line = typeof error?.lines === 'number' ? error.lines : 0;
        skipped.push({ line, bad: { raw: raw ?? '', message: error?.message ?? 'unreadable CSV row' } });
        return undefined;
      },
    }),
  );
  // pipe() forwards neither errors nor a destroy: without this a closed input would leave the parser waiting.
  input.on('error', (error) => parser.destroy(error));
  input.on('close', () => {
    if (!input.readableEnded) parser.destroy();
  });
  let header: string[] | undefined = Array.isArray(columns) ? columns : undefined;
  for await (const row of parser as AsyncIterable<CsvRow>) {
    const line = row.info.lines;
    while (skipped.length > 0 && (skipped[0] as ParsedRecord).line < line)
      yield skipped.shift() as ParsedRecord;
    const fields = row.record;
    if (columns === true && header === undefined) {
      header = fields;
      continue;
    }
    const names = header ?? fields.map((_, i) => String(i));
    if (header && fields.length !== header.length) {
      yield {
        line,
        bad: {
          raw: row.raw.replace(/\r?\n$/, ''),
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
  yield* skipped;
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
 * and nesting), so memory holds one element at a time, not the whole file. Each element's `line` is the
 * line it starts on.
 */
export async function* jsonArrayRecords(input: Readable, source: string): AsyncGenerator<ParsedRecord> {
  // A multi-byte character may be split between two chunks: decode with state, never chunk by chunk.
  const decoder = new StringDecoder('utf8');
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element: string[] = [];
  let line = 1;
  let elementLine = 0;
  const emit = (): ParsedRecord | undefined => {
    const raw = element.join('').trim();
    element = [];
    const at = elementLine;
    elementLine = 0;
    if (raw === '') return undefined;
    try {
      return { line: at, value: asRecord(JSON.parse(raw)) };
    } catch (error) {
      return { line: at, bad: { raw, message: (error as Error).message } };
    }
  };
  const scan = function* (text: string): Generator<ParsedRecord> {
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) line++;
      if (!started) {
        if (c === OPEN_BRACKET) {
          started = true;
          from = i + 1;
        } else if (!isSpace(c) && c !== BOM) {
          throw new IoError(`${source}:${line}: not a JSON array (starts with "${text[i]}")`, {
            source,
            line,
          });
        }
        continue;
      }
      if (ended) {
        if (!isSpace(c))
          throw new IoError(`${source}:${line}: text after the end of the JSON array`, { source, line });
        continue;
      }
      if (elementLine === 0 && !isSpace(c)) elementLine = line;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0 && c === CLOSE_BRACKET) {
          element.push(text.slice(from, i));
          const record = emit();
          if (record) yield record;
          ended = true;
          continue;
        }
        depth--;
      } else if (c === COMMA && depth === 0) {
        element.push(text.slice(from, i));
        from = i + 1;
        const record = emit();
        if (record) yield record;
        else throw new IoError(`${source}:${line}: empty element in the JSON array`, { source, line });
      }
    }
    if (started && !ended) element.push(text.slice(from));
  };
  for await (const chunk of input) {
    yield* scan(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
  }
  yield* scan(decoder.end());
  if (!ended)
    throw new IoError(`${source}:${line}: the JSON array is not closed (truncated file?)`, { source, line });
}

const NEWLINE = 10;
const QUOTE = 34;
const COMMA = 44;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const BOM = 0xfeff;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
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
