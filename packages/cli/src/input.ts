import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
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

function open(path: string): Readable {
  if (path === '-') return process.stdin;
  if (!existsSync(path)) throw new UsageError(`input file "${path}" does not exist`);
  const stream = createReadStream(path);
  return path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

/**
 * Records from a file or stdin. JSONL is read line by line (constant memory); CSV and JSON arrays go
 * through @fsm/io's streaming readers. A malformed line stops the run with its line number.
 */
export async function* readRecords(path: string, format: InputFormat): AsyncGenerator<unknown> {
  if (format === 'jsonl') {
    const lines = createInterface({ input: open(path), crlfDelay: Number.POSITIVE_INFINITY });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      try {
        yield JSON.parse(text) as unknown;
      } catch (error) {
        throw new UsageError(
          `${path === '-' ? 'stdin' : path}:${line}: not valid JSON (${(error as Error).message})`,
        );
      }
    }
    return;
  }
  const io = (await import('@fsm/io')) as Record<string, unknown>;
  const openReader = io.openReader as
    | ((p: string, o: { format: string }) => AsyncIterable<unknown> & { close(): Promise<void> })
    | undefined;
  if (typeof openReader !== 'function') throw new UsageError(`reading ${format} needs @fsm/io's openReader`);
  yield* openReader(path, { format });
}
