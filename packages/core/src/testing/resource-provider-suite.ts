import { describe, expect, it } from 'vitest';
import type { ResourceProvider } from '../interfaces/resource.js';

export interface ResourceProviderSuiteOptions {
  /** Whether a handle looks like what the provider promises (a Kysely instance, a client); checked on every new handle. */
  validHandle?: (handle: unknown) => boolean | Promise<boolean>;
  /** Checks that a handle really works (runs a query, reads a file, calls the server); throws when it does not. */
  exercise?: (handle: unknown) => Promise<void> | void;
  /** Create/destroy cycles in the churn test (default 20). */
  cycles?: number;
}

/**
 * The conformance suite of `ResourceProvider`. Every provider package runs it against a real
 * backend: `describeResourceProvider('postgres', () => databaseProvider({...}), { exercise })`.
 * Each test gets a fresh provider from `makeProvider` and closes it.
 */
export function describeResourceProvider(
  name: string,
  makeProvider: () => ResourceProvider | Promise<ResourceProvider>,
  options: ResourceProviderSuiteOptions = {},
): void {
  describe(`ResourceProvider conformance: ${name}`, () => {
    it('declares specificationVersion v1, a type and a name', async () => {
      const provider = await makeProvider();
      expect(provider.specificationVersion).toBe('v1');
      expect(provider.type).toBeTypeOf('string');
      expect(provider.name).toBeTypeOf('string');
      await provider.close();
    });

    it('creates a handle that works, validates it, destroys it', async () => {
      const provider = await makeProvider();
      const handle = await provider.create();
      expect(handle).toBeDefined();
      if (options.validHandle) expect(await options.validHandle(handle)).toBe(true);
      await options.exercise?.(handle);
      if (provider.validate) expect(await provider.validate(handle)).toBe(true);
      await provider.destroy(handle);
      await provider.close();
    });

    it('handles are independent: several at once, each usable', async () => {
      const provider = await makeProvider();
      const handles = await Promise.all([provider.create(), provider.create(), provider.create()]);
      expect(new Set(handles).size).toBe(3);
      for (const handle of handles) {
        if (options.validHandle) expect(await options.validHandle(handle)).toBe(true);
        await options.exercise?.(handle);
      }
      await Promise.all(handles.map((h) => provider.destroy(h)));
      await provider.close();
    });

    it('an already-aborted signal rejects create; the provider stays usable', async () => {
      const provider = await makeProvider();
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      await expect(provider.create(controller.signal)).rejects.toThrow();
      const handle = await provider.create();
      await options.exercise?.(handle);
      await provider.destroy(handle);
      await provider.close();
    });

    it('many create/destroy cycles, then close, leave nothing behind', async () => {
      const provider = await makeProvider();
      for (let i = 0; i < (options.cycles ?? 20); i++) {
        const handle = await provider.create();
        if (provider.validate) expect(await provider.validate(handle)).toBe(true);
        await provider.destroy(handle);
      }
      // Every handle is gone, so close must succeed (a provider tracking live handles would throw here).
      await provider.close();
    });
  });
}
