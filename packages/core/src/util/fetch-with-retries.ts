import { delay } from './delay.js';
import { retryAfterMs } from './retry-after.js';

/** Statuses worth another try by default: timeouts, throttling and transient server errors. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export interface FetchRetryOptions {
  /** Attempts after the first. */
  retries: number;
  /** First backoff step (doubles per attempt) when the server gives no Retry-After. */
  baseDelayMs: number;
  /** Cap of a backoff step (default: none). */
  maxDelayMs?: number;
  /** Spread backoff steps over 75–100% so clients throttled together do not return together. */
  jitter?: boolean;
  /** Longest Retry-After honoured; a longer one falls back to the backoff step (default 60 s). */
  maxRetryAfterMs?: number;
  /** Each attempt is aborted after this long, and retried (default: no per-attempt timeout). */
  attemptTimeoutMs?: number;
  retryStatuses?: ReadonlySet<number>;
  /** The caller's signal: aborts the attempt in flight and the waits, and is never retried. */
  signal?: AbortSignal;
}

export interface RetriedResponse {
  /** The last response: a success, a status not worth retrying, or the last retryable failure. */
  response: Response;
  attempts: number;
}

/**
 * fetch with retries of connection failures and retryable statuses, exponential backoff, and
 * Retry-After honoured. `init.body` must be replayable (a string or bytes), since a retry sends it
 * again. Throws the caller's abort reason, or the last connection error once the retries are spent.
 */
export async function fetchWithRetries(
  input: string | URL | Request,
  init: RequestInit,
  options: FetchRetryOptions,
): Promise<RetriedResponse> {
  const statuses = options.retryStatuses ?? RETRYABLE_STATUSES;
  const backoff = (attempt: number) => {
    const step = Math.min(options.baseDelayMs * 2 ** attempt, options.maxDelayMs ?? Number.POSITIVE_INFINITY);
    return options.jitter ? step * (0.75 + Math.random() * 0.25) : step;
  };
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    const last = attempt >= options.retries;
    const timeout =
      options.attemptTimeoutMs === undefined ? undefined : AbortSignal.timeout(options.attemptTimeoutMs);
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(input, {
        ...init,
        ...(signals.length > 0
          ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) }
          : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (last) throw error;
      await delay(backoff(attempt), options.signal);
      continue;
    }
    if (last || !statuses.has(response.status)) return { response, attempts: attempt + 1 };
    const asked = retryAfterMs(response.headers);
    // The body of a response we drop is released, so its socket goes back to the pool.
    await response.body?.cancel();
    await delay(
      asked !== undefined && asked <= (options.maxRetryAfterMs ?? 60_000) ? asked : backoff(attempt),
      options.signal,
    );
  }
}
