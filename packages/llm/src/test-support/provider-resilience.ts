import { inspect } from 'node:util';
import type { LlmProvider } from '@fsm/core';
import { describe, expect, it } from 'vitest';
import { type FakeLlmServerOptions, startFakeLlmServer } from '../testing/fake-llm-server.js';

export interface MakeOptions {
  /** The fake server's root URL (`http://127.0.0.1:<port>`). */
  url: string;
  secret: string;
  maxRetries: number;
  timeoutMs?: number;
  maxConcurrency?: number;
}

async function withServer<T>(options: FakeLlmServerOptions, run: (url: string) => Promise<T>): Promise<T> {
  const server = await startFakeLlmServer(options);
  try {
    return await run(server.url);
  } finally {
    await server.close();
  }
}

/**
 * What every provider must do on a bad day, tested through its SDK against the local wire-protocol
 * server: 429 with Retry-After then success, 429 past the retries (status kept, key never shown), a
 * timeout, an abort mid-stream, and an abort while waiting for a concurrency slot.
 */
export function describeProviderResilience(
  name: string,
  make: (options: MakeOptions) => Promise<LlmProvider>,
): void {
  const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };

  describe(`${name} on a bad day`, () => {
    it('waits what Retry-After asks after a 429, then succeeds', async () => {
      const server = await startFakeLlmServer({ rateLimitFirst: 1, retryAfterSeconds: 1 });
      try {
        const provider = await make({ url: server.url, secret: 'sk-retry', maxRetries: 2 });
        const r = await provider.generate(ask);
        expect(r.text).toBe('echo: hi');
        expect(server.requests).toHaveLength(2);
        const [first, second] = server.requests;
        // A lower bound only: the retry must not come before the server said it may.
        expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
      } finally {
        await server.close();
      }
    });

    it('a 429 past the retries is an LlmError with the status, and never shows the key', async () => {
      const secret = `sk-${name}-very-secret-9876`;
      const error = await withServer({ rateLimitFirst: 10 }, async (url) => {
        const provider = await make({ url, secret, maxRetries: 1 });
        return provider.generate(ask).catch((e: unknown) => e);
      });
      expect(error).toMatchObject({ code: 'LLM_FAILED', status: 429, provider: name });
      expect((error as Error).message).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
      expect(inspect(error, { depth: 10 })).not.toContain(secret);
    });

    it('a timeout stops a slow request with TIMEOUT', async () => {
      await withServer({ delayMs: 5000 }, async (url) => {
        const provider = await make({ url, secret: 'k-timeout', maxRetries: 0, timeoutMs: 200 });
        await expect(provider.generate(ask)).rejects.toMatchObject({ code: 'TIMEOUT', provider: name });
      });
    });

    it('aborting mid-stream stops the stream with ABORTED', async () => {
      await withServer(
        { chunkDelayMs: 30, reply: () => ({ text: 'one two three four five six seven eight nine ten' }) },
        async (url) => {
          const provider = await make({ url, secret: 'k-abort', maxRetries: 0 });
          const controller = new AbortController();
          const seen: string[] = [];
          const read = async () => {
            for await (const part of provider.stream(ask, { signal: controller.signal })) {
              if (part.type === 'text-delta') seen.push(part.text);
              if (seen.length === 2) controller.abort(new Error('enough'));
            }
          };
          await expect(read()).rejects.toMatchObject({ code: 'ABORTED', provider: name });
          expect(seen.slice(0, 2)).toEqual(['one ', 'two ']);
          expect(seen.length).toBeLessThan(10);
        },
      );
    });

    it('a call aborted while waiting for a concurrency slot leaves the queue', async () => {
      await withServer({ delayMs: 300 }, async (url) => {
        const provider = await make({ url, secret: 'k-queue', maxRetries: 0, maxConcurrency: 1 });
        const first = provider.generate(ask);
        const controller = new AbortController();
        const queued = provider.generate(ask, { signal: controller.signal });
        controller.abort(new Error('not needed'));
        await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
        await expect(first).resolves.toMatchObject({ text: 'echo: hi' });
        // The freed slot serves the next caller.
        await expect(provider.generate(ask)).resolves.toMatchObject({ text: 'echo: hi' });
      });
    });
  });
}
