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
  /** The format written (from the option or the extension). */
  readonly format: FileFormat;
  private columns: string[] | undefined;
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' | 'failed' = 'open';
  private failure: Error | undefined;

  constructor(
    readonly path: string,
    private readonly options: FileWriterOptions = {},
  ) {
    const kind = fileKind(path, options.format, options.gzip);
    this.format = kind.format;
    this.columns = options.columns;
    this.temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    // `flush`: the data is fsynced before the file is closed, so the rename publishes durable bytes.
    this.file = createWriteStream(this.temp, { flush: true });
    this.out = kind.gzip ? createGzip() : this.file;
    if (kind.gzip) this.out.pipe(this.file);
    const remember = (error: Error) => {
      this.failure ??= error;
    };
    this.file.on('error', remember);
    this.out.on('error', remember);
  }

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    return this.writeEncoded(batch.length, () => this.encode(batch), signal);
  }

  /**
   * Writes records already encoded with `JSON.stringify` (JSONL and JSON-array files), so a caller that
   * had to encode them to check them does not pay for it twice.
   */
  async writeJson(texts: readonly string[], signal?: AbortSignal): Promise<void> {
    if (this.format === 'csv')
      throw new IoError(`${this.path}: writeJson needs a JSONL or JSON file, not CSV`, { source: this.path });
    return this.writeEncoded(texts.length, () => this.joinJson(texts), signal);
  }

  private async writeEncoded(count: number, encode: () => string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.state !== 'open')
      throw new IoError(`${this.path}: write after ${this.state === 'failed' ? 'a failed write' : 'close'}`, {
        source: this.path,
      });
    if (this.failure) return this.fail(this.failure);
    if (count === 0) return;
    let text: string;
    try {
      text = encode();
    } catch (error) {
      return this.fail(error as Error);
    }
    this.written += count;
    try {
      if (!this.out.write(text)) await once(this.out, 'drain', signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw error;
      return this.fail(error as Error);
    }
  }

  /** Flushes (and fsyncs), then renames the temporary file over the target; a failure removes the temp file and is thrown. */
  async close(): Promise<void> {
    if (this.state === 'failed') throw this.wrap(this.failure ?? new Error('an earlier write failed'));
    if (this.state !== 'open') return;
    this.state = 'closed';
    if (this.format === 'json') this.out.write(this.written === 0 ? '[]\n' : '\n]\n');
    this.out.end();
    if (!this.file.closed)
      await once(this.file, 'close').catch((error: unknown) => {
        this.failure ??= error as Error;
      });
    if (this.failure) {
      await this.removeTemp(this.failure);
      throw this.wrap(this.failure);
    }
    try {
      await rename(this.temp, this.path);
    } catch (error) {
      await this.removeTemp(error as Error);
      throw this.wrap(error as Error);
    }
  }

  /** Stops writing and removes the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.discard();
    await rm(this.temp, { force: true });
  }

  /** A failed write: the temp file goes at once, and the sink refuses further writes. */
  private async fail(error: Error): Promise<never> {
    this.failure ??= error;
    if (this.state === 'open') {
      this.state = 'failed';
      await this.discard();
      await this.removeTemp(error);
    }
    throw this.wrap(error);
  }

  private async discard(): Promise<void> {
    this.out.destroy();
    this.file.destroy();
    // An error while closing is kept in `failure` (reported by close()), not dropped.
    if (!this.file.closed)
      await once(this.file, 'close').catch((error: unknown) => {
        this.failure ??= error as Error;
      });
  }

  /** Removes the temp file; if that fails too, both errors are reported together. */
  private async removeTemp(cause: Error): Promise<void> {
    try {
      await rm(this.temp, { force: true });
    } catch (error) {
      throw new AggregateError(
        [cause, error],
        `${this.path}: writing failed, and removing ${this.temp} failed`,
      );
    }
  }

  private joinJson(texts: readonly string[]): string {
    if (this.format === 'jsonl') return texts.length === 1 ? `${texts[0]}\n` : `${texts.join('\n')}\n`;
    return texts.map((t, i) => `${this.written + i === 0 ? '[\n' : ',\n'}${t}`).join('');
  }

  private encode(batch: Record<string, unknown>[]): string {
    if (this.format !== 'csv') return this.joinJson(batch.map((r) => JSON.stringify(r)));
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
