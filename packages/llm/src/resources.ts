import {
  ConfigError,
  type LlmProvider,
  type ResourceConfig,
  type ResourceFactory,
  type ResourceProvider,
  type VectorStore,
} from '@fsm/core';
import { InMemoryVectorStore } from './vector/memory-vector-store.js';
import { SqliteVectorStore } from './vector/sqlite-vector-store.js';

const text = (c: Record<string, unknown>, ...keys: string[]) => {
  for (const key of keys) if (typeof c[key] === 'string' && c[key] !== '') return c[key] as string;
  return undefined;
};

/** Builds the provider a config's `llm` resource names (`provider: openai | anthropic | huggingface`). */
export async function providerFromConfig(
  name: string,
  c: Record<string, unknown>,
  timeoutMs?: number,
): Promise<LlmProvider> {
  const kind = (text(c, 'provider') ?? 'openai').toLowerCase();
  const model = text(c, 'model');
  if (!model)
    throw new ConfigError([
      { path: `resources.${name}.config.model`, message: 'an llm resource needs a model' },
    ]);
  const common = {
    model,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(typeof c.max_retries === 'number' ? { maxRetries: c.max_retries } : {}),
    ...(typeof c.max_concurrency === 'number' ? { maxConcurrency: c.max_concurrency } : {}),
    ...(text(c, 'embedding_model') ? { embeddingModel: text(c, 'embedding_model') as string } : {}),
  };
  const baseURL = text(c, 'base_url', 'baseURL', 'api_base');
  // Keys come from the environment, never from the config itself: configs are logged and kept in history.
  for (const key of ['api_key', 'apiKey', 'access_token', 'accessToken', 'token']) {
    if (key in c)
      throw new ConfigError([
        {
          path: `resources.${name}.config.${key}`,
          message:
            'keys are not taken from configs (they are logged and kept in history): set the provider variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, HF_TOKEN) or name one with api_key_env',
        },
      ]);
  }
  const keyVar = text(c, 'api_key_env');
  const apiKey = keyVar ? process.env[keyVar] : undefined;
  if (keyVar && !apiKey)
    throw new ConfigError([
      { path: `resources.${name}.config.api_key_env`, message: `environment variable ${keyVar} is not set` },
    ]);
  switch (kind) {
    case 'openai':
    case 'ollama':
    case 'vllm': {
      const { openai } = await import('./openai/openai-provider.js');
      return openai({ ...common, ...(baseURL ? { baseURL } : {}), ...(apiKey ? { apiKey } : {}) });
    }
    case 'anthropic': {
      const { anthropic } = await import('./anthropic/anthropic-provider.js');
      return anthropic({ ...common, ...(baseURL ? { baseURL } : {}), ...(apiKey ? { apiKey } : {}) });
    }
    case 'huggingface':
    case 'hf': {
      const { huggingface } = await import('./huggingface/huggingface-provider.js');
      const endpointUrl = text(c, 'endpoint_url') ?? baseURL;
      const embeddingEndpointUrl = text(c, 'embedding_endpoint_url');
      return huggingface({
        ...common,
        ...(endpointUrl ? { endpointUrl } : {}),
        ...(embeddingEndpointUrl ? { embeddingEndpointUrl } : {}),
        ...(apiKey ? { accessToken: apiKey } : {}),
      });
    }
    default:
      throw new ConfigError([
        {
          path: `resources.${name}.config.provider`,
          message: `unknown llm provider "${kind}" (openai, anthropic, huggingface)`,
        },
      ]);
  }
}

/** The `llm` resource type: one provider shared by every handle (SDK clients pool their own connections). */
export const llmResource: ResourceFactory = async (
  config: ResourceConfig,
): Promise<ResourceProvider<LlmProvider>> => {
  // `timeout_seconds` of the entry bounds each request unless `config.request_timeout_seconds` says otherwise.
  const own = config.config.request_timeout_seconds;
  const seconds = typeof own === 'number' && own > 0 ? own : config.timeout_seconds;
  const provider = await providerFromConfig(config.name, config.config, seconds * 1000);
  return {
    specificationVersion: 'v1',
    type: 'llm',
    name: config.name,
    async create(signal) {
      signal?.throwIfAborted();
      return provider;
    },
    async destroy() {
      // Handles share the one provider; it holds no per-handle state.
    },
    async close() {
      // SDK clients release their sockets when unreferenced.
    },
  };
};

/** The `vector_store` resource type: `config: { backend: memory | sqlite, path?, collection? }`. */
export const vectorStoreResource: ResourceFactory = async (
  config: ResourceConfig,
): Promise<ResourceProvider<VectorStore>> => {
  const c = config.config;
  const backend = text(c, 'backend', 'type') ?? 'memory';
  const store: VectorStore =
    backend === 'sqlite'
      ? await SqliteVectorStore.open({
          filename: text(c, 'path', 'filename') ?? ':memory:',
          ...(text(c, 'collection') ? { collection: text(c, 'collection') as string } : {}),
        })
      : new InMemoryVectorStore();
  return {
    specificationVersion: 'v1',
    type: 'vector_store',
    name: config.name,
    async create(signal) {
      signal?.throwIfAborted();
      return store;
    },
    async destroy() {
      // One store shared by all handles; closed with the provider.
    },
    async close() {
      await store.close();
    },
  };
};

export const llmResourceTypes: Readonly<Record<string, ResourceFactory>> = {
  llm: llmResource,
  vector_store: vectorStoreResource,
};
