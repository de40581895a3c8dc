import { describe, expect, it } from 'vitest';
import { abortListenerCount } from '../util/test-support/abort-listeners.js';
import { runStream } from './stream.js';
import type { ExecutionResult } from './types.js';

const ok = (record: unknown): ExecutionResult => ({
  success: true,
  finalState: 'done',
  data: record,
  path: ['done'],
  executionId: 'x',
  transitions: 0,
  durationMs: 0,
});

describe('runStream signals', () => {
  it('records get a signal that follows the caller’s; nothing stays on the caller’s signal after the stream', async () => {
    const caller = new AbortController();
    const listeners = abortListenerCount(caller.signal);
    const seen: AbortSignal[] = [];
    const stream = runStream(
      async (record, signal) => {
        if (signal) seen.push(signal);
        return ok(record);
      },
      [1, 2, 3],
      { signal: caller.signal },
    );
    const results: unknown[] = [];
    for await (const r of stream) results.push(r.data);
    expect(results).toEqual([1, 2, 3]);
    expect(new Set(seen).size).toBe(1);
    // The stream closed: its own signal aborted, the caller's did not and holds no listener of it.
    expect(seen[0]?.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    expect(listeners()).toBe(0);
  });

  it('the caller aborting mid-stream aborts the records’ signal with the caller’s reason', async () => {
    const caller = new AbortController();
    const reasons: unknown[] = [];
    const stream = runStream(
      (record, signal) =>
        new Promise<ExecutionResult>((resolve) => {
          signal?.addEventListener('abort', () => {
            reasons.push(signal.reason);
            resolve(ok(record));
          });
          if (record === 2) caller.abort(new Error('enough'));
        }),
      [1, 2, 3],
      { signal: caller.signal, concurrency: 2 },
    );
    await expect(
      (async () => {
        for await (const _ of stream) {
          // Nothing finishes before the abort.
        }
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('enough') });
    expect(reasons).toEqual([caller.signal.reason, caller.signal.reason]);
  });

  it('an already aborted caller signal and the stream timeout stop the stream', async () => {
    const stream = runStream(async (record) => ok(record), [1], { signal: AbortSignal.abort() });
    await expect(
      (async () => {
        for await (const _ of stream) {
          // Aborted before the first record.
        }
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    // A record that ends only when its signal aborts: the stream's timeout does that, then the stream stops.
    const slow = runStream(
      (record, signal) =>
        new Promise<ExecutionResult>((resolve) => {
          signal?.addEventListener('abort', () => resolve(ok(record)));
        }),
      [1, 2],
      { timeoutMs: 20 },
    );
    await expect(
      (async () => {
        for await (const _ of slow) {
          // The first record ends with the timeout.
        }
      })(),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
