import cliProgress from 'cli-progress';

export interface ProgressCounts {
  done: number;
  succeeded: number;
  failed: number;
  /** Unknown while the input is still being read. */
  total: number | undefined;
}

/**
 * Progress on stderr: a bar with rate and ETA on a terminal, a plain line about every second otherwise
 * (so logs of CI jobs stay readable).
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly started = Date.now();
  private lastLine = Date.now();
  private barStarted = false;

  constructor(private readonly enabled: boolean) {
    this.bar =
      enabled && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: ' {bar} {value}/{total} records | {rate} rec/s | ETA {eta_formatted} | failed {failed}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
  }

  update(counts: ProgressCounts): void {
    if (!this.enabled) return;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? Math.round(counts.done / elapsed) : 0;
    if (this.bar) {
      if (!this.barStarted) {
        this.bar.start(counts.total ?? counts.done + 1, 0, { rate, failed: 0 });
        this.barStarted = true;
      }
      if (counts.total === undefined) this.bar.setTotal(Math.max(counts.done + 1, this.bar.getTotal()));
      this.bar.update(counts.done, { rate, failed: counts.failed });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine < 1000) return;
    this.lastLine = now;
    const of = counts.total === undefined ? '' : `/${counts.total}`;
    process.stderr.write(`fsm: ${counts.done}${of} records, ${counts.failed} failed, ${rate} rec/s\n`);
  }

  stop(): void {
    if (this.bar && this.barStarted) this.bar.stop();
  }
}

export interface RunSummary {
  succeeded: number;
  failed: number;
  byFinalState: Record<string, number>;
  durationMs: number;
  batchId?: string;
}

export function newSummary(): RunSummary {
  return { succeeded: 0, failed: 0, byFinalState: {}, durationMs: 0 };
}

/** Counts one record's result in the summary (by outcome and final state). */
export function tally(summary: RunSummary, result: { success: boolean; finalState: string }): void {
  if (result.success) summary.succeeded++;
  else summary.failed++;
  const key = result.success ? result.finalState : `${result.finalState || '?'} (failed)`;
  summary.byFinalState[key] = (summary.byFinalState[key] ?? 0) + 1;
}

export function formatSummary(summary: RunSummary): string {
  const total = summary.succeeded + summary.failed;
  const seconds = summary.durationMs / 1000;
  const states = Object.entries(summary.byFinalState)
    .sort((a, b) => b[1] - a[1])
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  const lines = [
    `fsm run: ${summary.succeeded} succeeded, ${summary.failed} failed of ${total} in ${seconds.toFixed(2)}s (${total > 0 && seconds > 0 ? Math.round(total / seconds) : total} rec/s)`,
    `  by final state: ${states || '(none)'}`,
  ];
  if (summary.batchId)
    lines.push(`  batch id: ${summary.batchId} (after a crash: fsm run ... --resume ${summary.batchId})`);
  return `${lines.join('\n')}\n`;
}
