/** Where a source is, for resume: a byte offset, a line number, a cursor. JSON-serializable. */
export interface StreamPosition {
  /** Records read (or committed) so far. */
  records: number;
  byteOffset?: number;
  line?: number;
  cursor?: string;
  [key: string]: unknown;
}

export interface StreamSource<T = unknown> extends AsyncIterable<T> {
  readonly specificationVersion: 'v1';
  /** Position after the last record yielded. */
  position?(): StreamPosition;
  close(): Promise<void>;
}

export interface StreamSink<T = unknown> {
  readonly specificationVersion: 'v1';
  /** Resolves when the batch is durable; a slow sink slows the reader. */
  write(batch: T[], signal?: AbortSignal): Promise<void>;
  /** Records what has been durably written, for resume. */
  commit?(position: StreamPosition): Promise<void>;
  /** Flushes, then releases; errors are reported, not dropped. */
  close(): Promise<void>;
}

/** Stores stream positions so a stream can restart from the last committed record. */
export interface OffsetStore {
  readonly specificationVersion: 'v1';
  load(streamId: string): Promise<StreamPosition | undefined>;
  save(streamId: string, position: StreamPosition): Promise<void>;
  close(): Promise<void>;
}
