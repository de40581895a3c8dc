import { AdvancedFSM } from '@fsm/core';
import { createActor, createMachine } from 'xstate';
import { ok, pipelineConfig, step } from './pipeline.js';

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

/** W4: memory per paused execution and snapshot size, @fsm vs XState persisted snapshots. */
export async function idleExecutions(count: number): Promise<{
  fsmBytesPerExecution: number;
  fsmSnapshotBytes: number;
  xstateBytesPerActor: number;
  xstateSnapshotBytes: number;
}> {
  const fsm = await AdvancedFSM.create(pipelineConfig('functions'), { functions: { step, ok } });
  const before = heap();
  const executions = [];
  for (let i = 0; i < count; i++) {
    const execution = fsm.createExecution({ id: i, v: 0 });
    await execution.step();
    executions.push(execution);
  }
  const fsmBytes = (heap() - before) / count;
  const fsmSnapshotBytes = Buffer.byteLength(JSON.stringify(executions[0]?.snapshot()));
  executions.length = 0;
  await fsm.close();

  const machine = createMachine({
    types: {} as { context: { id: number; v: number }; input: { id: number; v: number } },
    context: ({ input }) => input,
    initial: 's1',
    states: { s1: { on: { NEXT: 's2' } }, s2: {} },
  });
  const beforeActors = heap();
  const actors = [];
  for (let i = 0; i < count; i++) actors.push(createActor(machine, { input: { id: i, v: 1 } }).start());
  const xstateBytes = (heap() - beforeActors) / count;
  const xstateSnapshotBytes = Buffer.byteLength(JSON.stringify(actors[0]?.getPersistedSnapshot()));
  for (const actor of actors) actor.stop();
  return {
    fsmBytesPerExecution: fsmBytes,
    fsmSnapshotBytes,
    xstateBytesPerActor: xstateBytes,
    xstateSnapshotBytes,
  };
}
