import { delay, IoError, retryAfterMs } from '@fsm/core';

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export interface RetryOptions {
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * fetch that retries network errors and 408/429/5xx with exponential backoff (honouring Retry-After),
 * fails at once on other statuses, and stops on the caller's signal. `body` is a factory so a retry
 * can send it again.
 */
export async function fetchWithRetry(
  url: string | URL,
  init: Omit<RequestInit, 'body' | 'signal'> & { body?: () => RequestInit['body'] },
  options: RetryOptions = {},
): Promise<Response> {
  const retries = options.retries ?? 3;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let wait = (options.retryDelayMs ?? 100) * 2 ** attempt;
    try {
      const body = init.body?.();
      const response = await fetch(url, {
        ...init,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        signal,
      } as RequestInit);
      if (response.ok) return response;
      const text = await response.text();
      lastError = new IoError(
        `${init.method ?? 'GET'} ${String(url)} → ${response.status}: ${text.slice(0, 200)}`,
        { source: String(url) },
      );
      if (!RETRYABLE.has(response.status)) throw lastError;
      const after = retryAfterMs(response.headers);
      if (after !== undefined) wait = after;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error === lastError) throw error;
      lastError = error;
    }
    if (attempt < retries) await delay(wait, options.signal);
  }
  throw lastError instanceof IoError
    ? lastError
    : new IoError(
        `${init.method ?? 'GET'} ${String(url)} failed after ${retries + 1} attempts: ${(lastError as Error)?.message}`,
        { source: String(url), cause: lastError },
      );
}
