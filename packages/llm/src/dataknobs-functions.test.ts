import { SimpleFSM } from '@fsm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmFunctions, llmResourceTypes } from './index.js';
import { type FakeLlmServer, startFakeLlmServer } from './testing/fake-llm-server.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    reply: (text) => ({ text: text.includes('JSON') ? '{"label": "billing"}' : `echo: ${text}` }),
  });
});
afterAll(async () => {
  await server.close();
});

/** A dataknobs-format pipeline of its LLM functions: build the prompt, call, validate, keep history, embed. */
const config = () => ({
  name: 'dk_llm',
  resources: [
    {
      name: 'model',
      type: 'llm',
      config: { provider: 'openai', model: 'gpt-test', base_url: `${server.url}/v1`, max_retries: 0 },
    },
  ],
  states: [
    {
      name: 'ask',
      is_start: true,
      resources: ['model'],
      transforms: [
        {
          type: 'builtin',
          name: 'llm.build_prompt',
          params: {
            template: 'Classify {ticket.subject} for {{team}} ({n})',
            variables: ['ticket.subject', 'n'],
            format_spec: 'json',
            system_prompt: 'You classify tickets.',
          },
        },
        {
          type: 'custom',
          module: 'dataknobs_llm.fsm_integration.functions',
          name: 'LLMCaller',
          params: { resource_name: 'model', temperature: 0 },
        },
        { type: 'builtin', name: 'llm.manage_conversation', params: { max_history: 2 } },
        {
          type: 'builtin',
          name: 'llm.EmbeddingGenerator',
          params: { resource_name: 'model', text_field: 'prompt' },
        },
      ],
      validators: [
        {
          type: 'builtin',
          name: 'llm.validate_response',
          params: { format: 'json', required_fields: ['label'] },
        },
      ],
      arcs: [{ target: 'done' }],
    },
    { name: 'done', is_end: true },
  ],
});

describe("dataknobs' LLM functions by their names", () => {
  it('build_prompt → LLMCaller → validate_response → manage_conversation → EmbeddingGenerator', async () => {
    const fsm = await SimpleFSM.create(config(), { resourceTypes: llmResourceTypes, builtins: llmFunctions });
    const r = await fsm.process({
      ticket: { subject: 'refund' },
      n: 2,
      conversation_history: [{ role: 'x' }],
    });
    expect(r.error).toBeUndefined();
    const data = r.data as Record<string, unknown>;
    const prompt = 'Classify refund for {team} (2)\n\nPlease respond with valid JSON only.';
    expect(data.prompt).toBe(prompt);
    expect(data.system_prompt).toBe('You classify tickets.');
    expect(data.llm_response).toMatchObject({
      text: '{"label": "billing"}',
      usage: { total_tokens: expect.any(Number) },
    });
    expect(data.tokens_used).toBe(
      (data.llm_response as { usage: { total_tokens: number } }).usage.total_tokens,
    );
    // The last two of: the earlier entry, the prompt, the answer.
    expect(data.conversation_history).toEqual([
      { role: 'user', content: prompt },
      { role: 'assistant', content: '{"label": "billing"}' },
    ]);
    expect(Array.isArray(data.embedding)).toBe(true);
    const call = server.requests.find((q) => q.path.includes('chat'));
    expect(call?.body).toMatchObject({ temperature: 0 });
    await fsm.close();
  });

  it('a missing prompt variable fails the record naming it; a bad answer fails validate_response', async () => {
    const fsm = await SimpleFSM.create(config(), { resourceTypes: llmResourceTypes, builtins: llmFunctions });
    const missing = await fsm.process({ ticket: {} });
    expect(missing.success).toBe(false);
    expect(missing.error?.message).toContain("Missing variable for prompt: 'ticket.subject'");
    await fsm.close();
    const check = await SimpleFSM.create(
      {
        name: 'check',
        states: [
          {
            name: 'a',
            is_start: true,
            validators: [{ type: 'builtin', name: 'ResponseValidator', params: { min_length: 5 } }],
            arcs: [{ target: 'b' }],
          },
          { name: 'b', is_end: true },
        ],
      },
      { builtins: llmFunctions },
    );
    const short = await check.process({ llm_response: { text: 'hey' } });
    expect(short.success).toBe(false);
    expect(short.error?.message).toContain('Response too short: 3 < 5');
    expect((await check.process({ llm_response: 'hello there' })).success).toBe(true);
    await check.close();
  });

  it('FunctionCaller (Python callables) is a config error saying what to do', async () => {
    await expect(
      SimpleFSM.create(
        {
          name: 'f',
          states: [
            {
              name: 'a',
              is_start: true,
              transforms: [{ type: 'builtin', name: 'llm.FunctionCaller' }],
              arcs: [{ target: 'b' }],
            },
            { name: 'b', is_end: true },
          ],
        },
        { builtins: llmFunctions },
      ),
    ).rejects.toThrow(/register a TypeScript function/);
  });
});
