import { delay, ResourceError, retryAfterMs } from '@fsm/core';

export interface HttpClientOptions {
  baseUrl: string;
  headers?: Record<string, string>;
  /** Per-request timeout (default 30 000 ms). */
  timeoutMs?: number;
  /** Retries of 429/5xx and network errors (default 3), with exponential backoff from `retryDelayMs`. */
  retries?: number;
  retryDelayMs?: number;
  /** Longest wait honoured from a Retry-After header (default 60 000 ms). */
  maxRetryAfterMs?: number;
  resource?: string;
}

export interface HttpRequest {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string. */
  body?: unknown;
  signal?: AbortSignal;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says so, else text. */
  body: T;
  attempts: number;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * fetch with a base URL, default headers, a timeout that really aborts the request, and retries with
 * backoff on 408/429/5xx and network errors, honouring Retry-After. Other 4xx fail at once.
 */
export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
    const retries = this.options.retries ?? 3;
    const base = this.options.retryDelayMs ?? 200;
    const url = new URL(
      request.path.replace(/^\//, ''),
      this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`,
    );
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.options.headers, ...request.headers };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
      if (typeof request.body !== 'string') headers['content-type'] ??= 'application/json';
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let wait = base * 2 ** (attempt - 1);
      try {
        const response = await fetch(url, {
          method: request.method ?? 'GET',
          headers,
          ...(body !== undefined ? { body } : {}),
          signal,
        });
        if (response.ok) {
          const type = response.headers.get('content-type') ?? '';
          const parsed = type.includes('json') ? await response.json() : await response.text();
          return { status: response.status, headers: response.headers, body: parsed as T, attempts: attempt };
        }
        const text = await response.text();
        lastError = new ResourceError(
          'RESOURCE_UNAVAILABLE',
          this.resourceName,
          `${request.method ?? 'GET'} ${url.pathname} → ${response.status}: ${text.slice(0, 200)}`,
        );
        (lastError as { status?: number }).status = response.status;
        if (!RETRYABLE.has(response.status)) throw lastError;
        const after = retryAfterMs(response.headers);
        if (after !== undefined) wait = Math.min(after, this.options.maxRetryAfterMs ?? 60_000);
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (error === lastError) throw error;
        lastError = error;
      }
      if (attempt <= retries) await delay(wait, request.signal);
    }
    throw lastError instanceof ResourceError
      ? lastError
      : new ResourceError(
          'RESOURCE_UNAVAILABLE',
          this.resourceName,
          `${request.method ?? 'GET'} ${url.pathname} failed after ${retries + 1} attempts: ${(lastError as Error)?.message}`,
          { cause: lastError },
        );
  }

  get<T = unknown>(
    path: string,
    options: Omit<HttpRequest, 'path' | 'method'> = {},
  ): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, path, method: 'GET' });
  }

  post<T = unknown>(
    path: string,
    body: unknown,
    options: Omit<HttpRequest, 'path' | 'method' | 'body'> = {},
  ): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, path, method: 'POST', body });
  }

  private get resourceName(): string {
    return this.options.resource ?? 'http';
  }
}
