import { ConfigError, type ResourceConfig, type ResourceProvider } from '@fsm/core';
import { HttpClient, type HttpClientOptions } from './http-client.js';

/** Hands out `HttpClient`s for one base URL (fetch keeps its own connection pool). */
export function httpProvider(options: HttpClientOptions & { name?: string }): ResourceProvider<HttpClient> {
  const name = options.name ?? 'http';
  return {
    specificationVersion: 'v1',
    type: 'http',
    name,
    async create(signal) {
      signal?.throwIfAborted();
      return new HttpClient({ ...options, resource: name });
    },
    async destroy() {
      // fetch's connections are pooled by Node and need no per-client teardown.
    },
    async close() {
      // Nothing shared to release.
    },
  };
}

/** `type: http` with `config: { base_url, headers?, timeout_seconds?, retries? }`. */
export function httpResource(config: ResourceConfig): ResourceProvider<HttpClient> {
  const c = config.config;
  const baseUrl = [c.base_url, c.baseUrl, c.url].find((v): v is string => typeof v === 'string');
  if (!baseUrl)
    throw new ConfigError([
      { path: `resources.${config.name}.config.base_url`, message: 'an http resource needs base_url' },
    ]);
  const options: HttpClientOptions & { name: string } = {
    name: config.name,
    baseUrl,
    timeoutMs: config.timeout_seconds * 1000,
    retries: config.retry_attempts,
    retryDelayMs: config.retry_delay_seconds * 1000,
  };
  if (typeof c.headers === 'object' && c.headers !== null)
    options.headers = c.headers as Record<string, string>;
  return httpProvider(options);
}
