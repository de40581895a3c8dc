import { describeLlmProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('retries a 429 honouring Retry-After, then succeeds', async () => {
    const limited = await startFakeLlmServer({ rateLimitFirst: 2, retryAfterSeconds: 0 });
    try {
      const provider = await openai({ model: 'm', baseURL: `${limited.url}/v1`, apiKey: 'k', maxRetries: 3 });
      const r = await provider.generate({ messages: [{ role: 'user', content: 'hi' }] });
      expect(r.text).toBe('echo: hi');
      expect(limited.requests).toHaveLength(3);
    } finally {
      await limited.close();
    }
  });

  it('a 429 after the retries is an LlmError with the status, never the key', async () => {
    const limited = await startFakeLlmServer({ rateLimitFirst: 10 });
    try {
      const provider = await openai({
        model: 'm',
        baseURL: `${limited.url}/v1`,
        apiKey: 'sk-very-secret-9876',
        maxRetries: 0,
      });
      const error = await provider
        .generate({ messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'LLM_FAILED', status: 429, provider: 'openai' });
      expect(JSON.stringify(error) + String((error as Error).message)).not.toContain('sk-very-secret-9876');
    } finally {
      await limited.close();
    }
  });

  it('a timeout stops the request with TIMEOUT; aborting mid-stream stops the stream', async () => {
    const slow = await startFakeLlmServer({ delayMs: 3000, chunkDelayMs: 50 });
    try {
      const provider = await openai({
        model: 'm',
        baseURL: `${slow.url}/v1`,
        apiKey: 'k',
        maxRetries: 0,
        timeoutMs: 200,
      });
      const started = Date.now();
      await expect(provider.generate({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await slow.close();
    }
    const chatty = await startFakeLlmServer({
      chunkDelayMs: 30,
      reply: () => ({ text: 'one two three four five six seven eight nine ten' }),
    });
    try {
      const provider = await openai({ model: 'm', baseURL: `${chatty.url}/v1`, apiKey: 'k', maxRetries: 0 });
      const controller = new AbortController();
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const p of provider.stream(
            { messages: [{ role: 'user', content: 'x' }] },
            { signal: controller.signal },
          )) {
            if (p.type === 'text-delta') seen.push(p.text);
            if (seen.length === 2) controller.abort(new Error('enough'));
          }
        })(),
      ).rejects.toMatchObject({ code: 'ABORTED' });
      expect(seen.length).toBeLessThan(10);
    } finally {
      await chatty.close();
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
