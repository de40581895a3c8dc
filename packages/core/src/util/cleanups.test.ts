import { describe, expect, it } from 'vitest';
import { runCleanups } from './cleanups.js';

describe('runCleanups', () => {
  it('runs every step in order, also after one failed, and throws that one failure as it is', async () => {
    const ran: string[] = [];
    const failure = new Error('first broke');
    await expect(
      runCleanups('closing failed', [
        () => {
          ran.push('a');
          throw failure;
        },
        async () => {
          ran.push('b');
        },
      ]),
    ).rejects.toBe(failure);
    expect(ran).toEqual(['a', 'b']);
  });

  it('throws an AggregateError of every failure, and nothing when all went well', async () => {
    const one = new Error('one');
    const two = new Error('two');
    const error = await runCleanups('closing the store failed', [
      () => Promise.reject(one),
      () => {
        throw two;
      },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect(error).toMatchObject({ message: 'closing the store failed', errors: [one, two] });
    await expect(runCleanups('unused', [() => undefined, async () => 1])).resolves.toBeUndefined();
  });
});
