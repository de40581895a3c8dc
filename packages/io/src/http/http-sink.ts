import { IoError, type StreamSink } from '@fsm/core';
import { fetchWithRetry, type RetryOptions } from './fetch-retry.js';

export interface HttpSinkOptions extends RetryOptions {
  url: string;
  method?: 'POST' | 'PUT';
  headers?: Record<string, string>;
  /** Wraps a batch in the request body (default: the batch as a JSON array). */
  body?: (batch: Record<string, unknown>[]) => unknown;
}

/** Sends each batch as one JSON request, retried on 408/429/5xx; resolves when the server accepted it. */
export class HttpSink implements StreamSink<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  sent = 0;
  private closed = false;

  constructor(private readonly options: HttpSinkOptions) {}

  async write(batch: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.closed)
      throw new IoError(`${this.options.url}: write after close`, { source: this.options.url });
    if (batch.length === 0) return;
    const payload = JSON.stringify(this.options.body ? this.options.body(batch) : batch);
    await fetchWithRetry(
      this.options.url,
      {
        method: this.options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body: () => payload,
      },
      { ...this.options, ...(signal ? { signal } : {}) },
    );
    this.sent += batch.length;
  }

  async close(): Promise<void> {
    // Every batch was acknowledged by the server when its write resolved: nothing to flush.
    this.closed = true;
  }
}
