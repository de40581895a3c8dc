import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ExecutionResult } from '@fsm/core';

/** The line `run` writes per record (SPEC §5). */
export function resultLine(result: ExecutionResult): string {
  const line: Record<string, unknown> = {
    success: result.success,
    finalState: result.finalState,
    data: result.data,
    path: result.path,
  };
  if (result.error) line.error = result.error;
  return `${JSON.stringify(line)}\n`;
}

/** JSON lines to stdout or a file; a file is written to a temp name and renamed on finish (all or nothing). */
export class ResultWriter {
  private readonly stream: Writable;
  private readonly temp: string | undefined;

  constructor(private readonly target: string) {
    if (target === '-') {
      this.stream = process.stdout;
      this.temp = undefined;
    } else {
      this.temp = `${target}.tmp-${process.pid}`;
      this.stream = createWriteStream(this.temp);
    }
  }

  async write(result: ExecutionResult): Promise<void> {
    if (!this.stream.write(resultLine(result))) await once(this.stream, 'drain');
  }

  async finish(): Promise<void> {
    if (!this.temp) return;
    this.stream.end();
    await once(this.stream, 'finish');
    renameSync(this.temp, this.target);
  }

  /** Leaves no partial output file behind. */
  abort(): void {
    if (!this.temp) return;
    this.stream.destroy();
    rmSync(this.temp, { force: true });
  }
}
