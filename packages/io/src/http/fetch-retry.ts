import { fetchWithRetries, IoError } from '@fsm/core';

export interface RetryOptions {
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * core's `fetchWithRetries` with a per-attempt timeout, and failures as `IoError`s naming the request:
 * statuses not worth retrying fail at once, retryable ones after `retries` more attempts. `body` is a
 * factory kept for callers; it must return a replayable body (a string or bytes).
 */
export async function fetchWithRetry(
  url: string | URL,
  init: Omit<RequestInit, 'body' | 'signal'> & { body?: () => RequestInit['body'] },
  options: RetryOptions = {},
): Promise<Response> {
  const retries = options.retries ?? 3;
  const { body: makeBody, ...rest } = init;
  const body = makeBody?.();
  const where = `${init.method ?? 'GET'} ${String(url)}`;
  let response: Response;
  try {
    ({ response } = await fetchWithRetries(
      url,
      { ...rest, ...(body !== undefined ? { body, duplex: 'half' } : {}) } as RequestInit,
      {
        retries,
        baseDelayMs: options.retryDelayMs ?? 100,
        attemptTimeoutMs: options.timeoutMs ?? 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    ));
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new IoError(`${where} failed after ${retries + 1} attempts: ${(error as Error)?.message}`, {
      source: String(url),
      cause: error,
    });
  }
  if (response.ok) return response;
  const text = await response.text();
  throw new IoError(`${where} → ${response.status}: ${text.slice(0, 200)}`, { source: String(url) });
}
