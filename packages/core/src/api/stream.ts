import { MisuseError } from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import { RefTimeout } from './batch.js';
import type { ExecutionResult } from './types.js';

export interface StreamOptions {
  /** Records read per chunk from the source (default 100); counted in `stats.chunks`. */
  chunkSize?: number;
  /** Records processed at once (default 4). */
  concurrency?: number;
  /** Yield in input order (default true) or in completion order. */
  ordered?: boolean;
  /** Records read but not yet taken by the consumer, at most (default 2 × chunkSize). */
  highWaterMark?: number;
  signal?: AbortSignal;
  /** Timeout of the whole stream. */
  timeoutMs?: number;
  /** Timeout of each record (overrides the config's timeout_seconds). */
  recordTimeoutMs?: number;
}

export interface StreamStats {
  chunks: number;
  records: number;
  succeeded: number;
  errors: number;
  /** The largest number of records read but not yet yielded (never above highWaterMark). */
  maxReadAhead: number;
}

/** What `processStream` returns: the results as an async iterable, plus live stats. */
export interface ResultStream extends AsyncIterable<ExecutionResult> {
  readonly stats: StreamStats;
}

type ItemRunner = (record: unknown, signal: AbortSignal | undefined) => Promise<ExecutionResult>;

interface Slot {
  promise: Promise<ExecutionResult>;
  result: ExecutionResult | undefined;
}

/**
 * Pull-based stream runner: records are read only while the consumer is asking for results, so a
 * slow consumer slows the reader, and reading never runs more than `highWaterMark` records ahead.
 */
export function runStream(
  runItem: ItemRunner,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  options: StreamOptions = {},
): ResultStream {
  const chunkSize = options.chunkSize ?? 100;
  const concurrency = options.concurrency ?? 4;
  const highWaterMark = options.highWaterMark ?? chunkSize * 2;
  const ordered = options.ordered ?? true;
  for (const [name, value] of Object.entries({ chunkSize, concurrency, highWaterMark })) {
    if (!Number.isInteger(value) || value < 1)
      throw new MisuseError(`processStream: ${name} must be a positive integer, got ${value}`);
  }
  const stats: StreamStats = { chunks: 0, records: 0, succeeded: 0, errors: 0, maxReadAhead: 0 };

  async function* generate(): AsyncGenerator<ExecutionResult> {
    // A plain signal that follows the caller's and the timeout's, not AbortSignal.any: every record checks
    // `aborted` several times, and a composite signal refreshes its sources on each read.
    const controller = new AbortController();
    const signal = controller.signal;
    const timer = options.timeoutMs === undefined ? undefined : new RefTimeout(options.timeoutMs);
    const unfollow: Array<() => void> = [];
    for (const source of [options.signal, timer?.signal]) {
      if (!source) continue;
      if (source.aborted) {
        controller.abort(source.reason);
        continue;
      }
      const follow = () => controller.abort(source.reason);
      source.addEventListener('abort', follow, { once: true });
      unfollow.push(() => source.removeEventListener('abort', follow));
    }
    const iterator: AsyncIterator<unknown> | Iterator<unknown> =
      Symbol.asyncIterator in Object(source)
        ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (source as Iterable<unknown>)[Symbol.iterator]();
    const window: Slot[] = [];
    let running = 0;
    let sourceDone = false;
    let inChunk = 0;
    let wake: (() => void) | undefined;
    const start = (record: unknown) => {
      running++;
      const slot: Slot = { promise: undefined as unknown as Promise<ExecutionResult>, result: undefined };
      slot.promise = runItem(record, signal).then((result) => {
        running--;
        slot.result = result;
        if (result.success) stats.succeeded++;
        else stats.errors++;
        wake?.();
        return result;
      });
      window.push(slot);
    };
    try {
      for (;;) {
        // Top up: read while the window has room and workers are free.
        while (!sourceDone && window.length < highWaterMark && running < concurrency && !signal.aborted) {
          const next = await iterator.next();
          if (next.done) {
            sourceDone = true;
            if (inChunk > 0) stats.chunks++;
            break;
          }
          stats.records++;
          if (++inChunk === chunkSize) {
            stats.chunks++;
            inChunk = 0;
          }
          start(next.value);
          if (window.length > stats.maxReadAhead) stats.maxReadAhead = window.length;
        }
        if (signal.aborted) throw stopError(signal);
        if (window.length === 0) return;
        let index = 0;
        if (ordered) await (window[0] as Slot).promise;
        else {
          index = window.findIndex((slot) => slot.result !== undefined);
          if (index === -1) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            index = window.findIndex((slot) => slot.result !== undefined);
          }
        }
        // In order the head goes: shift() trims the array in place, splice() would allocate an array per result.
        const slot = index === 0 ? window.shift() : window.splice(index, 1)[0];
        yield (slot as Slot).result as ExecutionResult;
      }
    } finally {
      timer?.clear();
      for (const stop of unfollow) stop();
      controller.abort(new Error('stream closed'));
      const failures = await closeAll(window, sourceDone ? undefined : iterator, source);
      // Cleanup failures must reach the consumer even when it stopped early (break → return()).
      // biome-ignore lint/correctness/noUnsafeFinally: reporting close errors is the point of this finally
      if (failures.length > 0) throw new AggregateError(failures, 'processStream: closing the stream failed');
    }
  }

  return {
    stats,
    [Symbol.asyncIterator]: () => generate(),
  };
}

/** Waits for in-flight records, then closes the source; returns every failure instead of dropping it. */
async function closeAll(
  window: readonly Slot[],
  iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined,
  source: unknown,
): Promise<unknown[]> {
  const settled = await Promise.allSettled(window.map((slot) => slot.promise));
  const failures: unknown[] = settled
    .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    .map((s) => s.reason);
  const steps: Array<() => unknown> = [];
  if (iterator && typeof iterator.return === 'function') steps.push(() => iterator.return?.());
  const closable = source as { close?: () => Promise<void> };
  if (typeof closable.close === 'function') steps.push(() => closable.close?.());
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  return failures;
}

function stopError(signal: AbortSignal): FsmError {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError')
    return new FsmError('TIMEOUT', 'processStream timed out');
  return new FsmError(
    'ABORTED',
    `processStream aborted${reason instanceof Error ? `: ${reason.message}` : ''}`,
  );
}
