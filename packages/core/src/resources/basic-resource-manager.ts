import { MisuseError, ResourceError } from '../errors/errors.js';
import { delay } from '../util/delay.js';
import type {
  ResourceBroker,
  ResourceLease,
  ResourcePoolOptions,
  ResourceProvider,
} from '../interfaces/resource.js';
import { HeldByOwner } from './held-by-owner.js';

interface Registration {
  provider: ResourceProvider;
  options: Partial<ResourcePoolOptions>;
}

interface Held {
  name: string;
  handle: unknown;
}

/**
 * The default resource manager of core: no pooling — a handle is created on acquire and destroyed on
 * release. Tracks every handle by owner; release and close finish all their work, then report every
 * failure in one AggregateError. `@fsm/resources` offers the pooled manager with metrics.
 */
export class BasicResourceManager implements ResourceBroker {
  readonly specificationVersion = 'v1' as const;
  private readonly registrations = new Map<string, Registration>();
  private readonly owners = new HeldByOwner<Held>();
  private closed = false;

  register(name: string, provider: ResourceProvider, options: Partial<ResourcePoolOptions> = {}): void {
    if (this.closed) throw new MisuseError(`resource manager is closed; cannot register "${name}"`);
    this.registrations.set(name, { provider, options });
  }

  has(name: string): boolean {
    return this.registrations.has(name);
  }

  isAvailable(name: string): boolean {
    return this.registrations.has(name);
  }

  async acquire<H = unknown>(name: string, owner: string, signal?: AbortSignal): Promise<ResourceLease<H>> {
    if (this.closed) throw new MisuseError(`resource manager is closed; cannot acquire "${name}"`);
    const registration = this.registrations.get(name);
    if (!registration)
      throw new ResourceError('RESOURCE_UNAVAILABLE', name, `resource "${name}" is not registered`);
    const attempts = Math.max(1, (registration.options.retryAttempts ?? 0) + 1);
    const delayMs = registration.options.retryDelayMs ?? 0;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      signal?.throwIfAborted();
      try {
        const handle = (await registration.provider.create(signal)) as H;
        this.owners.add(owner, { name, handle });
        return { name, handle };
      } catch (error) {
        if (signal?.aborted) throw error;
        lastError = error;
        if (attempt < attempts && delayMs > 0) await delay(delayMs, signal);
      }
    }
    throw new ResourceError(
      'RESOURCE_UNAVAILABLE',
      name,
      `could not create resource "${name}" after ${attempts} attempt(s)`,
      {
        cause: lastError,
      },
    );
  }

  async releaseAll(owner: string): Promise<void> {
    const held = this.owners.take(owner);
    if (!held) return;
    const failures = await this.destroyAll(held);
    if (failures.length > 0) {
      throw new ResourceError(
        'RESOURCE_RELEASE_FAILED',
        held.map((h) => h.name).join(','),
        `releasing resources of ${owner} failed: ${failures.map((f) => (f as Error).message).join('; ')}`,
        { cause: new AggregateError(failures) },
      );
    }
  }

  held(): ReadonlyMap<string, readonly string[]> {
    return this.owners.describe((h) => h.name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = this.owners.takeAll();
    const failures = await this.destroyAll(all);
    const closes = await Promise.allSettled([...this.registrations.values()].map((r) => r.provider.close()));
    for (const outcome of closes) if (outcome.status === 'rejected') failures.push(outcome.reason);
    if (failures.length > 0) {
      const detail = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ');
      throw new AggregateError(failures, `closing resources: ${failures.length} failure(s): ${detail}`);
    }
  }

  private async destroyAll(held: Held[]): Promise<unknown[]> {
    const outcomes = await Promise.allSettled(
      held.map((h) => {
        const registration = this.registrations.get(h.name);
        return registration ? registration.provider.destroy(h.handle) : Promise.resolve();
      }),
    );
    return outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => o.reason as unknown);
  }
}
