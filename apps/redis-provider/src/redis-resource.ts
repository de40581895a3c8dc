import { ConfigError, type ResourceConfig, type ResourceFactory, type ResourceProvider } from '@fsm/core';
import { Redis } from 'ioredis';

/** A Redis client per handle, for FSM functions (dedup, counters, caches). */
export function redisProvider(options: { name?: string; url?: string } = {}): ResourceProvider<Redis> {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  return {
    specificationVersion: 'v1',
    type: 'redis',
    name: options.name ?? 'redis',
    async create(signal) {
      signal?.throwIfAborted();
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
      await client.connect();
      return client;
    },
    async validate(client) {
      return (await client.ping()) === 'PONG';
    },
    async destroy(client) {
      await client.quit();
    },
    async close() {
      // Every client is closed by destroy(); the provider holds nothing else.
    },
  };
}

/** `type: redis` in a config: `config: { url: redis://… }`. Register with `resourceTypes: { redis: redisResourceType }`. */
export const redisResourceType: ResourceFactory = (config: ResourceConfig) => {
  const url = config.config.url;
  if (url !== undefined && typeof url !== 'string') {
    throw new ConfigError([
      { path: `resources.${config.name}.config.url`, message: 'url must be a string like redis://host:6379' },
    ]);
  }
  return redisProvider({ name: config.name, ...(url ? { url } : {}) });
};
