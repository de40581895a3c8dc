import { once } from 'node:events';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ExecutionResult } from '@fsm/core';
import { type FileSink, openWriter } from '@fsm/io';

/** Error code of a result line whose record's result cannot be written as JSON. */
export const RESULT_NOT_SERIALIZABLE = 'RESULT_NOT_SERIALIZABLE';

/**
 * The line `run` writes per record (SPEC §5); a failed line (`RESULT_NOT_SERIALIZABLE`) when the
 * result cannot be written as JSON.
 */
export function resultLine(result: ExecutionResult): string {
  return `${encodeResult(result).text}\n`;
}

/** The JSON text of a result line, and the result it stands for. */
export function encodeResult(result: ExecutionResult): { text: string; result: ExecutionResult } {
  try {
    return { text: resultJson(result), result };
  } catch (error) {
    // Nested too deep (RangeError), a cycle or a BigInt (TypeError), too large for a string: this record
    // fails alone; the run and the output file are not at fault.
    const failed = notSerializable(result, error as Error);
    return { text: JSON.stringify(resultRecord(failed)), result: failed };
  }
}

/**
 * `JSON.stringify(resultRecord(result))`, field by field: no object per line. A field whose value JSON
 * leaves out (undefined, a function) is left out, as JSON.stringify does with an object's keys.
 */
function resultJson(result: ExecutionResult): string {
  let text = `{"success":${result.success === true}`;
  const finalState = JSON.stringify(result.finalState);
  if (finalState !== undefined) text += `,"finalState":${finalState}`;
  const data = JSON.stringify(result.data);
  if (data !== undefined) text += `,"data":${data}`;
  const path = JSON.stringify(result.path);
  if (path !== undefined) text += `,"path":${path}`;
  if (result.error) {
    const error = JSON.stringify(result.error);
    if (error !== undefined) text += `,"error":${error}`;
  }
  return `${text}}`;
}

function resultRecord(result: ExecutionResult): Record<string, unknown> {
  const line: Record<string, unknown> = {
    success: result.success,
    finalState: result.finalState,
    data: result.data,
    path: result.path,
  };
  if (result.error) line.error = result.error;
  return line;
}

function notSerializable(result: ExecutionResult, error: Error): ExecutionResult {
  const what = result.success ? 'its result' : `its failed result (${result.error?.code ?? 'no code'})`;
  return {
    ...result,
    success: false,
    data: null,
    error: {
      code: RESULT_NOT_SERIALIZABLE,
      message: `the record ran, but ${what} cannot be written as JSON: ${error.message}`,
      cause: { name: error.name, message: error.message },
    },
  };
}

/**
 * Result lines to stdout, or to a file through @fsm/io's atomic writer (temp file renamed on finish:
 * all or nothing). A `.jsonl.gz` output is gzipped; `.csv`/`.json` outputs hold the same fields.
 */
/** Encoded lines are kept until about this many characters, then written with one call. */
const FLUSH_CHARS = 64 * 1024;

export class ResultWriter {
  private readonly sink: FileSink | undefined;
  /** JSONL/JSON lines not yet handed to the file (the file is a temp file until `finish`: nobody reads it). */
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(target: string) {
    if (target !== '-') removeStaleTemps(target);
    this.sink =
      target === '-'
        ? undefined
        : openWriter(target, /\.(csv|json)(\.gz)?$/i.test(target) ? {} : { format: 'jsonl' });
  }

  /**
   * Writes one result line and returns the result it wrote: the given one, or a failed one
   * (`RESULT_NOT_SERIALIZABLE`) when the given one cannot be written as JSON. Count that one. JSON lines
   * for a file are gathered and written ~64 KB at a time; a promise is returned only when that write
   * must be waited for (the file is behind), so the common case costs no promise.
   */
  write(result: ExecutionResult): ExecutionResult | Promise<ExecutionResult> {
    const line = encodeResult(result);
    const sink = this.sink;
    if (sink && sink.format !== 'csv') {
      this.pending.push(line.text);
      this.pendingChars += line.text.length;
      if (this.pendingChars < FLUSH_CHARS) return line.result;
      return this.flush().then(() => line.result);
    }
    return this.writeNow(line);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.sink?.close();
  }

  /** Leaves no partial output file behind. */
  async abort(): Promise<void> {
    this.pending = [];
    this.pendingChars = 0;
    await this.sink?.abort();
  }

  private async writeNow(line: { text: string; result: ExecutionResult }): Promise<ExecutionResult> {
    if (this.sink) await this.sink.write([resultRecord(line.result)]);
    else if (!process.stdout.write(`${line.text}\n`)) await once(process.stdout, 'drain');
    return line.result;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || !this.sink) return;
    const texts = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    await this.sink.writeJson(texts);
  }
}

/**
 * A run killed with SIGKILL leaves its `<output>.tmp-<hex>` behind (the atomic writer never got to
 * rename or remove it); the next run of the same output removes it.
 */
function removeStaleTemps(target: string): void {
  const folder = dirname(target);
  const prefix = `${basename(target)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    // No folder yet: nothing stale (the writer reports a missing folder itself).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && /^[0-9a-f]{8}$/.test(name.slice(prefix.length)))
      rmSync(join(folder, name), { force: true });
  }
}
