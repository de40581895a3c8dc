import type { StreamSink, StreamSource } from './stream.js';

/** Where a bad record goes: fail the stream, or skip it (reported to `onError`). */
export type BadRecordPolicy = 'fail' | 'skip';

export interface BadRecord {
  /** 1-based line or record number in the input. */
  line: number;
  raw: string;
  message: string;
}

export interface ReaderOptions {
  signal?: AbortSignal;
  onBadRecord?: BadRecordPolicy;
  /** Called for each skipped bad record (when `onBadRecord: 'skip'`). */
  onError?: (bad: BadRecord) => void | Promise<void>;
}

/** A format adapter (CSV, JSONL, SQL table, …): makes sources and sinks for one kind of location. */
export interface IoAdapter<TReadOptions = unknown, TWriteOptions = unknown, T = Record<string, unknown>> {
  readonly specificationVersion: 'v1';
  readonly format: string;
  reader(location: string, options?: TReadOptions & ReaderOptions): StreamSource<T>;
  writer(location: string, options?: TWriteOptions): StreamSink<T>;
}
