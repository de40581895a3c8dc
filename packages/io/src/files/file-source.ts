import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  type BadRecord,
  IoError,
  type ReaderOptions,
  type StreamPosition,
  type StreamSource,
} from '@fsm/core';
import { type FileFormat, fileKind } from './format.js';
import { type CsvOptions, type ParsedRecord, type ParseOptions, parseRecords } from './parsers.js';

export interface FileReaderOptions extends ReaderOptions, CsvOptions, ParseOptions {
  format?: FileFormat;
  gzip?: boolean;
  /** Records to skip at the start (to resume after `position().records`). */
  skip?: number;
}

/**
 * A file of records as a `StreamSource`: read lazily, one record at a time, so memory stays constant
 * whatever the file size. Bad input fails with an `IoError` naming the file and line, or with
 * `onBadRecord: 'skip'` goes to `onError` and reading goes on.
 */
export class FileSource implements StreamSource<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private records = 0;
  private line = 0;
  private input: Readable | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: FileReaderOptions = {},
  ) {
    fileKind(path, options.format, options.gzip);
  }

  position(): StreamPosition {
    return { records: this.records, line: this.line };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>> {
    if (this.closed) throw new IoError(`${this.path}: the reader is closed`, { source: this.path });
    const { format, gzip } = fileKind(this.path, this.options.format, this.options.gzip);
    const signal = this.options.signal;
    signal?.throwIfAborted();
    const file = createReadStream(this.path);
    const input: Readable = gzip ? file.pipe(createGunzip()) : file;
    // A stream error (an abort included) can come after the parser stopped listening: keep it, and
    // report it when the parse did not already fail.
    let streamError: Error | undefined;
    const keep = (error: Error) => {
      streamError ??= error;
      if (input !== file) input.destroy(error);
    };
    file.on('error', keep);
    if (input !== file) input.on('error', keep);
    this.input = input;
    // An abort destroys the input (without an error event nobody may be left to hear) and stops the
    // loop below with the signal's reason.
    const stop = () => input.destroy();
    signal?.addEventListener('abort', stop, { once: true });
    const skip = this.options.skip ?? 0;
    let seen = 0;
    try {
      for await (const parsed of this.parse(format, input)) {
        // close() from elsewhere ends the stream, even with parsed records still buffered.
        if (this.closed) return;
        // The parser may hold many records already read: an abort must stop them too.
        signal?.throwIfAborted();
        this.line = parsed.line;
        if (parsed.bad) {
          const { raw, message } = parsed.bad;
          await this.badRecord({ line: parsed.line, raw, message });
          continue;
        }
        if (seen++ < skip) continue;
        this.records++;
        yield parsed.value as Record<string, unknown>;
      }
      signal?.throwIfAborted();
      if (streamError && !this.closed) throw streamError;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (this.closed && !(error instanceof IoError)) return;
      if (error instanceof IoError) throw error;
      throw new IoError(`${this.path}: ${(error as Error).message}`, {
        source: this.path,
        line: this.line,
        cause: error,
      });
    } finally {
      signal?.removeEventListener('abort', stop);
      input.destroy();
      if (input !== file) file.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.input?.destroy();
  }

  private parse(format: FileFormat, input: Readable): AsyncGenerator<ParsedRecord> {
    return parseRecords(format, input, this.path, this.options);
  }

  private async badRecord(bad: BadRecord): Promise<void> {
    if (this.options.onBadRecord !== 'skip') {
      throw new IoError(`${this.path}:${bad.line}: ${bad.message}`, { source: this.path, line: bad.line });
    }
    await this.options.onError?.(bad);
  }
}

/** Opens a CSV, JSONL or JSON-array file (optionally gzipped) as a stream of records. */
export function openReader(path: string, options: FileReaderOptions = {}): FileSource {
  return new FileSource(path, options);
}
