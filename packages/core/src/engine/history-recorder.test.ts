import { describe, expect, it } from 'vitest';
import { HistoryRecorder } from './history-recorder.js';
import { ResourceScope } from './resource-scope.js';

describe('HistoryRecorder in copy mode', () => {
  it('shares the step before’s snapshot when a state left the values as they were, copies when they changed', () => {
    const recorder = new HistoryRecorder();
    const data: Record<string, unknown> = { id: 1, amount: 10 };
    const first = recorder.enter('main', 'extract');
    recorder.leave(first, 'a', data, 'copy', undefined);
    const second = recorder.enter('main', 'route');
    recorder.leave(second, 'b', data, 'copy', undefined);
    data.amount = 12;
    const third = recorder.enter('main', 'price');
    recorder.leave(third, 'c', data, 'copy', undefined);

    expect(first.data).not.toBe(data);
    expect(second.data).toBe(first.data);
    expect(third.data).not.toBe(second.data);
    // Snapshots are the values at the time: the later change of the live record reached only the third.
    expect(first.data).toEqual({ id: 1, amount: 10 });
    expect(third.data).toEqual({ id: 1, amount: 12 });
  });

  it('never shares a snapshot holding a nested object (it would be the live one) or across levels', () => {
    const recorder = new HistoryRecorder();
    const nested = { id: 1, lines: [{ sku: 'x' }] };
    const a = recorder.enter('main', 'a');
    recorder.leave(a, undefined, nested, 'copy', undefined);
    const b = recorder.enter('main', 'b');
    recorder.leave(b, undefined, nested, 'copy', undefined);
    expect(b.data).not.toBe(a.data);
    expect(b.data).toEqual(nested);

    recorder.push(b);
    const child = recorder.enter('sub', 'c');
    recorder.leave(child, undefined, nested, 'copy', undefined);
    expect(child.data).not.toBe(b.data);
  });
});

describe('ResourceScope.heldNames', () => {
  it('is one shared empty list when nothing is held, else a fresh list without repeats', () => {
    const scope = new ResourceScope();
    expect(scope.heldNames()).toBe(scope.heldNames());
    expect(scope.heldNames()).toEqual([]);
    scope.add({ name: 'db', role: 'db' } as never, {});
    const one = scope.heldNames();
    expect(one).toEqual(['db']);
    expect(scope.heldNames()).not.toBe(one);
    scope.add({ name: 'db', role: 'warehouse' } as never, {});
    scope.add({ name: 'cache', role: 'cache' } as never, {});
    expect(scope.heldNames()).toEqual(['db', 'cache']);
  });
});
