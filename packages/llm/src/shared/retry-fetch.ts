import { delay, retryAfterMs } from '@fsm/core';

/** Statuses worth another try: the same set the OpenAI and Anthropic SDKs retry. */
const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);
const MAX_DELAY_MS = 60_000;

export interface RetryOptions {
  maxRetries: number;
  /** First backoff step when the server gives no Retry-After (doubles per attempt). Default 500 ms. */
  baseDelayMs?: number;
}

function backoff(attempt: number, base: number): number {
  const step = Math.min(base * 2 ** attempt, 8_000);
  // Jitter so many clients throttled together do not come back together.
  return step * (0.75 + Math.random() * 0.25);
}

/**
 * A `fetch` that retries 408/409/429/5xx and connection failures with exponential backoff, waiting what
 * `Retry-After` asks (up to a minute) — for SDKs without retries of their own (@huggingface/inference).
 * The request's signal stops the waiting too.
 */
export function retryingFetch(options: RetryOptions, inner: typeof fetch = fetch): typeof fetch {
  const base = options.baseDelayMs ?? 500;
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= options.maxRetries;
      let response: Response;
      try {
        response = await inner(input, init);
      } catch (error) {
        if (last || init?.signal?.aborted) throw error;
        await delay(backoff(attempt, base), init?.signal ?? undefined);
        continue;
      }
      if (last || !RETRYABLE.has(response.status)) return response;
      const asked = retryAfterMs(response.headers);
      // The body of a response we drop is released, so its socket goes back to the pool.
      await response.body?.cancel();
      await delay(
        asked !== undefined && asked <= MAX_DELAY_MS ? asked : backoff(attempt, base),
        init?.signal ?? undefined,
      );
    }
  };
}
