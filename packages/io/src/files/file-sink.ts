import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { IoError, type StreamSink } from '@fsm/core';
import { stringify } from 'csv-stringify/sync';
import { type FileFormat, fileKind } from './format.js';

export interface FileWriterOptions {
  format?: FileFormat;
  gzip?: boolean;
  /** CSV columns (default: the keys of the first record). */
  columns?: string[];
  delimiter?: string;
}

/**
 * Writes records to a temporary file next to `path` and renames it over `path` on `close()`, so
 * readers never see a half-written file. `abort()` (or a failed write) removes the temporary file.
 */
export class FileSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private readonly temp: string;
  private readonly file: WriteStream;
  private readonly out: Writable;
  private readonly format: FileFormat;
  private columns: string[] | undefined;
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private failure: Error | undefined;

  constructor(
    readonly path: string,
    private readonly options: FileWriterOptions = {},
  ) {
    const kind = fileKind(path, options.format, options.gzip);
    this.format = kind.format;
    this.columns = options.columns;
    this.temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    this.file = createWriteStream(this.temp);
    this.out = kind.gzip ? createGzip() : this.file;
    if (kind.gzip) this.out.pipe(this.file);
    const remember = (error: Error) => {
      this.failure ??= error;
    };
    this.file.on('error', remember);
    this.out.on('error', remember);
  }

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.state !== 'open') throw new IoError(`${this.path}: write after close`, { source: this.path });
    if (this.failure) throw this.wrap(this.failure);
    if (batch.length === 0) return;
    const text = this.encode(batch);
    this.written += batch.length;
    try {
      if (!this.out.write(text)) await once(this.out, 'drain', signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw error;
      throw this.wrap(error as Error);
    }
  }

  /** Flushes, then renames the temporary file over the target. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closed';
    if (this.format === 'json') this.out.write(this.written === 0 ? '[]\n' : '\n]\n');
    this.out.end();
    if (!this.file.closed)
      await once(this.file, 'close').catch((error: unknown) => {
        this.failure ??= error as Error;
      });
    if (this.failure) {
      await rm(this.temp, { force: true });
      throw this.wrap(this.failure);
    }
    await rename(this.temp, this.path);
  }

  /** Stops writing and removes the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.out.destroy();
    this.file.destroy();
    await rm(this.temp, { force: true });
  }

  private encode(batch: Record<string, unknown>[]): string {
    if (this.format === 'jsonl') return batch.map((r) => `${JSON.stringify(r)}\n`).join('');
    if (this.format === 'json') {
      return batch.map((r, i) => `${this.written + i === 0 ? '[\n' : ',\n'}${JSON.stringify(r)}`).join('');
    }
    const header = this.written === 0;
    this.columns ??= Object.keys(batch[0] ?? {});
    const columns = this.columns;
    const rows = batch.map((r) => columns.map((c) => csvCell(r[c])));
    return stringify(header ? [columns, ...rows] : rows, { delimiter: this.options.delimiter ?? ',' });
  }

  private wrap(error: Error): IoError {
    return new IoError(`${this.path}: ${error.message}`, { source: this.path, cause: error });
  }
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Opens a CSV, JSONL or JSON-array file (optionally gzipped) for writing, atomically. */
export function openWriter(path: string, options: FileWriterOptions = {}): FileSink {
  return new FileSink(path, options);
}
