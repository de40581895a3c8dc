import type { ResourceConfig } from '../config/types.js';

/** One kind of resource: a database, a folder, an HTTP API, an LLM. Implemented by provider packages. */
export interface ResourceProvider<H = unknown> {
  readonly specificationVersion: 'v1';
  readonly type: string;
  readonly name: string;
  /**
   * One handle may serve many borrowers at once (e.g. a synchronous SQLite connection, whose driver
   * serializes transactions): a pool then lends a handle in use instead of making callers wait for it.
   */
  readonly shared?: boolean;
  /** A new handle (a connection, a client). Honours `signal`. */
  create(signal?: AbortSignal): Promise<H>;
  /** Checked on borrow and by health checks; `false` means the handle is destroyed and replaced. */
  validate?(handle: H): Promise<boolean>;
  destroy(handle: H): Promise<void>;
  /** Releases what the provider itself holds. Called once, after every handle was destroyed. */
  close(): Promise<void>;
}

/** Builds a provider from a `resources:` entry of a config (`type: database` → a database provider). */
export type ResourceFactory = (config: ResourceConfig) => ResourceProvider | Promise<ResourceProvider>;

/** Pool settings taken from a `resources:` entry. */
export interface ResourcePoolOptions {
  /** Maximum handles at once (`connection_pool_size`). */
  maxSize: number;
  minSize?: number;
  /** How long `acquire` waits for a free handle before `RESOURCE_TIMEOUT` (`timeout_seconds`). */
  acquireTimeoutMs: number;
  /** Creation retries (`retry_attempts`) and the delay between them (`retry_delay_seconds`). */
  retryAttempts: number;
  retryDelayMs: number;
  /** Interval of background health checks (`health_check_interval`), if any. */
  healthCheckIntervalMs?: number;
  idleTimeoutMs?: number;
}

export interface ResourceLease<H = unknown> {
  readonly name: string;
  readonly handle: H;
}

/**
 * What the engine acquires resources through. Core ships `BasicResourceManager` (no pooling);
 * `@fsm/resources` ships the pooled `ResourceManager`. Owners are strings built by the engine:
 * `${executionId}/${network}/${state}` for a state, `${...}#arc${index}` for an arc.
 */
export interface ResourceBroker {
  readonly specificationVersion: 'v1';
  register(name: string, provider: ResourceProvider, options?: Partial<ResourcePoolOptions>): void;
  has(name: string): boolean;
  /** Whether a handle of `name` could be had now without waiting (for `resource_optimized`). */
  isAvailable?(name: string): boolean;
  acquire<H = unknown>(name: string, owner: string, signal?: AbortSignal): Promise<ResourceLease<H>>;
  /** Releases every handle held by `owner`; throws an AggregateError of release failures after releasing all. */
  releaseAll(owner: string): Promise<void>;
  /** Handles currently held, by owner (for leak checks and history). */
  held(): ReadonlyMap<string, readonly string[]>;
  /** Closes every pool and provider even when some fail, then throws one AggregateError listing the failures. */
  close(): Promise<void>;
}

export function poolOptionsFromConfig(config: ResourceConfig): ResourcePoolOptions {
  const options: ResourcePoolOptions = {
    maxSize: config.connection_pool_size,
    acquireTimeoutMs: config.timeout_seconds * 1000,
    retryAttempts: config.retry_attempts,
    retryDelayMs: config.retry_delay_seconds * 1000,
  };
  if (config.health_check_interval !== undefined)
    options.healthCheckIntervalMs = config.health_check_interval * 1000;
  return options;
}
