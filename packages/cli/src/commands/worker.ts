import { resolve } from 'node:path';
import type { ExecutionResult } from '@fsm/core';
import { createQueueRunner, type QueueRunner } from '@fsm/bullmq';
import { ResourceManager } from '@fsm/resources';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../exit-codes.js';
import { inputFormat, RunInput } from '../input.js';
import { cliPackages, loadFunctionsModule, openStorage } from '../load-fsm.js';
import { ResultWriter } from '../output.js';
import { parseDuration, parsePositiveInt } from '../parse-duration.js';
import { formatSummary, newSummary, tally } from '../progress.js';
import { FsmMetrics, serveMetrics } from '../metrics.js';
import { startTelemetry } from '../telemetry.js';
import { tuneHeapForLongRun } from '../heap-tuning.js';

export interface QueueOptions {
  redis: string;
  queue?: string;
  storage?: string;
  allowCode?: boolean;
  functions?: string;
  allowRead?: string[];
  timeout?: string;
  /** `--otel` / `--otel-endpoint`: spans over OTLP/HTTP (worker only). */
  otel?: boolean;
  otelEndpoint?: string;
}

/** The same FSM options a local `fsm run` uses, so a config behaves the same on workers. */
async function runnerFor(
  configPath: string,
  options: QueueOptions,
  resources?: ResourceManager,
): Promise<{ runner: QueueRunner; close: () => Promise<void> }> {
  const functions = await loadFunctionsModule(options.functions, options.allowCode ?? false);
  const storage = await openStorage(options.storage);
  const queue =
    options.queue ??
    `fsm-${resolve(configPath)
      .replace(/[^A-Za-z0-9]+/g, '-')
      .slice(-60)}`;
  const runner = createQueueRunner({
    connection: options.redis,
    queue,
    config: resolve(configPath),
    functions,
    fsmOptions: {
      allowCode: options.allowCode ?? false,
      ...cliPackages,
      ...(resources ? { resourceManager: resources } : {}),
      ...(options.allowRead?.length ? { allowedRoots: options.allowRead.map((dir) => resolve(dir)) } : {}),
    },
    ...(storage ? { storage } : {}),
    ...(options.timeout ? { timeoutMs: parseDuration(options.timeout) } : {}),
  });
  return {
    runner,
    close: async () => {
      await runner.close();
      await storage?.close();
    },
  };
}

/** `fsm worker`: runs records of the queue until SIGINT/SIGTERM, then finishes what it holds and exits. */
export async function workerCommand(
  configPath: string,
  options: QueueOptions & { concurrency: string; metricsPort?: string },
): Promise<number> {
  // Pooled resources, so their pools show in the metrics.
  const resources = new ResourceManager();
  const metrics = options.metricsPort === undefined ? undefined : new FsmMetrics(resources);
  const port = options.metricsPort === undefined ? undefined : parsePort(options.metricsPort);
  // Before the FSM exists: core traces every execution once a provider is registered.
  const stopTelemetry = startTelemetry(options, metrics ? [metrics] : []);
  const served = metrics && port !== undefined ? await serveMetrics(metrics.registry, port) : undefined;
  // A worker runs for days: the heap is held as in `fsm run`.
  const untuneHeap = tuneHeapForLongRun();
  try {
    const { runner, close } = await runnerFor(configPath, options, resources);
    const worker = runner.worker({ concurrency: parsePositiveInt(options.concurrency, '--concurrency') });
    process.stderr.write(`fsm worker: ${configPath} on queue ${runner.queueName}\n`);
    if (served) process.stderr.write(`fsm worker: Prometheus metrics on ${served.url}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await worker.close();
    await close();
    process.stderr.write(`fsm worker: stopped after ${worker.processed} records\n`);
  } finally {
    untuneHeap();
    await served?.close();
    await stopTelemetry?.();
  }
  return EXIT_OK;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--metrics-port must be a port number (0-65535), not "${value}"`);
  }
  return port;
}

/** `fsm run --queue`: submits the input as one batch and writes the results (input order) as workers finish them. */
export async function runOnQueue(
  configPath: string,
  options: QueueOptions & {
    input: string;
    inputFormat?: string;
    replaceInvalidUtf8?: boolean;
    output: string;
    json?: boolean;
  },
): Promise<number> {
  if (!options.redis) throw new UsageError('--queue needs --redis <url>');
  const { runner, close } = await runnerFor(configPath, options);
  const started = performance.now();
  const summary = newSummary();
  const writer = new ResultWriter(options.output);
  try {
    const records: unknown[] = [];
    const format = inputFormat(options.input, options.inputFormat);
    // A record too deep or too large to run fails alone, in its place among the results.
    const input = new RunInput(options.input, format, {
      replaceInvalidUtf8: options.replaceInvalidUtf8 === true,
    });
    for await (const record of input.records()) records.push(record);
    const { batchId } = await runner.submit(records);
    summary.batchId = batchId;
    // Results arrive in completion order; they are written in input order.
    const results = new Array<ExecutionResult | undefined>(records.length);
    for await (const result of runner.results(batchId)) results[result.itemIndex as number] = result;
    const finished = results.filter((result): result is ExecutionResult => result !== undefined);
    for await (const result of input.withInputFailures(finished)) tally(summary, await writer.write(result));
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await close();
  }
  summary.durationMs = performance.now() - started;
  process.stderr.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary.failed > 0 ? EXIT_FAILED : EXIT_OK;
}
