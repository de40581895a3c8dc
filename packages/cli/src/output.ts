import { once } from 'node:events';
import type { ExecutionResult } from '@fsm/core';
import { type FileSink, openWriter } from '@fsm/io';

/** The line `run` writes per record (SPEC §5). */
export function resultLine(result: ExecutionResult): string {
  return `${JSON.stringify(resultRecord(result))}\n`;
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

/**
 * Result lines to stdout, or to a file through @fsm/io's atomic writer (temp file renamed on finish:
 * all or nothing). A `.jsonl.gz` output is gzipped; `.csv`/`.json` outputs hold the same fields.
 */
export class ResultWriter {
  private readonly sink: FileSink | undefined;

  constructor(target: string) {
    this.sink =
      target === '-'
        ? undefined
        : openWriter(target, /\.(csv|json)(\.gz)?$/i.test(target) ? {} : { format: 'jsonl' });
  }

  async write(result: ExecutionResult): Promise<void> {
    if (this.sink) {
      await this.sink.write([resultRecord(result)]);
      return;
    }
    if (!process.stdout.write(resultLine(result))) await once(process.stdout, 'drain');
  }

  async finish(): Promise<void> {
    await this.sink?.close();
  }

  /** Leaves no partial output file behind. */
  async abort(): Promise<void> {
    await this.sink?.abort();
  }
}
