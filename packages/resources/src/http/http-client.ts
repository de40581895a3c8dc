import { fetchWithRetries, ResourceError, type RetriedResponse } from '@fsm/core';

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
    const where = `${request.method ?? 'GET'} ${url.pathname}`;
    let retried: RetriedResponse;
    try {
      retried = await fetchWithRetries(
        url,
        { method: request.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) },
        {
          retries,
          baseDelayMs: base,
          attemptTimeoutMs: this.options.timeoutMs ?? 30_000,
          maxRetryAfterMs: this.options.maxRetryAfterMs ?? 60_000,
          ...(request.signal ? { signal: request.signal } : {}),
        },
      );
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new ResourceError(
        'RESOURCE_UNAVAILABLE',
        this.resourceName,
        `${where} failed after ${retries + 1} attempts: ${(error as Error)?.message}`,
        {
          cause: error,
        },
      );
    }
    const { response, attempts } = retried;
    if (response.ok) {
      const type = response.headers.get('content-type') ?? '';
      const parsed = type.includes('json') ? await response.json() : await response.text();
      return { status: response.status, headers: response.headers, body: parsed as T, attempts };
    }
    const text = await response.text();
    const failure = new ResourceError(
      'RESOURCE_UNAVAILABLE',
      this.resourceName,
      `${where} → ${response.status}: ${text.slice(0, 200)}`,
    );
    (failure as { status?: number }).status = response.status;
    throw failure;
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
