import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openReader } from '@fsm/io';
import { UsageError } from './exit-codes.js';

export type InputFormat = 'jsonl' | 'json' | 'csv';

/** The format from `--input-format`, else the file's extension (`.jsonl`, `.ndjson`, `.json`, `.csv`, each maybe `.gz`). */
export function inputFormat(path: string, explicit: string | undefined): InputFormat {
  const format = explicit ?? /\.(jsonl|ndjson|json|csv)(\.gz)?$/i.exec(path)?.[1]?.toLowerCase();
  if (format === 'ndjson') return 'jsonl';
  if (format === 'jsonl' || format === 'json' || format === 'csv') return format;
  throw new UsageError(
    path === '-'
      ? 'reading stdin needs --input-format jsonl|json|csv'
      : `cannot tell the format of "${path}": use .jsonl, .json or .csv (optionally .gz), or --input-format`,
  );
}

/**
 * Records from a file or stdin. Files go through @fsm/io's streaming readers (JSONL, CSV, JSON arrays,
 * gzip), stdin is read as JSON lines; either way one record at a time, in constant memory. A malformed
 * line stops the run with its file and line number.
 */
export async function* readRecords(path: string, format: InputFormat): AsyncGenerator<unknown> {
  if (path !== '-') {
    if (!existsSync(path)) throw new UsageError(`input file "${path}" does not exist`);
    // CSV values are typed (numbers, booleans) so schemas like `amount: number` hold.
    yield* openReader(path, format === 'csv' ? { format, cast: true } : { format });
    return;
  }
  if (format !== 'jsonl')
    throw new UsageError(`stdin takes JSON lines only; write ${format} input to a file`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`stdin:${line}: not valid JSON (${(error as Error).message})`);
    }
  }
}
