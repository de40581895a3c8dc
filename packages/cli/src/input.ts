import { createReadStream, existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ExecutionResult } from '@fsm/core';
import { FsmError } from '@fsm/core';
import { type FileFormat, fileKind, type ParsedRecord, parseRecords } from '@fsm/io';
import { UsageError } from './exit-codes.js';

export type InputFormat = FileFormat;

export interface InputOptions {
  /** Replace bytes that are not UTF-8 with U+FFFD instead of stopping at them (`--replace-invalid-utf8`). */
  replaceInvalidUtf8?: boolean;
}

/**
 * The format from `--input-format` (`ndjson` means `jsonl`), else JSONL for stdin (SPEC §5), else from
 * the file's extension via @fsm/io.
 */
export function inputFormat(path: string, explicit: string | undefined): InputFormat {
  if (explicit !== undefined) {
    const format = explicit.toLowerCase() === 'ndjson' ? 'jsonl' : explicit.toLowerCase();
    if (format === 'jsonl' || format === 'json' || format === 'csv') return format;
    throw new UsageError(`--input-format must be jsonl, json or csv, not "${explicit}"`);
  }
  if (path === '-') return 'jsonl';
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

/**
 * Bytes read from an input file at a time. A parser turns a whole chunk into records at once, and they
 * wait in its buffer until the run takes them: with Node's default 64 KB (~2000 CSV rows, ~60 ms of
 * work) they outlive two scavenges, get promoted, and the old generation fills with dead records
 * (~140 MB promoted per 100 000 rows, peak RSS ~250 MB); 16 KB chunks die young (~17 MB promoted, RSS
 * ~150 MB) at no cost in throughput.
 */
const READ_CHUNK_BYTES = 16 * 1024;

// CSV values are typed (numbers, booleans) so schemas like `amount: number` hold.
const csvOptions = (format: InputFormat) => (format === 'csv' ? { cast: true } : {});

/**
 * The parsed input of a run, from a file or stdin, through @fsm/io's streaming parsers (JSONL, CSV,
 * JSON arrays; gzip for files): one record at a time, in constant memory.
 *
 * A record nested too deep or too large is that record's failure, not the run's: `records()` leaves it out and
 * `withInputFailures()` puts a failed result (`IO_FAILED`, naming file:line) in its place among the
 * results. Input that cannot be read at all (broken JSON, bytes that are not UTF-8, a missing file)
 * stops the run with its file (or `stdin`) and line: a usage error, exit 2.
 */
export class RunInput {
  /** Failed results of unreadable records, each after the number of good records read before it. */
  private readonly failures: Array<{ after: number; result: ExecutionResult }> = [];
  private good = 0;

  constructor(
    readonly path: string,
    readonly format: InputFormat,
    private readonly options: InputOptions = {},
  ) {}

  /** The records that can be run, in input order. */
  async *records(): AsyncGenerator<unknown> {
    for await (const parsed of this.parsed()) {
      if (parsed.bad) {
        if (parsed.bad.reason !== 'too-deep' && parsed.bad.reason !== 'too-large')
          throw new UsageError(`${this.source}:${parsed.line}: ${parsed.bad.message}`);
        this.failures.push({
          after: this.good,
          result: inputFailure(`${this.source}:${parsed.line}: ${parsed.bad.message}`),
        });
        continue;
      }
      this.good++;
      yield parsed.value;
    }
  }

  /**
   * The results of `records()` (in input order) with the failed results of the records it left out,
   * each in its input position.
   */
  async *withInputFailures(
    results: AsyncIterable<ExecutionResult> | Iterable<ExecutionResult>,
  ): AsyncGenerator<ExecutionResult> {
    let done = 0;
    const failures = this.failures;
    for await (const result of results) {
      // Result number `done` belongs to good record `done`: read (with what came before it) already.
      while (failures.length > 0 && (failures[0] as { after: number }).after <= done)
        yield (failures.shift() as { result: ExecutionResult }).result;
      yield result;
      done++;
    }
    while (failures.length > 0) yield (failures.shift() as { result: ExecutionResult }).result;
  }

  private get source(): string {
    return this.path === '-' ? 'stdin' : this.path;
  }

  private async *parsed(): AsyncGenerator<ParsedRecord> {
    const options = {
      ...csvOptions(this.format),
      ...(this.options.replaceInvalidUtf8 ? { replaceInvalidUtf8: true } : {}),
    };
    if (this.path === '-') {
      yield* parseRecords(this.format, process.stdin, 'stdin', options);
      return;
    }
    if (!existsSync(this.path)) throw new UsageError(`input file "${this.path}" does not exist`);
    const file = createReadStream(this.path, { highWaterMark: READ_CHUNK_BYTES });
    const input: Readable = fileKind(this.path, this.format).gzip ? file.pipe(createGunzip()) : file;
    // pipe() does not forward the file's errors to the gunzip stream the parser reads.
    if (input !== file) file.on('error', (error) => input.destroy(error));
    try {
      yield* parseRecords(this.format, input, this.path, options);
    } catch (error) {
      if (FsmError.is(error)) throw error;
      // A read error (EACCES, EISDIR, a corrupt gzip) names the file, not a stack.
      throw new UsageError(`cannot read "${this.path}": ${(error as Error).message}`, { cause: error });
    } finally {
      input.destroy();
      file.destroy();
    }
  }
}

/** A failed result for an input record that never ran. */
function inputFailure(message: string): ExecutionResult {
  return {
    success: false,
    finalState: '',
    data: null,
    path: [],
    error: { code: 'IO_FAILED', message },
    executionId: '',
    transitions: 0,
    durationMs: 0,
  };
}
