import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openai } from './openai/openai-provider.js';
import { generateObject } from './structured.js';
import { type FakeLlmServer, startFakeLlmServer } from './testing/fake-llm-server.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (text) => ({
      text: text.includes('bad') ? '{"name":"Ann","age":"old"}' : '```json\n{"name":"Ann","age":41}\n```',
    }),
  });
});
afterAll(() => server.close());

describe('generateObject', () => {
  const person = z.object({ name: z.string(), age: z.number().int() });

  it('sends the zod schema as JSON Schema and returns a typed, validated object', async () => {
    const model = await openai({ model: 'm', baseURL: `${server.url}/v1`, apiKey: 'k' });
    const { object, usage } = await generateObject(
      model,
      { messages: [{ role: 'user', content: 'who?' }] },
      person,
      { name: 'person' },
    );
    expect(object).toEqual({ name: 'Ann', age: 41 });
    expect(usage.totalTokens).toBe(19);
    const sent = server.requests.at(-1)?.body.response_format as {
      json_schema: { name: string; schema: { required: string[] } };
    };
    expect(sent.json_schema.name).toBe('person');
    expect(sent.json_schema.schema.required).toEqual(['name', 'age']);
  });

  it('an answer that does not match is an LlmError naming the field', async () => {
    const model = await openai({ model: 'm', baseURL: `${server.url}/v1`, apiKey: 'k' });
    await expect(
      generateObject(model, { messages: [{ role: 'user', content: 'bad' }] }, person),
    ).rejects.toMatchObject({
      code: 'LLM_FAILED',
      message: expect.stringContaining('age'),
    });
  });
});
