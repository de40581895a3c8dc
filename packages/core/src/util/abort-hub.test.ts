import { describe, expect, it } from 'vitest';
import { onAbort } from './abort-hub.js';
import { abortListenerCount } from './test-support/abort-listeners.js';

/** How many `abort` listeners a signal has. */
function counted(signal: AbortSignal): { listeners: () => number } {
  return { listeners: abortListenerCount(signal) };
}

describe('onAbort', () => {
  it('puts one listener on the signal however many callbacks wait; each runs once on abort', () => {
    const controller = new AbortController();
    const { listeners } = counted(controller.signal);
    const calls: number[] = [];
    const offs = Array.from({ length: 100 }, (_, i) => onAbort(controller.signal, () => calls.push(i)));
    expect(listeners()).toBe(1);
    for (const off of offs.slice(0, 98)) off();
    controller.abort();
    controller.abort();
    expect(calls).toEqual([98, 99]);
  });

  it('an unregistered callback is not called', () => {
    const controller = new AbortController();
    let called = false;
    const off = onAbort(controller.signal, () => {
      called = true;
    });
    off();
    off();
    controller.abort();
    expect(called).toBe(false);
  });
});

describe('onAbort list', () => {
  it('unregistering from the head, middle and tail keeps the others, in order', () => {
    const controller = new AbortController();
    const calls: number[] = [];
    const offs = Array.from({ length: 5 }, (_, i) => onAbort(controller.signal, () => calls.push(i)));
    offs[0]?.();
    offs[2]?.();
    offs[4]?.();
    const late = onAbort(controller.signal, () => calls.push(5));
    controller.abort();
    late();
    expect(calls).toEqual([1, 3, 5]);
  });

  it('a callback that registers another while the signal aborts does not run it in the same abort', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    onAbort(controller.signal, () => {
      calls.push('first');
      onAbort(controller.signal, () => calls.push('added while aborting'));
    });
    onAbort(controller.signal, () => calls.push('second'));
    controller.abort();
    expect(calls).toEqual(['first', 'second']);
  });
});
