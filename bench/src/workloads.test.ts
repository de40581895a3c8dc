import { describe, expect, it } from 'vitest';
import * as branching from './workloads/branching.js';
import * as pipeline from './workloads/pipeline.js';

// The systems compared must compute the same thing, or the ratios mean nothing.
describe('benchmark workloads agree', () => {
  it('W1: floor, @fsm (functions and expressions), XState and LangGraph give the same record', async () => {
    const sync = await pipeline.pipelineFsm('functions');
    const expr = await pipeline.pipelineFsm('expressions');
    const graph = await pipeline.langgraphPipeline();
    for (let id = 0; id < 5; id++) {
      const expected = pipeline.floor({ id, v: id });
      expect(sync.processSync({ id, v: id })).toMatchObject({
        success: true,
        finalState: 'done',
        data: expected,
      });
      expect((await sync.process({ id, v: id })).data).toEqual(expected);
      expect(expr.processSync({ id, v: id }).data).toEqual(expected);
      expect(pipeline.xstatePipeline({ id, v: id })).toEqual(expected);
      expect(await graph({ id, v: id })).toEqual(expected);
    }
    await sync.close();
    await expr.close();
  });

  it('W2: floor, @fsm and XState end in the same state', async () => {
    const fsm = await branching.branchingFsm();
    for (const x of [0, 19, 20, 45, 61, 80, 99]) {
      const expected = branching.floor({ x });
      expect(fsm.processSync({ x }).finalState).toBe(expected);
      expect(branching.xstateBranching({ x })).toBe(expected);
    }
    await fsm.close();
  });
});
