import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  llmFunctions,
  llmResourceTypes,
  promptTemplate,
  SqliteVectorStore,
  InMemoryVectorStore,
} from './index.js';
import { type FakeLlmServer, startFakeLlmServer } from './testing/fake-llm-server.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-llm-'));
let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (text) => {
      if (text.includes('Extract')) return { text: '```json\n{"name":"Ada","email":"ada@example.com"}\n```' };
      if (text.toLowerCase().includes('refund') || text.toLowerCase().includes('invoice'))
        return { text: 'billing' };
      if (text.toLowerCase().includes('crash')) return { text: 'Technical.' };
      return { text: 'poetry' };
    },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('promptTemplate', () => {
  it('fills dotted paths, inserts objects as JSON, names missing variables', () => {
    const t = promptTemplate('Subject: {{ticket.subject}} / tags {{ ticket.tags }}');
    expect(t.variables).toEqual(['ticket.subject', 'ticket.tags']);
    expect(t.render({ ticket: { subject: 'Hi', tags: ['a'] } })).toBe('Subject: Hi / tags ["a"]');
    expect(() => t.render({ ticket: {} })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('"ticket.subject"'),
      }),
    );
  });
});

for (const [name, make] of [
  ['memory', async () => new InMemoryVectorStore()],
  ['sqlite', () => SqliteVectorStore.open({ filename: join(dir, 'vectors.db'), collection: 'docs' })],
] as const) {
  describe(`${name} vector store`, () => {
    it('upserts, finds nearest by cosine with metadata filters, deletes', async () => {
      const store = await make();
      await store.upsert([
        { id: 'a', vector: [1, 0, 0], metadata: { lang: 'en' } },
        { id: 'b', vector: [0.9, 0.1, 0], metadata: { lang: 'fr' } },
        { id: 'c', vector: [0, 1, 0], metadata: { lang: 'en' } },
      ]);
      await store.upsert([{ id: 'c', vector: [0, 0, 1], metadata: { lang: 'en' } }]);
      const top = await store.query([1, 0, 0], { topK: 2 });
      expect(top.map((m) => m.id)).toEqual(['a', 'b']);
      expect(top[0]?.score).toBeCloseTo(1, 5);
      expect((await store.query([1, 0, 0], { topK: 5, filter: { lang: 'en' } })).map((m) => m.id)).toEqual([
        'a',
        'c',
      ]);
      await store.delete(['a']);
      expect((await store.query([1, 0, 0], { topK: 1 }))[0]?.id).toBe('b');
      await expect(store.query([1, 0], { topK: 1 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('2 dimensions'),
      });
      await expect(store.query([1, 0, 0], { topK: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await store.close();
    });
  });
}

describe('LLM steps in a config', () => {
  const config = () => ({
    name: 'triage',
    resources: [
      {
        name: 'model',
        type: 'llm',
        config: { provider: 'openai', model: 'gpt-test', base_url: `${server.url}/v1`, max_retries: 0 },
      },
      { name: 'kb', type: 'vector_store', config: { backend: 'memory' } },
    ],
    states: [
      {
        name: 'classify',
        is_start: true,
        resources: ['model', 'kb'],
        transforms: [
          {
            type: 'builtin',
            name: 'llm_classify',
            params: {
              resource: 'model',
              prompt: 'Ticket: {{subject}}',
              labels: ['billing', 'technical', 'other'],
              target: 'category',
              usage_target: 'usage',
            },
          },
          {
            type: 'builtin',
            name: 'embed',
            params: { resource: 'model', field: 'subject', target: 'vector' },
          },
          {
            type: 'builtin',
            name: 'vector_upsert',
            params: { store: 'kb', id_field: 'id', vector_field: 'vector', metadata_fields: ['category'] },
          },
          {
            type: 'builtin',
            name: 'vector_search',
            params: { store: 'kb', vector_field: 'vector', target: 'similar', top_k: 1 },
          },
        ],
        arcs: [
          { target: 'finance', condition: { type: 'expression', code: 'category = "billing"' }, priority: 2 },
          {
            target: 'engineering',
            condition: { type: 'expression', code: 'category = "technical"' },
            priority: 1,
          },
          { target: 'inbox' },
        ],
      },
      { name: 'finance', is_end: true },
      { name: 'engineering', is_end: true },
      { name: 'inbox', is_end: true },
    ],
  });

  it('classifies and routes tickets through the official SDK against the local server', async () => {
    const fsm = await SimpleFSM.create(config(), { resourceTypes: llmResourceTypes, builtins: llmFunctions });
    const batch = await fsm.processBatch([
      { id: 1, subject: 'Refund for invoice 42' },
      { id: 2, subject: 'App crash on start' },
      { id: 3, subject: 'Write me a poem' },
    ]);
    expect(batch.results.map((r) => r.finalState)).toEqual(['finance', 'engineering', 'classify']);
    expect(batch.results[2]?.error).toMatchObject({
      code: 'LLM_FAILED',
      message: expect.stringContaining('not one of'),
    });
    const first = batch.results[0]?.data as {
      category: string;
      usage: { totalTokens: number };
      similar: { id: string }[];
    };
    expect(first.category).toBe('billing');
    expect(first.usage.totalTokens).toBe(19);
    expect(first.similar[0]?.id).toBe('1');
    await fsm.close();
  });

  it('llm_extract parses and checks structured output', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'extract',
        resources: [
          {
            name: 'model',
            type: 'llm',
            config: { provider: 'openai', model: 'gpt-test', base_url: `${server.url}/v1` },
          },
        ],
        states: [
          {
            name: 'x',
            is_start: true,
            resources: ['model'],
            transforms: [
              {
                type: 'builtin',
                name: 'llm_extract',
                params: {
                  resource: 'model',
                  prompt: 'Extract the contact from: {{text}}',
                  target: 'contact',
                  schema: { type: 'object', required: ['name', 'email'] },
                },
              },
            ],
            arcs: [{ target: 'done' }],
          },
          { name: 'done', is_end: true },
        ],
      },
      { resourceTypes: llmResourceTypes, builtins: llmFunctions },
    );
    const r = await fsm.process({ text: 'Ada, ada@example.com' });
    expect(r.data).toMatchObject({ contact: { name: 'Ada', email: 'ada@example.com' } });
    expect(server.requests.at(-1)?.body.response_format).toMatchObject({ type: 'json_schema' });
    await fsm.close();
  });

  it('an unknown provider or a missing model is a ConfigError naming the path', async () => {
    await expect(
      SimpleFSM.create(
        {
          name: 'bad',
          resources: [{ name: 'm', type: 'llm', config: { provider: 'skynet', model: 'x' } }],
          states: [{ name: 'a', is_start: true, is_end: true }],
        },
        { resourceTypes: llmResourceTypes },
      ),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('resources.m.config.provider'),
    });
  });
});

describe('LLM builtins: params and validation', () => {
  const oneState = (transform: Record<string, unknown>, resources: unknown[] = []) => ({
    name: 'one',
    resources: [
      {
        name: 'model',
        type: 'llm',
        config: { provider: 'openai', model: 'gpt-test', base_url: `${server.url}/v1`, max_retries: 0 },
      },
      ...resources,
    ],
    states: [
      {
        name: 'x',
        is_start: true,
        resources: ['model', ...resources.map((r) => (r as { name: string }).name)],
        transforms: [{ type: 'builtin', ...transform }],
        arcs: [{ target: 'done' }],
      },
      { name: 'done', is_end: true },
    ],
  });
  const create = (config: unknown) =>
    SimpleFSM.create(config as Parameters<typeof SimpleFSM.create>[0], {
      resourceTypes: llmResourceTypes,
      builtins: llmFunctions,
    });

  it('accepts the SPEC spelling (llm, into) and leaves the input record untouched', async () => {
    const fsm = await create(
      oneState({
        name: 'llm_classify',
        params: {
          llm: 'model',
          prompt: 'Ticket: {{ticket.subject}}',
          labels: ['billing', 'other'],
          into: 'ticket.category',
        },
      }),
    );
    const input = { ticket: { subject: 'refund please' } };
    const r = await fsm.process(input);
    expect(r.data).toEqual({ ticket: { subject: 'refund please', category: 'billing' } });
    expect(input).toEqual({ ticket: { subject: 'refund please' } });
    await fsm.close();
  });

  it('a misspelt param is a config error, not silently ignored', async () => {
    await expect(
      create(
        oneState({
          name: 'llm_complete',
          params: { resource: 'model', prompt: 'x', target: 'y', temprature: 0.2 },
        }),
      ),
    ).rejects.toMatchObject({ message: expect.stringContaining('temprature') });
  });

  it('a missing template variable fails the record with a ValidationError naming it', async () => {
    const fsm = await create(
      oneState({ name: 'llm_complete', params: { resource: 'model', prompt: 'Hi {{name}}', target: 'out' } }),
    );
    const r = await fsm.process({ other: 1 });
    expect(r.success).toBe(false);
    expect(r.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('"name"') });
    await fsm.close();
  });

  it('llm_extract checks the whole JSON Schema (types and enums), naming the field', async () => {
    const fsm = await create(
      oneState({
        name: 'llm_extract',
        params: {
          resource: 'model',
          prompt: 'Extract the contact from: {{text}}',
          target: 'contact',
          schema: {
            type: 'object',
            required: ['name', 'email'],
            properties: { name: { type: 'string' }, email: { type: 'integer' } },
          },
        },
      }),
    );
    const r = await fsm.process({ text: 'Ada' });
    expect(r.success).toBe(false);
    expect(r.error).toMatchObject({ code: 'LLM_FAILED', message: expect.stringContaining('/email') });
    await fsm.close();
  });

  it('llm_extract takes a zod schema from TypeScript and returns the parsed value', async () => {
    const fsm = await create(
      oneState({
        name: 'llm_extract',
        params: {
          resource: 'model',
          prompt: 'Extract the contact from: {{text}}',
          target: 'contact',
          schema: z.object({ name: z.string().transform((s) => s.toUpperCase()), email: z.email() }),
        },
      }),
    );
    const r = await fsm.process({ text: 'Ada' });
    expect(r.data).toMatchObject({ contact: { name: 'ADA', email: 'ada@example.com' } });
    const sent = server.requests.at(-1)?.body.response_format as { json_schema: { schema: unknown } };
    expect(sent.json_schema.schema).toMatchObject({ type: 'object', required: ['name', 'email'] });
    await fsm.close();
  });

  it('an API key written into the config is refused, naming the path', async () => {
    await expect(
      create({
        name: 'k',
        resources: [
          {
            name: 'm',
            type: 'llm',
            config: { provider: 'openai', model: 'x', api_key: 'sk-in-config-1234' },
          },
        ],
        states: [{ name: 'a', is_start: true, is_end: true }],
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('resources.m.config.api_key'),
    });
  });

  it('api_key_env names the variable the key comes from', async () => {
    process.env.FSM_LLM_TEST_KEY = 'sk-named-env-777';
    try {
      const fsm = await create({
        ...oneState({ name: 'llm_complete', params: { resource: 'model', prompt: 'hi', target: 'out' } }),
        resources: [
          {
            name: 'model',
            type: 'llm',
            config: {
              provider: 'openai',
              model: 'gpt-test',
              base_url: `${server.url}/v1`,
              api_key_env: 'FSM_LLM_TEST_KEY',
            },
          },
        ],
      });
      await fsm.process({});
      expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer sk-named-env-777');
      await fsm.close();
    } finally {
      delete process.env.FSM_LLM_TEST_KEY;
    }
  });

  it('a sqlite vector_store resource keeps vectors in its file across runs', async () => {
    const file = join(dir, `kb-${Date.now()}.db`);
    const store = { name: 'kb', type: 'vector_store', config: { backend: 'sqlite', path: file } };
    const upsert = await create(
      oneState({ name: 'vector_upsert', params: { store: 'kb', id_field: 'id', vector_field: 'v' } }, [
        store,
      ]),
    );
    await upsert.process({ id: 'doc-1', v: [1, 0] });
    await upsert.process({ id: 'doc-2', v: [0, 1] });
    await upsert.close();
    const search = await create(
      oneState(
        { name: 'vector_search', params: { store: 'kb', vector_field: 'v', target: 'hits', top_k: 1 } },
        [store],
      ),
    );
    const r = await search.process({ v: [0.1, 0.9] });
    expect((r.data as { hits: { id: string }[] }).hits.map((h) => h.id)).toEqual(['doc-2']);
    const bad = await search.process({ v: 'not a vector' });
    expect(bad.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('"v"') });
    await search.close();
  });
});
