import { describe, expect, it } from 'vitest';
import type { LlmProvider, LlmStreamPart } from '../interfaces/llm.js';

export interface LlmProviderSuiteOptions {
  /** Whether `embed` must work (else it must reject with `UNSUPPORTED`). */
  expectEmbeddings: boolean;
  /** Whether tool calls are declared. */
  expectTools: boolean;
}

/**
 * The conformance suite of `LlmProvider`. Run it against a real endpoint or a local server speaking the
 * provider's wire protocol: `describeLlmProvider('openai', () => openai({ model, baseURL }), {...})`.
 */
export function describeLlmProvider(
  name: string,
  makeProvider: () => Promise<LlmProvider>,
  options: LlmProviderSuiteOptions,
): void {
  describe(`LlmProvider conformance: ${name}`, () => {
    it('declares specificationVersion v1, its provider, model and capabilities', async () => {
      const provider = await makeProvider();
      expect(provider.specificationVersion).toBe('v1');
      expect(provider.provider).toBeTypeOf('string');
      expect(provider.modelId).toBeTypeOf('string');
      expect(provider.capabilities.chat).toBe(true);
      expect(provider.capabilities.embeddings).toBe(options.expectEmbeddings);
      expect(provider.capabilities.tools).toBe(options.expectTools);
    });

    it('generate returns text, usage and a finish reason', async () => {
      const provider = await makeProvider();
      const response = await provider.generate({ messages: [{ role: 'user', content: 'Say hello' }] });
      expect(response.text.length).toBeGreaterThan(0);
      expect(response.usage.totalTokens).toBeGreaterThan(0);
      expect(response.usage.totalTokens).toBe(response.usage.inputTokens + response.usage.outputTokens);
      expect(response.finishReason).toBe('stop');
      expect(response.toolCalls).toEqual([]);
    });

    it('stream yields text deltas that add up to the text, then one finish with usage', async () => {
      const provider = await makeProvider();
      const parts: LlmStreamPart[] = [];
      for await (const part of provider.stream({ messages: [{ role: 'user', content: 'Say hello' }] }))
        parts.push(part);
      const deltas = parts.filter((p) => p.type === 'text-delta');
      expect(deltas.length).toBeGreaterThan(1);
      const finishes = parts.filter((p) => p.type === 'finish');
      expect(finishes).toHaveLength(1);
      expect(parts.at(-1)?.type).toBe('finish');
      const full = deltas.map((p) => (p.type === 'text-delta' ? p.text : '')).join('');
      const once = await provider.generate({ messages: [{ role: 'user', content: 'Say hello' }] });
      expect(full).toBe(once.text);
    });

    it(
      options.expectEmbeddings ? 'embed returns one vector per text' : 'embed rejects with UNSUPPORTED',
      async () => {
        const provider = await makeProvider();
        if (!options.expectEmbeddings) {
          await expect(provider.embed(['a'])).rejects.toMatchObject({ code: 'UNSUPPORTED' });
          return;
        }
        const { vectors } = await provider.embed(['first text', 'second text']);
        expect(vectors).toHaveLength(2);
        expect(vectors[0]?.length).toBeGreaterThan(0);
      },
    );

    it('an aborted signal rejects generate with ABORTED', async () => {
      const provider = await makeProvider();
      await expect(
        provider.generate(
          { messages: [{ role: 'user', content: 'hi' }] },
          { signal: AbortSignal.abort(new Error('stop')) },
        ),
      ).rejects.toMatchObject({ code: 'ABORTED' });
    });

    it('an aborted signal rejects stream with ABORTED before any part', async () => {
      const provider = await makeProvider();
      const parts: LlmStreamPart[] = [];
      const read = async () => {
        for await (const part of provider.stream(
          { messages: [{ role: 'user', content: 'hi' }] },
          { signal: AbortSignal.abort(new Error('stop')) },
        ))
          parts.push(part);
      };
      await expect(read()).rejects.toMatchObject({ code: 'ABORTED' });
      expect(parts).toEqual([]);
    });
  });
}
