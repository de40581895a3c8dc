import { IoError } from '@fsm/core';
import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { Readable as ReadableStream } from 'node:stream';

/** Why a record could not be read: broken syntax, nested deeper than `maxDepth`, or bytes that are not UTF-8. */
export type BadRecordReason = 'syntax' | 'too-deep' | 'too-large' | 'encoding';

/** One record read from a file, with the line (JSONL, CSV) or element number (JSON) it came from. */
export interface ParsedRecord {
  line: number;
  value?: Record<string, unknown>;
  /** Set when the input at this line could not be parsed. */
  bad?: { raw: string; message: string; reason: BadRecordReason };
}

/** Limits and decoding shared by every format. */
export interface ParseOptions {
  /**
   * Deepest nesting of objects and arrays a JSON record may have (default 1000); a deeper record is a
   * bad record (`reason: 'too-deep'`), checked before `JSON.parse` so no later step recurses into it.
   */
  maxDepth?: number;
  /**
   * Longest JSON record, in characters (default 64 Mi): a longer line or element is a bad record
   * (`reason: 'too-large'`); only its first 200 characters are kept.
   */
  maxRecordLength?: number;
  /**
   * Replace bytes that are not UTF-8 with U+FFFD (default false: such input is an error naming its line,
   * a bad record for JSONL, an `IoError` for CSV and JSON arrays).
   */
  replaceInvalidUtf8?: boolean;
}

/** The default of `ParseOptions.maxDepth`. */
export const DEFAULT_MAX_DEPTH = 1000;
/** The default of `ParseOptions.maxRecordLength`. */
export const DEFAULT_MAX_RECORD_LENGTH = 64 * 1024 * 1024;

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
 * `onBadRecord` policy decides. CSV values are flat strings, so `maxDepth` does not apply. Bytes that
 * are not UTF-8 stop the reading with an `IoError` naming the line (unless `replaceInvalidUtf8`).
 */
export async function* csvRecords(
  input: Readable,
  options: CsvOptions & ParseOptions,
  source = 'input',
): AsyncGenerator<ParsedRecord> {
  const columns = options.columns ?? true;
  // csv-parse reports unreadable rows through `on_skip` while it parses ahead of us: queue them and
  // yield each one in line order among the good rows.
  const skipped: ParsedRecord[] = [];
  // Decoded here (not by csv-parse, which replaces bad bytes silently); the decoder also drops a BOM.
  const text = ReadableStream.from(decodeUtf8(input, source, options.replaceInvalidUtf8 === true), {
    objectMode: false,
  });
  const parser = text.pipe(
    parseCsv({
      delimiter: options.delimiter ?? ',',
      columns: false,
      relax_column_count: true,
      skip_empty_lines: options.skipEmptyLines ?? true,
      info: true,
      raw: true,
      bom: true,
      // A quote inside a field is kept as a character (as Python's csv and spreadsheets do). Strict quotes
      // made csv-parse report every later quote of a broken row again, each report copying the row so
      // far: a 64 KB line of stray quotes took 20 s and a gigabyte. An unclosed quote is still an error.
      relax_quotes: true,
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        const line = typeof error?.lines === 'number' ? error.lines : 0;
        skipped.push({
          line,
          bad: { raw: raw ?? '', message: error?.message ?? 'unreadable CSV row', reason: 'syntax' },
        });
        return undefined;
      },
    }),
  );
  // pipe() forwards no errors: without this a failed (or closed: premature close) input would leave the
  // parser waiting.
  text.on('error', (error) => parser.destroy(error));
  let header: string[] | undefined = Array.isArray(columns) ? columns : undefined;
  try {
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
            reason: 'syntax',
          },
        };
        continue;
      }
      const value: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) {
        const field = fields[i] ?? '';
        // With `cast`, an empty cell is a missing value (so `required` checks see it), not "".
        if (options.cast && field === '') continue;
        defineField(value, names[i] as string, options.cast ? castValue(field) : field);
      }
      yield { line, value };
    }
  } finally {
    text.destroy();
  }
  yield* skipped;
}

/**
 * A column named `__proto__` must become an own field, not the record's prototype: plain assignment
 * would call the inherited setter.
 */
function defineField(record: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  else record[name] = value;
}

/**
 * JSON Lines, one line at a time; blank lines are skipped. A line that is not UTF-8 (or too deep, or not
 * JSON) is a bad record with its own number, and the next line reads normally. A BOM before the first
 * line is dropped. Chunks are checked with `isUtf8` and decoded whole (the common case); only a chunk
 * with bad bytes is decoded line by line, to find the lines at fault.
 */
export async function* jsonlRecords(
  input: Readable,
  options: ParseOptions = {},
): AsyncGenerator<ParsedRecord> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxLength = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  const strict = options.replaceInvalidUtf8 !== true;
  let line = 0;
  // The line read so far (its newline not seen yet), and why it is bad when some of its bytes were.
  let pending = '';
  let pendingBad: string | undefined;
  let tooLarge = false;
  const append = (piece: string) => {
    if (tooLarge) return;
    if (pending.length + piece.length > maxLength) {
      // Keep the start for the message; the rest of the line is dropped as it arrives.
      tooLarge = true;
      pending = (pending + piece.slice(0, 200)).slice(0, 200);
    } else pending = pending === '' ? piece : pending + piece;
  };
  // A character cut at the end of the last chunk, completed by the next one.
  let carry: Buffer | undefined;
  const finish = (): ParsedRecord | undefined => {
    line++;
    let text = pending;
    const bad = pendingBad;
    pending = '';
    pendingBad = undefined;
    if (tooLarge) {
      tooLarge = false;
      return { line, bad: { raw: text, message: tooLargeMessage(maxLength), reason: 'too-large' } };
    }
    if (text.length > 0 && text.charCodeAt(text.length - 1) === CR) text = text.slice(0, -1);
    if (line === 1 && text.charCodeAt(0) === BOM) text = text.slice(1);
    if (bad !== undefined) return { line, bad: { raw: text, message: bad, reason: 'encoding' } };
    if (isBlank(text)) return undefined;
    return parseJson(text, line, maxDepth);
  };
  for await (const chunk of input) {
    let bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (carry) {
      bytes = Buffer.concat([carry, bytes]);
      carry = undefined;
    }
    const cut = incompleteTailLength(bytes);
    if (cut > 0) {
      carry = Buffer.from(bytes.subarray(bytes.length - cut));
      bytes = bytes.subarray(0, bytes.length - cut);
    }
    if (!strict || isUtf8(bytes)) {
      const text = bytes.toString('utf8');
      let from = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
        append(text.slice(from, nl));
        from = nl + 1;
        const record = finish();
        if (record) yield record;
      }
      append(text.slice(from));
      continue;
    }
    let from = 0;
    for (;;) {
      const nl = bytes.indexOf(NEWLINE, from);
      const segment = bytes.subarray(from, nl === -1 ? bytes.length : nl);
      if (pendingBad === undefined && !isUtf8(segment))
        pendingBad = invalidUtf8Message(segment, segment.length);
      append(segment.toString('utf8'));
      if (nl === -1) break;
      from = nl + 1;
      const record = finish();
      if (record) yield record;
    }
  }
  if (carry) {
    if (strict) pendingBad ??= 'invalid UTF-8: the input ends inside a character';
    append(carry.toString('utf8'));
  }
  if (pending !== '' || pendingBad !== undefined || tooLarge) {
    const record = finish();
    if (record) yield record;
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** A JSON text as a record, or a bad record: too deep (found before `JSON.parse` runs), not JSON, not an object. */
function parseJson(text: string, line: number, maxDepth: number): ParsedRecord {
  // A record deeper than maxDepth holds more than 2 × maxDepth brackets: shorter texts need no scan.
  if (text.length > 2 * maxDepth) {
    const depth = jsonDepth(text, maxDepth);
    if (depth > maxDepth) return { line, bad: { raw: text, message: tooDeep(maxDepth), reason: 'too-deep' } };
  }
  try {
    return { line, value: asRecord(JSON.parse(text)) };
  } catch (error) {
    return { line, bad: { raw: text, message: (error as Error).message, reason: 'syntax' } };
  }
}

const tooDeep = (maxDepth: number) => `nested deeper than ${maxDepth} levels (maxDepth)`;
const tooLargeMessage = (maxLength: number) => `longer than ${maxLength} characters (maxRecordLength)`;

/**
 * The deepest nesting of `[`/`{` outside strings, counting stops just above `limit`. Malformed
 * text gives some number: JSON.parse reports the syntax error after.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return max;
}

/**
 * A JSON array, streamed: elements are cut out of the text as it arrives (tracking strings, escapes
 * and nesting), so memory holds one element at a time, not the whole file. Each element's `line` is the
 * line it starts on. An element nested deeper than `maxDepth` is a bad record (its text is not kept).
 */
export async function* jsonArrayRecords(
  input: Readable,
  source: string,
  options: ParseOptions = {},
): AsyncGenerator<ParsedRecord> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxLength = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element: string[] = [];
  let elementLength = 0;
  // Set when the element is too deep or too large: the rest of its text is not kept.
  let dropped: 'too-deep' | 'too-large' | undefined;
  const keep = (piece: string) => {
    if (dropped) return;
    elementLength += piece.length;
    if (elementLength > maxLength) {
      dropped = 'too-large';
      piece = piece.slice(0, 200);
    }
    element.push(piece);
  };
  let line = 1;
  let elementLine = 0;
  const emit = (): ParsedRecord | undefined => {
    const raw = element.join('').trim();
    element = [];
    elementLength = 0;
    const at = elementLine;
    elementLine = 0;
    if (dropped) {
      const reason = dropped;
      dropped = undefined;
      const message = reason === 'too-deep' ? tooDeep(maxDepth) : tooLargeMessage(maxLength);
      return { line: at, bad: { raw: raw.slice(0, 200), message, reason } };
    }
    if (raw === '') return undefined;
    try {
      return { line: at, value: asRecord(JSON.parse(raw)) };
    } catch (error) {
      return { line: at, bad: { raw, message: (error as Error).message, reason: 'syntax' } };
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
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > maxDepth && !dropped) {
          // Keep only the start of a too-deep element, for the message: not the whole of it.
          keep(text.slice(from, i));
          dropped = 'too-deep';
          from = i;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0 && c === CLOSE_BRACKET) {
          keep(text.slice(from, i));
          const record = emit();
          if (record) yield record;
          ended = true;
          continue;
        }
        depth--;
      } else if (c === COMMA && depth === 0) {
        keep(text.slice(from, i));
        from = i + 1;
        const record = emit();
        if (record) yield record;
        else throw new IoError(`${source}:${line}: empty element in the JSON array`, { source, line });
      }
    }
    if (started && !ended) keep(text.slice(from));
  };
  for await (const text of decodeUtf8(input, source, options.replaceInvalidUtf8 === true)) yield* scan(text);
  if (!ended)
    throw new IoError(`${source}:${line}: the JSON array is not closed (truncated file?)`, { source, line });
}

/**
 * Text of a byte stream, decoded with state (a character may be split between chunks) and strictly:
 * bytes that are not UTF-8 are an `IoError` naming the line, unless `replace`. A leading BOM is dropped.
 */
async function* decodeUtf8(input: Readable, source: string, replace: boolean): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: !replace });
  let lines = 1;
  let previous: Uint8Array = new Uint8Array(0);
  for await (const chunk of input) {
    if (typeof chunk === 'string') {
      yield chunk;
      continue;
    }
    const bytes = chunk as Buffer;
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch (error) {
      // The bad sequence may have started in the previous chunk: look at its unfinished tail too.
      const tail = previous.subarray(previous.length - incompleteTailLength(previous));
      const at = Math.max(0, invalidUtf8At(Buffer.concat([tail, bytes])) - tail.length);
      throw encodingError(source, lines + countNewlines(bytes, at), bytes, error);
    }
    lines += countNewlines(bytes, bytes.length);
    previous = bytes;
    if (text !== '') yield text;
  }
  let last: string;
  try {
    last = decoder.decode();
  } catch (error) {
    throw new IoError(`${source}:${lines}: invalid UTF-8: the input ends inside a character`, {
      source,
      line: lines,
      cause: error,
    });
  }
  if (last !== '') yield last;
}

function encodingError(source: string, line: number, bytes: Uint8Array, cause: unknown): IoError {
  return new IoError(`${source}:${line}: ${invalidUtf8Message(bytes, bytes.length)}`, {
    source,
    line,
    cause,
  });
}

function invalidUtf8Message(bytes: Uint8Array, end: number): string {
  const at = invalidUtf8At(bytes.subarray(0, end));
  const byte = at < end ? ` (byte 0x${(bytes[at] as number).toString(16).padStart(2, '0')})` : '';
  return `invalid UTF-8${byte}; pass replaceInvalidUtf8 (CLI: --replace-invalid-utf8) to replace it with U+FFFD`;
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1 && i < end; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * Index of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or `bytes.length` when all are well-formed
 * (a sequence cut at the end counts as well-formed: the next chunk may complete it).
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return n;
      const c = bytes[i + k] as number;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return n;
}

/** How many bytes at the end start a character the chunk does not finish (0 to 3). */
function incompleteTailLength(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back] as number;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
      return need >= back ? back : 0;
    }
  }
  return 0;
}

const NEWLINE = 10;
const CR = 13;
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
  options: CsvOptions & ParseOptions = {},
): AsyncGenerator<ParsedRecord> {
  if (format === 'csv') return csvRecords(input, options, source);
  if (format === 'jsonl') return jsonlRecords(input, options);
  return jsonArrayRecords(input, source, options);
}
