import type { ExecutionResult, OffsetStore, StreamOptions, StreamSink } from '@fsm/core';
import { MisuseError } from '@fsm/core';

/** The part of SimpleFSM a stream job needs (any BaseFsm has it). */
export interface StreamingFsm {
  processStream(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    options?: StreamOptions,
  ): AsyncIterable<ExecutionResult>;
}

export interface StreamJobOptions<T> {
  /** Results written to the sink per `write` (default 500). */
  chunkSize?: number;
  concurrency?: number;
  /**
   * Results in input order (default true). `false` writes in completion order: faster with uneven
   * records, but then no offset store is allowed (a count of written records is no longer a position).
   */
  ordered?: boolean;
  /** Records read ahead of the slowest sink (default `chunkSize * 2`): bounds memory. */
  highWaterMark?: number;
  /** Per-record timeout. */
  recordTimeoutMs?: number;
  signal?: AbortSignal;
  /** Where committed positions are kept; with `streamId`, a restarted job skips what was written. */
  offsetStore?: OffsetStore;
  streamId?: string;
  /** What goes to the sink for a result (default: `{ success, finalState, data, error? }`). */
  map?: (result: ExecutionResult) => T;
  /** Failed results go here instead of `sink` (a dead-letter sink), when given. */
  errorSink?: StreamSink<T>;
  onProgress?: (stats: StreamJobStats) => void;
  /**
   * Heap ceiling in MB: when the heap is over it after a chunk, reading pauses (a GC is requested when
   * available and the job waits, up to `memoryWaitMs`) before more records are pulled.
   */
  memoryLimitMb?: number;
  /** The same ceiling in bytes (wins over `memoryLimitMb`). */
  memoryLimitBytes?: number;
  memoryWaitMs?: number;
}

export interface StreamJobStats {
  /** Records read from the source in this run (after any skipped on resume). */
  records: number;
  /** Records skipped because an earlier run had committed them. */
  resumedFrom: number;
  /** Times reading paused because the heap was over `memoryLimitMb`. */
  memoryPauses: number;
  succeeded: number;
  failed: number;
  /** The same count as `failed`, under core's `StreamStats` name. */
  errors: number;
  chunks: number;
  durationMs: number;
  ratePerSec: number;
}

function defaultMap(result: ExecutionResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    success: result.success,
    finalState: result.finalState,
    data: result.data,
  };
  if (result.error) out.error = result.error;
  return out;
}

/** Waits (bounded) for the heap to drop under the limit; reading is paused meanwhile because flush is awaited. */
async function underMemoryLimit(
  limitBytes: number,
  maxWaitMs: number,
  stats: StreamJobStats,
  signal: AbortSignal | undefined,
): Promise<void> {
  const over = () => process.memoryUsage().heapUsed > limitBytes;
  if (!over()) return;
  stats.memoryPauses++;
  const deadline = Date.now() + maxWaitMs;
  const gc = (globalThis as { gc?: () => void }).gc;
  while (over() && Date.now() < deadline) {
    signal?.throwIfAborted();
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The source without its first `count` records; `close()` still reaches the source itself. */
function skipFirst(
  source: AsyncIterable<unknown> | Iterable<unknown>,
  count: number,
): AsyncIterable<unknown> & { close(): Promise<void> } {
  return {
    async *[Symbol.asyncIterator]() {
      let index = 0;
      for await (const record of source) if (index++ >= count) yield record;
    },
    async close() {
      await (source as { close?: () => Promise<void> }).close?.();
    },
  };
}

/**
 * Source → FSM → sink in chunks, in input order, with bounded memory: the FSM reads at most
 * `highWaterMark` records ahead, and a slow sink slows the reader (each chunk is written before more is
 * read). After every durable sink write the position is committed to the offset store, so a job
 * restarted with the same `streamId` continues after the last committed record: each record reaches the
 * sink once as long as the sink's writes are durable when they resolve.
 */
export async function runStreamJob<T = Record<string, unknown>>(
  fsm: StreamingFsm,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  sink: StreamSink<T>,
  options: StreamJobOptions<T> = {},
): Promise<StreamJobStats> {
  const chunkSize = options.chunkSize ?? 500;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new MisuseError(`processStream: chunkSize must be a positive integer, got ${chunkSize}`);
  if (options.offsetStore && !options.streamId) throw new MisuseError('an offsetStore needs a streamId');
  const ordered = options.ordered ?? true;
  if (!ordered && options.offsetStore)
    throw new MisuseError('processStream: ordered: false cannot resume from an offset store');
  const memoryLimit =
    options.memoryLimitBytes ??
    (options.memoryLimitMb !== undefined ? options.memoryLimitMb * 1024 * 1024 : undefined);
  const committed =
    options.offsetStore && options.streamId ? await options.offsetStore.load(options.streamId) : undefined;
  const resumedFrom = committed?.records ?? 0;
  const map = options.map ?? (defaultMap as unknown as (r: ExecutionResult) => T);
  const started = performance.now();
  const stats: StreamJobStats = {
    records: 0,
    resumedFrom,
    memoryPauses: 0,
    succeeded: 0,
    failed: 0,
    errors: 0,
    chunks: 0,
    durationMs: 0,
    ratePerSec: 0,
  };
  let chunk: T[] = [];
  let errors: T[] = [];

  const flush = async () => {
    if (chunk.length > 0) await sink.write(chunk, options.signal);
    if (errors.length > 0) await options.errorSink?.write(errors, options.signal);
    stats.chunks++;
    chunk = [];
    errors = [];
    if (options.offsetStore && options.streamId) {
      await options.offsetStore.save(options.streamId, { records: resumedFrom + stats.records });
      await sink.commit?.({ records: resumedFrom + stats.records });
    }
    stats.durationMs = performance.now() - started;
    stats.ratePerSec = stats.durationMs > 0 ? (stats.records * 1000) / stats.durationMs : 0;
    options.onProgress?.({ ...stats });
    if (memoryLimit !== undefined)
      await underMemoryLimit(memoryLimit, options.memoryWaitMs ?? 1000, stats, options.signal);
  };

  const results = fsm.processStream(resumedFrom > 0 ? skipFirst(source, resumedFrom) : source, {
    ordered,
    chunkSize,
    highWaterMark: options.highWaterMark ?? chunkSize * 2,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.recordTimeoutMs !== undefined ? { recordTimeoutMs: options.recordTimeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const result of results) {
    stats.records++;
    if (result.success) stats.succeeded++;
    else {
      stats.failed++;
      stats.errors++;
    }
    if (!result.success && options.errorSink) errors.push(map(result));
    else chunk.push(map(result));
    if (chunk.length + errors.length >= chunkSize) await flush();
  }
  if (chunk.length + errors.length > 0 || stats.chunks === 0) await flush();
  stats.durationMs = performance.now() - started;
  stats.ratePerSec = stats.durationMs > 0 ? (stats.records * 1000) / stats.durationMs : 0;
  return stats;
}

/** `runStreamJob` under the name the docs use: `processStream(fsm, source, sink, options)`. */
export const processStream = runStreamJob;

/**
 * The object form of `runStreamJob` (dataknobs' `BasicStreamProcessor`): configure once, run many
 * sources into sinks with the same options.
 */
export class BasicStreamProcessor<T = Record<string, unknown>> {
  constructor(
    private readonly fsm: StreamingFsm,
    private readonly options: StreamJobOptions<T> = {},
  ) {}

  process(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    sink: StreamSink<T>,
    overrides: StreamJobOptions<T> = {},
  ): Promise<StreamJobStats> {
    return runStreamJob(this.fsm, source, sink, { ...this.options, ...overrides });
  }
}

/** The object form under its short name. */
export { BasicStreamProcessor as StreamProcessor };
