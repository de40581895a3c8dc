import { describe, expect, it } from 'vitest';
import { ExecutionHistory } from './execution-history.js';
import { packHistory, packHistoryBody, storedOutput, unpackHistory } from './packed.js';
import { defineOwn } from '../util/safe-keys.js';
import type { ExecutionHistoryData, HistoryStep } from './types.js';

const t0 = 1_800_000_000_000;

function etlLike(): ExecutionHistoryData {
  const input = { id: 'A-1', amount: 10 };
  return {
    executionId: 'e1',
    fsm: 'etl',
    status: 'succeeded',
    startedAt: t0,
    endedAt: t0 + 9,
    input,
    output: { data: { id: 'A-1', amount: 10, tax: 2 }, path: ['a', 'b', 'p', 'c'], transitions: 3 },
    steps: [
      { network: 'main', state: 'a', startedAt: t0, endedAt: t0 + 1, arc: 'a->b', data: { ...input } },
      {
        network: 'main',
        state: 'b',
        startedAt: t0 + 1,
        endedAt: t0 + 5,
        arc: 'price',
        data: { ...input },
        children: [
          { network: 'sub', state: 'p', startedAt: t0 + 2, endedAt: t0 + 3, data: { amount: 10, tax: 2 } },
        ],
      },
      {
        network: 'main',
        state: 'c',
        startedAt: t0 + 5,
        endedAt: t0 + 9,
        data: { id: 'A-1', amount: 10, tax: 2 },
        resources: ['db'],
      },
      { network: 'main', state: 'd', startedAt: t0 + 9, error: { code: 'FUNCTION_FAILED', message: 'x' } },
    ],
  };
}

describe('packed histories', () => {
  it('round-trip to the same history through JSON, and load through ExecutionHistory.fromJSON', () => {
    const plain = etlLike();
    const text = JSON.stringify(packHistory(plain));
    expect(unpackHistory(JSON.parse(text))).toEqual(plain);
    expect(ExecutionHistory.fromJSON(text)).toEqual(new ExecutionHistory(plain));
  });

  it('write networks once per level, start times only where a step did not start as the one before ended, durations as ms', () => {
    const history = etlLike();
    history.output = {
      data: { id: 'A-1', amount: 10, tax: 2 },
      path: ['a', 'b', 'p', 'c', 'd'],
      transitions: 4,
    };
    const packed = packHistory(history);
    expect(packed.packing).toBe(2);
    expect(packed.steps.map((s) => [s.network, s.startedAt, s.ms])).toEqual([
      ['main', undefined, 1],
      [undefined, undefined, 4],
      [undefined, undefined, 4],
      [undefined, undefined, undefined],
    ]);
    // The sub-network's first step starts 1 ms after its parent did.
    expect(packed.steps[1]?.children?.map((s) => [s.network, s.startedAt, s.ms])).toEqual([['sub', 2, 1]]);
    // The path is the steps' states in order, so it is left out.
    expect(packed.output).toEqual({ data: { id: 'A-1', amount: 10, tax: 2 }, transitions: 4 });
    expect(unpackHistory(JSON.parse(JSON.stringify(packed)))).toEqual(history);
    expect(JSON.stringify(packed).length).toBeLessThan(0.75 * JSON.stringify(history).length);
  });

  it('write data that did not change as dataAsBefore and changed data as its changes', () => {
    const packed = packHistory(etlLike());
    // a's data equals the input, b's equals a's; the sub-network's first step is written in full; c adds tax.
    expect(packed.steps.map((s) => s.dataAsBefore)).toEqual([true, true, undefined, undefined]);
    expect(packed.steps[1]?.children?.[0]?.data).toEqual({ amount: 10, tax: 2 });
    expect(packed.steps[2]).toMatchObject({ dataChanged: { tax: 2 } });
    expect(packed.steps[2]?.data).toBeUndefined();
  });

  it('rebuild changed data exactly: changed, added and removed keys, key order, a "__proto__" key', () => {
    const history = etlLike();
    const input = { a: 1, b: 2, c: 3, d: 4, e: 5 };
    history.input = input;
    const steps = history.steps as Array<{ data?: unknown }>;
    steps[0] = { ...history.steps[0], data: { a: 1, b: 20, c: 3, d: 4, e: 5, f: 6 } } as never;
    steps[1] = { ...history.steps[1], data: { a: 1, c: 3, d: 4, e: 5, f: 6 } } as never;
    const hostile = JSON.parse('{"a":1,"c":3,"d":4,"e":5,"f":6,"__proto__":{"polluted":true}}');
    steps[2] = { ...history.steps[2], data: hostile } as never;
    const packed = packHistory(history);
    expect(packed.steps[0]).toMatchObject({ dataChanged: { b: 20, f: 6 } });
    expect(packed.steps[1]).toMatchObject({ dataRemoved: ['b'] });
    expect(packed.steps[1]?.dataChanged).toBeUndefined();
    const back = unpackHistory(JSON.parse(JSON.stringify(packed)));
    expect(back).toEqual(JSON.parse(JSON.stringify(history)));
    for (let i = 0; i < 3; i++) {
      expect(Object.keys(back.steps[i]?.data as object)).toEqual(
        Object.keys(history.steps[i]?.data as object),
      );
    }
    const rebuilt = back.steps[2]?.data as Record<string, unknown>;
    expect(Object.hasOwn(rebuilt, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(rebuilt)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('write data in full when its changes would not rebuild it: keys reordered, a value JSON leaves out, not objects', () => {
    const history = etlLike();
    history.input = { a: 1, b: 2, c: 3 };
    const steps = history.steps as Array<{ data?: unknown }>;
    steps[0] = { ...history.steps[0], data: { b: 2, a: 1, c: 3, d: 4 } } as never;
    steps[1] = { ...history.steps[1], data: { b: 2, a: undefined, c: 3, d: 4 } } as never;
    steps[2] = { ...history.steps[2], data: [1, 2, 3] } as never;
    const packed = packHistory(history);
    expect(packed.steps.slice(0, 3).map((s) => s.data !== undefined)).toEqual([true, true, true]);
    expect(unpackHistory(JSON.parse(JSON.stringify(packed)))).toEqual(JSON.parse(JSON.stringify(history)));
  });

  it("keep the output path when it is not the steps' states", () => {
    const history = etlLike();
    history.output = { data: {}, path: ['a', 'b', 'c'], transitions: 3 };
    const packed = packHistory(history);
    expect(packed.output?.path).toEqual(['a', 'b', 'c']);
    expect(unpackHistory(JSON.parse(JSON.stringify(packed))).output).toEqual(history.output);
  });

  it('leave out only the path of an output, keeping fields it does not know', () => {
    const history = etlLike();
    history.output = {
      data: { x: 1 },
      path: ['a', 'b', 'p', 'c', 'd'],
      transitions: 4,
      note: 'kept',
    } as never;
    const packed = packHistory(history);
    expect(packed.output).toEqual({ data: { x: 1 }, transitions: 4, note: 'kept' });
    expect(unpackHistory(JSON.parse(JSON.stringify(packed))).output).toEqual({
      data: { x: 1 },
      path: ['a', 'b', 'p', 'c', 'd'],
      transitions: 4,
      note: 'kept',
    });
  });

  it("give a stored body's output with its path without unpacking the steps (storedOutput)", () => {
    const history = etlLike();
    history.output = { data: { id: 'A-1' }, path: ['a', 'b', 'p', 'c', 'd'], transitions: 4 };
    const body = JSON.parse(JSON.stringify(packHistoryBody(history)));
    expect(body.output.path).toBeUndefined();
    expect(storedOutput(body)).toEqual(history.output);
    const kept = etlLike();
    expect(storedOutput(JSON.parse(JSON.stringify(packHistoryBody(kept))))).toEqual(kept.output);
    expect(storedOutput(JSON.parse(JSON.stringify(kept)))).toEqual(kept.output);
    expect(storedOutput({ steps: [] })).toBeUndefined();
  });

  it('still read bodies written with packing 1', () => {
    const v1 = {
      executionId: 'old',
      fsm: 'etl',
      status: 'succeeded',
      startedAt: t0,
      endedAt: t0 + 5,
      input: { x: 1 },
      output: { data: { x: 1 }, path: ['a', 'b'], transitions: 1 },
      packing: 1,
      steps: [
        { network: 'main', state: 'a', startedAt: 0, arc: 'a->b', endedAt: 2, dataAsBefore: true },
        { network: 'main', state: 'b', startedAt: 3, endedAt: 5, data: { x: 1 } },
      ],
    };
    expect(ExecutionHistory.fromJSON(JSON.stringify(v1)).toJSON()).toEqual({
      ...v1,
      packing: undefined,
      steps: [
        { network: 'main', state: 'a', startedAt: t0, arc: 'a->b', endedAt: t0 + 2, data: { x: 1 } },
        { network: 'main', state: 'b', startedAt: t0 + 3, endedAt: t0 + 5, data: { x: 1 } },
      ],
    });
  });

  it('write valid JSON for any names and values, leaving out what JSON leaves out', () => {
    const history = etlLike();
    history.metadata = { note: 'say "hi"\n', skip: undefined } as never;
    const steps = history.steps as HistoryStep[];
    steps[0] = { ...(steps[0] as HistoryStep), state: 'quote"d\\state\u2028', arc: 'ä->"b"' };
    steps[1] = { ...(steps[1] as HistoryStep), data: { id: 'A-1', amount: 10, fn: () => 1 } };
    steps[2] = { ...(steps[2] as HistoryStep), data: { id: 'A-1', amount: Number.NaN, when: new Date(t0) } };
    (steps[3] as HistoryStep).startedAt = Number.NaN;
    const json = JSON.stringify(packHistoryBody(history));
    const parsed = JSON.parse(json);
    expect(parsed.metadata).toEqual({ note: 'say "hi"\n' });
    expect(parsed.steps[0].state).toBe('quote"d\\state\u2028');
    expect(parsed).not.toHaveProperty('executionId');
    const plain = JSON.parse(JSON.stringify(history));
    const back = unpackHistory({
      ...parsed,
      ...{ executionId: 'e1', fsm: 'etl', status: 'succeeded', startedAt: t0, endedAt: t0 + 9 },
    });
    // NaN is null in JSON either way; the step after a NaN start is where JSON puts it.
    expect(back.steps.slice(0, 3)).toEqual(plain.steps.slice(0, 3));
    expect(back.steps[1]?.data).toEqual({ id: 'A-1', amount: 10 });
    expect(back.steps[2]?.data).toEqual({ id: 'A-1', amount: null, when: new Date(t0).toJSON() });
  });

  it('round-trip generated histories exactly (networks, times, nesting, data changes)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    const dataLike = (before: unknown): unknown => {
      if (random() < 0.2) return before;
      if (random() < 0.1) return pick([[1, 2], 'text', 3, null]);
      const base = typeof before === 'object' && before !== null && !Array.isArray(before) ? before : {};
      const next: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(base)) if (random() > 0.15) next[k] = random() < 0.3 ? random() : v;
      if (random() < 0.5)
        defineOwn(next, pick(['x', 'y', '__proto__', 'q"uote']), pick([1, 'a', { deep: true }, [1]]));
      return next;
    };
    for (let n = 0; n < 300; n++) {
      let clock = t0;
      const level = (depth: number, before: unknown): HistoryStep[] => {
        const steps: HistoryStep[] = [];
        const network = pick(['main', 'sub', 'other']);
        for (let i = 0, count = 1 + Math.floor(random() * 4); i < count; i++) {
          clock += pick([0, 0, 1, 3]);
          const step: HistoryStep = {
            network: random() < 0.1 ? 'stray' : network,
            state: `s${i}`,
            startedAt: clock,
          };
          if (random() < 0.7) step.arc = `a${i}`;
          if (depth < 2 && random() < 0.3) step.children = level(depth + 1, undefined);
          if (random() < 0.8) step.data = dataLike(before);
          if (step.data !== undefined) before = step.data;
          clock += pick([0, 1, 2]);
          if (random() < 0.9) step.endedAt = clock;
          steps.push(step);
        }
        return steps;
      };
      const input = { a: 1, b: 'two', c: [3] };
      const steps = level(0, input);
      const history: ExecutionHistoryData = {
        executionId: `g${n}`,
        fsm: 'gen',
        status: 'succeeded',
        startedAt: t0,
        endedAt: clock,
        input,
        steps,
      };
      const states: string[] = [];
      const walk = (list: HistoryStep[]) => {
        for (const s of list) {
          states.push(s.state);
          if (s.children) walk(s.children);
        }
      };
      walk(steps);
      history.output = {
        data: {},
        path: random() < 0.8 ? states : ['elsewhere'],
        transitions: states.length,
      };
      const plain = JSON.parse(JSON.stringify(history));
      expect(unpackHistory(JSON.parse(JSON.stringify(packHistory(history))))).toEqual(plain);
    }
  });

  it('compare one level deep: a nested object that is a copy is written again', () => {
    const nested = etlLike();
    nested.input = { deep: { x: 1 } };
    (nested.steps[0] as { data: unknown }).data = { deep: { x: 1 } };
    const packed = packHistory(nested);
    expect(packed.steps[0]?.dataAsBefore).toBeUndefined();
    expect(unpackHistory(JSON.parse(JSON.stringify(packed)))).toEqual(nested);
  });

  it('unpacked steps get their own data objects, not shared ones', () => {
    const history = ExecutionHistory.fromJSON(JSON.stringify(packHistory(etlLike())));
    expect(history.steps[0]?.data).toEqual(history.steps[1]?.data);
    expect(history.steps[0]?.data).not.toBe(history.steps[1]?.data);
    expect(history.steps[0]?.data).not.toBe(history.input);
  });

  it('an unknown packing or malformed steps is SNAPSHOT_INVALID naming the execution', () => {
    const packed = packHistory(etlLike());
    expect(() => ExecutionHistory.fromJSON(JSON.stringify({ ...packed, packing: 3 }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID', message: expect.stringContaining('"e1"') }),
    );
    expect(() => ExecutionHistory.fromJSON(JSON.stringify({ ...packed, steps: [null] }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID' }),
    );
  });
});
