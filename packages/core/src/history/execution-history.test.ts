import { describe, expect, it } from 'vitest';
import { ExecutionHistory } from './execution-history.js';

describe('ExecutionHistory', () => {
  const history = new ExecutionHistory({
    executionId: 'e1',
    fsm: 'orders',
    status: 'succeeded',
    startedAt: 1000,
    endedAt: 1010,
    finalState: 'done',
    steps: [
      {
        network: 'main',
        state: 'enrich',
        arc: 'push:scoring',
        startedAt: 1001,
        endedAt: 1008,
        children: [
          { network: 'scoring', state: 'compute', startedAt: 1002, endedAt: 1003, data: { score: 1 } },
        ],
      },
      { network: 'main', state: 'done', startedAt: 1009, endedAt: 1010 },
    ],
  });

  it('round-trips through JSON to a deep-equal object', () => {
    expect(ExecutionHistory.fromJSON(history.toJSON())).toEqual(history);
    expect(ExecutionHistory.fromJSON(JSON.stringify(history))).toEqual(history);
  });

  it('walks the step tree depth first with depths', () => {
    expect([...history.walk()].map(({ step, depth }) => `${depth}:${step.state}`)).toEqual([
      '0:enrich',
      '1:compute',
      '0:done',
    ]);
  });

  it('rejects JSON that is not a history', () => {
    expect(() => ExecutionHistory.fromJSON({ nope: true } as never)).toThrow(/Not an execution history/);
  });
});
