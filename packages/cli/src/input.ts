import { existsSync } from 'node:fs';
import { type FileFormat, fileKind, openReader, parseRecords } from '@fsm/io';
import { UsageError } from './exit-codes.js';

export type InputFormat = FileFormat;

/** The format from `--input-format` (`ndjson` means `jsonl`), else from the file's extension via @fsm/io. */
export function inputFormat(path: string, explicit: string | undefined): InputFormat {
  if (explicit !== undefined) {
    const format = explicit.toLowerCase() === 'ndjson' ? 'jsonl' : explicit.toLowerCase();
    if (format === 'jsonl' || format === 'json' || format === 'csv') return format;
    throw new UsageError(`--input-format must be jsonl, json or csv, not "${explicit}"`);
  }
  if (path === '-') throw new UsageError('reading stdin needs --input-format jsonl|json|csv');
  try {
    return fileKind(path).format;
  } catch (error) {
    // fileKind's IoError is a usage error here: the user named the file.
    throw new UsageError(
      `cannot tell the format of "${path}": use .jsonl, .json or .csv (optionally .gz), or --input-format`,
      {
        cause: error,
      },
    );
  }
}

// CSV values are typed (numbers, booleans) so schemas like `amount: number` hold.
const csvOptions = (format: InputFormat) => (format === 'csv' ? { cast: true } : {});

/**
 * Records from a file or stdin, through @fsm/io's streaming parsers (JSONL, CSV, JSON arrays; gzip for
 * files): one record at a time, in constant memory. A malformed line stops the run with its file (or
 * `stdin`) and line number.
 */
export async function* readRecords(path: string, format: InputFormat): AsyncGenerator<unknown> {
  if (path !== '-') {
    if (!existsSync(path)) throw new UsageError(`input file "${path}" does not exist`);
    yield* openReader(path, { format, ...csvOptions(format) });
    return;
  }
  for await (const parsed of parseRecords(format, process.stdin, 'stdin', csvOptions(format))) {
    if (parsed.bad) throw new UsageError(`stdin:${parsed.line}: ${parsed.bad.message}`);
    yield parsed.value;
  }
}
