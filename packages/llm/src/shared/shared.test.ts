import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit, loadSdk, redact, toLlmError } from './errors.js';

describe('provider plumbing', () => {
  it('a missing SDK fails only when its provider is used, saying what to install', async () => {
    const missing = () => import(['no', 'such', 'sdk'].join('-'));
    await expect(loadSdk('openai', 'openai', missing)).rejects.toMatchObject({
      code: 'LLM_FAILED',
      provider: 'openai',
      message: expect.stringContaining('pnpm add openai'),
    });
  });

  it('scrubs the key from messages and drops a cause that holds it', () => {
    expect(redact('bad key sk-abcdef', 'sk-abcdef')).toBe('bad key [redacted]');
    const sdkError = Object.assign(new Error('401 for sk-abcdef'), {
      status: 401,
      headers: { authorization: 'Bearer sk-abcdef' },
    });
    const error = toLlmError('openai', sdkError, { apiKey: 'sk-abcdef' });
    expect(error).toMatchObject({ code: 'LLM_FAILED', status: 401, message: '[openai] 401 for [redacted]' });
    expect(error.cause).toBeUndefined();
  });

  it('a concurrency limit below one is refused', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  });
});
