import {
  HeldByOwner,
  MisuseError,
  ResourceError,
  type ResourceBroker,
  type ResourceLease,
  type ResourcePoolOptions,
  type ResourceProvider,
} from '@fsm/core';
import { type Gauge, type PoolMetrics, toGauges } from './pool/pool-metrics.js';
import { ResourcePool } from './pool/resource-pool.js';

interface Held {
  pool: ResourcePool;
  handle: unknown;
}

const DEFAULTS: ResourcePoolOptions = {
  maxSize: 10,
  acquireTimeoutMs: 30_000,
  retryAttempts: 3,
  retryDelayMs: 1000,
};

/**
 * The pooled resource manager: one `ResourcePool` per registered resource, every handle tracked by its
 * owner (execution/state/arc) so `releaseAll(owner)` returns exactly what that owner held. `close()`
 * closes every pool even when some fail, then throws one AggregateError listing every failure.
 */
export class ResourceManager implements ResourceBroker {
  readonly specificationVersion = 'v1' as const;
  private readonly pools = new Map<string, ResourcePool>();
  private readonly owners = new HeldByOwner<Held>();
  private closed = false;

  constructor(private readonly defaults: Partial<ResourcePoolOptions> = {}) {}

  register(name: string, provider: ResourceProvider, options: Partial<ResourcePoolOptions> = {}): void {
    if (this.closed) throw new MisuseError(`resource manager is closed; cannot register "${name}"`);
    if (this.pools.has(name)) throw new MisuseError(`resource "${name}" is already registered`);
    this.pools.set(name, new ResourcePool(name, provider, { ...DEFAULTS, ...this.defaults, ...options }));
  }

  has(name: string): boolean {
    return this.pools.has(name);
  }

  isAvailable(name: string): boolean {
    return this.pools.get(name)?.hasCapacity() ?? false;
  }

  async acquire<H = unknown>(name: string, owner: string, signal?: AbortSignal): Promise<ResourceLease<H>> {
    if (this.closed) throw new MisuseError(`resource manager is closed; cannot acquire "${name}"`);
    const pool = this.pools.get(name);
    if (!pool) throw new ResourceError('RESOURCE_UNAVAILABLE', name, `resource "${name}" is not registered`);
    const handle = await pool.acquire(signal);
    this.owners.add(owner, { pool, handle });
    return { name, handle: handle as H };
  }

  async releaseAll(owner: string): Promise<void> {
    const held = this.owners.take(owner);
    if (!held) return;
    let failures: unknown[];
    if (held.length === 1) {
      // The common case (a state holding one resource): no arrays of outcomes per record.
      const only = held[0] as Held;
      try {
        await only.pool.release(only.handle);
        return;
      } catch (error) {
        failures = [error];
      }
    } else {
      const outcomes = await Promise.allSettled(held.map((h) => h.pool.release(h.handle)));
      failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    }
    if (failures.length > 0) {
      throw new ResourceError(
        'RESOURCE_RELEASE_FAILED',
        held.map((h) => h.pool.name).join(','),
        `releasing resources of ${owner}: ${failures.length} failure(s)`,
        { cause: new AggregateError(failures) },
      );
    }
  }

  held(): ReadonlyMap<string, readonly string[]> {
    return this.owners.describe((h) => h.pool.name);
  }

  /** Metrics of every pool, by resource name. */
  metrics(): Record<string, PoolMetrics> {
    return Object.fromEntries([...this.pools].map(([name, pool]) => [name, pool.metrics()]));
  }

  /** Every pool metric as an OpenTelemetry-friendly gauge (`fsm.resource.pool.in_use{resource=db}`, …). */
  gauges(): Gauge[] {
    return [...this.pools].flatMap(([name, pool]) => toGauges(name, pool.metrics()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Each pool destroys the handles still out as well as its idle ones, then closes its provider.
    this.owners.takeAll();
    const failures: unknown[] = [];
    for (const outcome of await Promise.allSettled([...this.pools.values()].map((p) => p.close()))) {
      if (outcome.status === 'rejected') {
        const reason: unknown = outcome.reason;
        // A pool reports its own failures as one AggregateError: list them one by one.
        if (reason instanceof AggregateError) failures.push(...(reason.errors as unknown[]));
        else failures.push(reason);
      }
    }
    if (failures.length > 0) {
      const detail = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ');
      throw new AggregateError(failures, `closing resources: ${failures.length} failure(s): ${detail}`);
    }
  }
}
