import { describeLlmProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProviderResilience } from '../test-support/provider-resilience.js';
import { type FakeLlmServer, startFakeLlmServer } from '../testing/fake-llm-server.js';
import { anthropic } from './anthropic-provider.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (text) =>
      text.includes('weather')
        ? { toolCall: { name: 'get_weather', arguments: { city: 'Oslo' } } }
        : { text: `Hi! You wrote: ${text}` },
  });
});
afterAll(() => server.close());

const make = () =>
  anthropic({ model: 'claude-test', baseURL: server.url, apiKey: 'sk-ant-secret-abc', maxRetries: 0 });

describeLlmProvider('anthropic', make, { expectEmbeddings: false, expectTools: true });
describeProviderResilience('anthropic', ({ url, secret, ...rest }) =>
  anthropic({ model: 'claude-test', baseURL: url, apiKey: secret, ...rest }),
);

describe('anthropic provider', () => {
  it('sends the key, the system prompt apart, and maps tool use', async () => {
    const provider = await make();
    const r = await provider.generate({
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'weather in Oslo?' }],
      tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
    });
    expect(r.toolCalls).toEqual([{ id: 'toolu_1', name: 'get_weather', arguments: { city: 'Oslo' } }]);
    expect(r.finishReason).toBe('tool-calls');
    const request = server.requests.at(-1);
    const sent = request?.headers['x-api-key'] ?? request?.headers.authorization;
    expect(String(sent)).toContain('sk-ant-secret-abc');
    expect(request?.body.system).toBe('Be brief.');
  });

  it('streams tool input as JSON deltas and ends with the whole call', async () => {
    const provider = await make();
    const parts = [];
    for await (const p of provider.stream({
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', parameters: {} }],
    }))
      parts.push(p);
    expect(parts.find((p) => p.type === 'tool-call')).toEqual({
      type: 'tool-call',
      call: { id: 'toolu_1', name: 'get_weather', arguments: { city: 'Oslo' } },
    });
    expect(parts.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: 'tool-calls',
      usage: { inputTokens: 12, outputTokens: 7 },
    });
  });

  it('sends a JSON Schema as structured output; schema-less JSON is asked for in the system prompt', async () => {
    const provider = await make();
    await provider.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: { type: 'object' } },
    });
    expect(server.requests.at(-1)?.body.output_config).toEqual({
      format: { type: 'json_schema', schema: { type: 'object' } },
    });
    await provider.generate({ messages: [{ role: 'user', content: 'x' }], responseFormat: { type: 'json' } });
    expect(String(server.requests.at(-1)?.body.system)).toContain('JSON value only');
    expect(server.requests.at(-1)?.body.output_config).toBeUndefined();
  });

  it('with structuredOutputs off, the schema goes into the system prompt', async () => {
    const provider = await anthropic({
      model: 'claude-test',
      baseURL: server.url,
      apiKey: 'k',
      structuredOutputs: false,
    });
    await provider.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: { type: 'object' } },
    });
    expect(String(server.requests.at(-1)?.body.system)).toContain('JSON Schema');
  });

  it('without a key it refuses to start, naming ANTHROPIC_API_KEY', async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      await expect(anthropic({ model: 'm', baseURL: server.url })).rejects.toMatchObject({
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      });
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });
});
