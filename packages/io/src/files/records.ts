import { type FileReaderOptions, openReader } from './file-source.js';
import { type FileWriterOptions, openWriter } from './file-sink.js';

/** Every record of a file, lazily. */
export function readRecords(
  path: string,
  options: FileReaderOptions = {},
): AsyncIterable<Record<string, unknown>> {
  return openReader(path, options);
}

/** Writes records to a file atomically, in chunks of `chunkSize`; returns how many were written. */
export async function writeRecords(
  path: string,
  records: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
  options: FileWriterOptions & { chunkSize?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const sink = openWriter(path, options);
  const size = options.chunkSize ?? 500;
  let chunk: Record<string, unknown>[] = [];
  let count = 0;
  try {
    for await (const record of records) {
      chunk.push(record);
      if (chunk.length >= size) {
        await sink.write(chunk, options.signal);
        count += chunk.length;
        chunk = [];
      }
    }
    await sink.write(chunk, options.signal);
    count += chunk.length;
  } catch (error) {
    await sink.abort();
    throw error;
  }
  await sink.close();
  return count;
}
