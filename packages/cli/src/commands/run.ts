import { randomUUID } from 'node:crypto';
import type { ExecutionResult, SimpleFSM } from '@fsm/core';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../exit-codes.js';
import { inputFormat, RunInput } from '../input.js';
import { createFsm, openStorage } from '../load-fsm.js';
import { ResultWriter } from '../output.js';
import { formatSummary, newSummary, Progress, tally } from '../progress.js';
import { parseDuration, parsePositiveInt } from '../parse-duration.js';
import { tuneHeapForLongRun } from '../heap-tuning.js';

export interface RunOptions {
  input: string;
  inputFormat?: string;
  replaceInvalidUtf8?: boolean;
  output: string;
  storage?: string;
  /** Default: 64, or 128 with a PostgreSQL store (see `defaultConcurrency`). */
  concurrency?: string;
  allowCode?: boolean;
  functions?: string;
  allowRead?: string[];
  timeout?: string;
  resume?: string;
  batchId?: string;
  json?: boolean;
  progress: boolean;
  /** `--otel` / `--otel-endpoint`: a span per execution, state and push over OTLP/HTTP. */
  otel?: boolean;
  otelEndpoint?: string;
}

/**
 * Records in flight when `--concurrency` is not given. With a PostgreSQL store every record waits for a
 * server round trip at its end, so twice as many keep the process busy meanwhile (bench W9: ~15 % faster;
 * SQLite and no store gained nothing from more).
 */
export function defaultConcurrency(storage: string | undefined): number {
  return storage !== undefined && /^postgres(ql)?:/i.test(storage) ? 128 : 64;
}

/**
 * `fsm run`: one JSON line per record in input order, streamed in constant memory. With --storage the
 * run is a durable batch (histories and finished items in the store), so `--resume <batchId>` after a
 * crash runs only what was not finished and rewrites the output whole.
 */
export async function runCommand(configPath: string, options: RunOptions): Promise<number> {
  const concurrency =
    options.concurrency === undefined
      ? defaultConcurrency(options.storage)
      : parsePositiveInt(options.concurrency, '--concurrency');
  const timeoutMs = options.timeout ? parseDuration(options.timeout) : undefined;
  if (options.resume && !options.storage)
    throw new UsageError('--resume needs --storage (where the batch was recorded)');
  const format = inputFormat(options.input, options.inputFormat);
  // Before the FSM exists: core traces every execution once a provider is registered.
  // Loaded only when asked for: a plain run does not pay for the OpenTelemetry SDK at startup.
  const stopTelemetry =
    options.otel || options.otelEndpoint
      ? (await import('../telemetry.js')).startTelemetry(options)
      : undefined;
  const storage = await openStorage(options.storage);
  const fsm = await createFsm(configPath, {
    ...(options.allowCode !== undefined ? { allowCode: options.allowCode } : {}),
    ...(options.functions !== undefined ? { functions: options.functions } : {}),
    ...(options.allowRead !== undefined ? { allowRead: options.allowRead } : {}),
    ...(storage ? { storage, checkpoint: 'every-step' as const } : {}),
  });
  const writer = new ResultWriter(options.output);
  // Constant memory and steady speed: V8 left alone grows its young generation to ~130 MB, its old one to
  // several times the live heap, and pretenures short-lived records at random (see heap-tuning.ts).
  const untuneHeap = tuneHeapForLongRun();
  const progress = new Progress(options.progress);
  const summary = newSummary();
  const started = performance.now();
  const count = (result: ExecutionResult) => tally(summary, result);
  try {
    // A record too deep to run fails alone: RunInput puts its failed result in its place.
    const input = new RunInput(options.input, format, {
      replaceInvalidUtf8: options.replaceInvalidUtf8 === true,
    });
    if (storage) {
      summary.batchId = options.resume ?? options.batchId ?? `run-${randomUUID().slice(0, 8)}`;
      await runDurable(fsm, input, summary.batchId, concurrency, timeoutMs, writer, progress, count);
    } else {
      const stream = fsm.processStream(input.records(), {
        concurrency,
        ordered: true,
        highWaterMark: concurrency * 32,
        ...(timeoutMs !== undefined ? { recordTimeoutMs: timeoutMs } : {}),
      });
      for await (const result of input.withInputFailures(stream)) {
        // Counted as written: a result that cannot be written as JSON is written as a failure.
        const written = writer.write(result);
        count(written instanceof Promise ? await written : written);
        progress.update({
          done: summary.succeeded + summary.failed,
          succeeded: summary.succeeded,
          failed: summary.failed,
          total: undefined,
        });
      }
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    untuneHeap();
    progress.stop();
    await fsm.close();
    await storage?.close();
    await stopTelemetry?.();
  }
  summary.durationMs = performance.now() - started;
  process.stderr.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary.failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/**
 * The durable run streams too: results in input order through a bounded window, each record's history,
 * batch item and checkpoint deletion written (group-committed) as it finishes; nothing is collected.
 */
async function runDurable(
  fsm: SimpleFSM,
  input: RunInput,
  batchId: string,
  concurrency: number,
  timeoutMs: number | undefined,
  writer: ResultWriter,
  progress: Progress,
  count: (r: ExecutionResult) => void,
): Promise<void> {
  const stream = fsm.processDurableStream(input.records(), {
    batchId,
    concurrency,
    ordered: true,
    highWaterMark: concurrency * 32,
    ...(timeoutMs !== undefined ? { recordTimeoutMs: timeoutMs } : {}),
  });
  let done = 0;
  let succeeded = 0;
  for await (const result of input.withInputFailures(stream)) {
    const writing = writer.write(result);
    const written = writing instanceof Promise ? await writing : writing;
    count(written);
    done++;
    if (written.success) succeeded++;
    progress.update({ done, succeeded, failed: done - succeeded, total: undefined });
  }
}
