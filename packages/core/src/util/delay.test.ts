import { describe, expect, it } from 'vitest';
import { delay } from './delay.js';

describe('delay', () => {
  it('resolves after the time, rejects at once on abort with the reason', async () => {
    await expect(delay(1)).resolves.toBeUndefined();
    await expect(delay(1, AbortSignal.abort(new Error('before')))).rejects.toThrow('before');
    const controller = new AbortController();
    const waiting = delay(60_000, controller.signal);
    controller.abort(new Error('during'));
    await expect(waiting).rejects.toThrow('during');
  });
});
