import { describe, expect, it } from 'vitest';
import { ExecutionHistory } from './execution-history.js';
import { packHistory, unpackHistory } from './packed.js';
import type { ExecutionHistoryData } from './types.js';

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

  it('write step times from the start and data that did not change as dataAsBefore', () => {
    const packed = packHistory(etlLike());
    expect(packed.steps.map((s) => [s.startedAt, s.endedAt])).toEqual([
      [0, 1],
      [1, 5],
      [5, 9],
      [9, undefined],
    ]);
    // a's data equals the input, b's equals a's; the sub-network's first step and c changed.
    expect(packed.steps.map((s) => s.dataAsBefore)).toEqual([true, true, undefined, undefined]);
    expect(packed.steps[1]?.children?.[0]?.data).toEqual({ amount: 10, tax: 2 });
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(etlLike()).length);
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
    expect(() => ExecutionHistory.fromJSON(JSON.stringify({ ...packed, packing: 2 }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID', message: expect.stringContaining('"e1"') }),
    );
    expect(() => ExecutionHistory.fromJSON(JSON.stringify({ ...packed, steps: [null] }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID' }),
    );
  });
});
