import { MisuseError } from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import type { BatchInfo } from '../functions/types.js';
import type { ExecutionResult } from './types.js';

export interface BatchProgress {
  done: number;
  succeeded: number;
  failed: number;
  total: number;
  /** Records finished per second since the batch started. */
  ratePerSec: number;
}

export interface BatchOptions {
  /** Records in flight at once (default 8). */
  concurrency?: number;
  onProgress?: (progress: BatchProgress) => void;
  /** Per-batch semantics: the first failure stops the batch; records not yet started are not run. */
  stopOnError?: boolean;
  signal?: AbortSignal;
  /** Timeout of the whole batch. */
  timeoutMs?: number;
  /** Timeout of each record (overrides the config's timeout_seconds). */
  recordTimeoutMs?: number;
  /** Defaults to a generated id; pass one to resume a batch from a checkpoint store. */
  batchId?: string;
  /** Item indexes already done (from a checkpoint), with their stored results: not run again. */
  completed?: ReadonlyMap<number, ExecutionResult>;
  /** Called with each finished item (in completion order), e.g. to checkpoint it. */
  onResult?: (result: ExecutionResult) => void | Promise<void>;
}

export interface BatchResult {
  batchId: string;
  /** One per input record, in input order. Records not run (stopOnError, abort) fail with ABORTED. */
  results: ExecutionResult[];
  succeeded: number;
  failed: number;
  total: number;
  durationMs: number;
  /** With stopOnError: the index of the record whose failure stopped the batch. */
  stoppedAt?: number;
}

export type BatchItemRunner = (
  record: unknown,
  batch: BatchInfo,
  signal: AbortSignal | undefined,
) => Promise<ExecutionResult>;

let batchCounter = 0;

/**
 * A timeout signal whose timer keeps the process alive until it fires or is cleared (unlike
 * `AbortSignal.timeout`, whose unref'd timer lets a process exit with the record's promise unsettled).
 */
export class RefTimeout {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    this.timer = setTimeout(
      () => this.controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
      ms,
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Bounded-concurrency runner shared by SimpleFSM and AdvancedFSM; one bad record never stops the others. */
export async function runBatch(
  runItem: BatchItemRunner,
  input: Iterable<unknown> | AsyncIterable<unknown>,
  options: BatchOptions = {},
): Promise<BatchResult> {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new MisuseError(`processBatch: concurrency must be a positive integer, got ${concurrency}`);
  }
  const records: unknown[] = [];
  if (Symbol.asyncIterator in Object(input))
    for await (const r of input as AsyncIterable<unknown>) records.push(r);
  else for (const r of input as Iterable<unknown>) records.push(r);

  const batchId = options.batchId ?? `batch-${Date.now().toString(36)}-${(++batchCounter).toString(36)}`;
  const started = performance.now();
  const total = records.length;
  const results: ExecutionResult[] = new Array(total);
  const controller = new AbortController();
  const outer: AbortSignal[] = [controller.signal];
  if (options.signal) outer.push(options.signal);
  const timer = options.timeoutMs === undefined ? undefined : new RefTimeout(options.timeoutMs);
  if (timer) outer.push(timer.signal);
  const signal = outer.length === 1 ? controller.signal : AbortSignal.any(outer);

  let next = 0;
  let succeeded = 0;
  let failed = 0;
  let stoppedAt: number | undefined;
  const progress = () => {
    if (!options.onProgress) return;
    const elapsed = (performance.now() - started) / 1000;
    const done = succeeded + failed;
    options.onProgress({ done, succeeded, failed, total, ratePerSec: elapsed > 0 ? done / elapsed : 0 });
  };
  const count = (result: ExecutionResult) => {
    if (result.success) succeeded++;
    else failed++;
  };

  for (const [index, result] of options.completed ?? []) {
    if (index < total) {
      results[index] = result;
      count(result);
    }
  }

  const worker = async () => {
    for (;;) {
      if (signal.aborted || stoppedAt !== undefined) return;
      const index = next++;
      if (index >= total) return;
      if (results[index] !== undefined) continue;
      const result = await runItem(records[index], { batchId, itemIndex: index }, signal);
      results[index] = result;
      count(result);
      if (options.onResult) await options.onResult(result);
      if (!result.success && options.stopOnError && stoppedAt === undefined) {
        stoppedAt = index;
        controller.abort(new Error(`batch stopped: item ${index} failed`));
      }
      progress();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker));
  } finally {
    timer?.clear();
  }

  // Records never started still get a result, so results stay aligned with the input.
  for (let i = 0; i < total; i++) {
    if (results[i] !== undefined) continue;
    const reason =
      stoppedAt !== undefined
        ? `not run: the batch stopped after item ${stoppedAt} failed`
        : `not run: the batch was ${signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError' ? 'timed out' : 'aborted'}`;
    results[i] = {
      success: false,
      finalState: '',
      data: records[i],
      path: [],
      error: new FsmError(
        stoppedAt === undefined && isTimeout(signal) ? 'TIMEOUT' : 'ABORTED',
        reason,
      ).toJSON(),
      executionId: '',
      transitions: 0,
      durationMs: 0,
      batchId,
      itemIndex: i,
    };
    failed++;
  }
  const result: BatchResult = {
    batchId,
    results,
    succeeded,
    failed,
    total,
    durationMs: performance.now() - started,
  };
  if (stoppedAt !== undefined) result.stoppedAt = stoppedAt;
  return result;
}

function isTimeout(signal: AbortSignal): boolean {
  return signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
}
