import { fetchWithRetries, RETRYABLE_STATUSES } from '@fsm/core';

/** The OpenAI and Anthropic SDKs also retry 409 (lock timeouts); so does this. */
const LLM_STATUSES: ReadonlySet<number> = new Set([...RETRYABLE_STATUSES, 409]);

export interface RetryOptions {
  maxRetries: number;
  /** First backoff step when the server gives no Retry-After (doubles per attempt). Default 500 ms. */
  baseDelayMs?: number;
}

/**
 * A `fetch` for SDKs without retries of their own (@huggingface/inference): core's `fetchWithRetries`
 * with the SDKs' policy (409 included, jittered backoff up to 8 s, Retry-After up to a minute). The
 * request's signal stops the waiting too.
 */
export function retryingFetch(options: RetryOptions): typeof fetch {
  return async (input, init) => {
    const { response } = await fetchWithRetries(input, init ?? {}, {
      retries: options.maxRetries,
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: 8_000,
      jitter: true,
      retryStatuses: LLM_STATUSES,
      ...(init?.signal ? { signal: init.signal } : {}),
    });
    return response;
  };
}
