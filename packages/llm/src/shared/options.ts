/** Options every provider takes. */
export interface ProviderOptions {
  model: string;
  /** Defaults to the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, HF_TOKEN). */
  apiKey?: string;
  baseURL?: string;
  /** Per request (default 60 000 ms). */
  timeoutMs?: number;
  /** Retries of 408/409/429/5xx and connection errors, with backoff honouring Retry-After (default 2). */
  maxRetries?: number;
  /** Requests in flight at once (default 8). */
  maxConcurrency?: number;
  /** Model for `embed` when it differs from `model`. */
  embeddingModel?: string;
}
