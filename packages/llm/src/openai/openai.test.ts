import { describeLlmProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProviderResilience } from '../test-support/provider-resilience.js';
import { type FakeLlmServer, startFakeLlmServer } from '../testing/fake-llm-server.js';
import { openai } from './openai-provider.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (text) =>
      text.includes('weather')
        ? { toolCall: { name: 'get_weather', arguments: { city: 'Paris' } } }
        : text.includes('json')
          ? { text: '{"label":"billing","confidence":0.9}' }
          : { text: `Hello there, you said: ${text}` },
  });
});
afterAll(() => server.close());

const make = (extra: Record<string, unknown> = {}) =>
  openai({
    model: 'gpt-test',
    baseURL: `${server.url}/v1`,
    apiKey: 'sk-test-secret-key-123',
    maxRetries: 0,
    ...extra,
  });

describeLlmProvider('openai', () => make(), { expectEmbeddings: true, expectTools: true });
describeProviderResilience('openai', ({ url, secret, ...rest }) =>
  openai({ model: 'm', baseURL: `${url}/v1`, apiKey: secret, ...rest }),
);

describe('openai provider', () => {
  it('sends the key as a bearer token and maps tool calls', async () => {
    const provider = await make();
    const r = await provider.generate({
      messages: [{ role: 'user', content: 'what is the weather?' }],
      tools: [
        { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      ],
    });
    expect(r.finishReason).toBe('tool-calls');
    expect(r.toolCalls).toEqual([{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }]);
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer sk-test-secret-key-123');
    expect(server.requests.at(-1)?.body.tools).toHaveLength(1);
  });

  it('streams tool-call deltas and ends with the whole call', async () => {
    const provider = await make();
    const parts = [];
    for await (const p of provider.stream({
      messages: [{ role: 'user', content: 'weather now' }],
      tools: [{ name: 'get_weather', parameters: {} }],
    }))
      parts.push(p);
    expect(parts.filter((p) => p.type === 'tool-call-delta').length).toBe(2);
    expect(parts.find((p) => p.type === 'tool-call')).toEqual({
      type: 'tool-call',
      call: { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } },
    });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('asks for JSON with a schema', async () => {
    const provider = await make();
    const r = await provider.generate({
      messages: [{ role: 'user', content: 'json please' }],
      responseFormat: { type: 'json', schema: { type: 'object' }, name: 'label' },
    });
    expect(JSON.parse(r.text)).toEqual({ label: 'billing', confidence: 0.9 });
    expect(server.requests.at(-1)?.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'label' },
    });
  });

  it('without a key and without a baseURL it refuses to start, naming the variable', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await expect(openai({ model: 'm' })).rejects.toMatchObject({
        code: 'LLM_FAILED',
        message: expect.stringContaining('OPENAI_API_KEY'),
      });
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('takes the key from OPENAI_API_KEY', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-from-env-555';
    try {
      const provider = await openai({ model: 'm', baseURL: `${server.url}/v1`, maxRetries: 0 });
      await provider.generate({ messages: [{ role: 'user', content: 'hi' }] });
      expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer sk-from-env-555');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('limits requests in flight', async () => {
    const slow = await startFakeLlmServer({ delayMs: 50 });
    try {
      const provider = await openai({
        model: 'm',
        baseURL: `${slow.url}/v1`,
        apiKey: 'k',
        maxConcurrency: 2,
      });
      await Promise.all(
        Array.from({ length: 6 }, () => provider.generate({ messages: [{ role: 'user', content: 'hi' }] })),
      );
      expect(slow.requests).toHaveLength(6);
      expect(slow.maxConcurrent()).toBe(2);
    } finally {
      await slow.close();
    }
  });
});
