import type { StreamPosition, StreamSink, StreamSource } from '@fsm/core';

/** Records from an array or any iterable, as a `StreamSource` with a position (for tests and glue). */
export class MemorySource<T = Record<string, unknown>> implements StreamSource<T> {
  readonly specificationVersion = 'v1' as const;
  private read = 0;
  private closed = false;

  constructor(private readonly records: Iterable<T> | AsyncIterable<T>) {}

  position(): StreamPosition {
    return { records: this.read };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const record of this.records) {
      if (this.closed) return;
      this.read++;
      yield record;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Collects what is written (and the last committed position) in memory. */
export class MemorySink<T = Record<string, unknown>> implements StreamSink<T> {
  readonly specificationVersion = 'v1' as const;
  readonly records: T[] = [];
  committed: StreamPosition | undefined;

  async write(batch: T[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.records.push(...batch);
  }

  async commit(position: StreamPosition): Promise<void> {
    this.committed = position;
  }

  async close(): Promise<void> {
    // Nothing buffered: every write is already in `records`.
  }
}
