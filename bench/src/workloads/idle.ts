import { AdvancedFSM, MisuseError } from '@fsm/core';
import { assign, createActor, createMachine } from 'xstate';
import { ok, pipelineConfig, type Rec, STATES, step } from './pipeline.js';

// Live heap only means something right after a full GC; without --expose-gc the numbers would be noise.
const heap = () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new MisuseError('W4 idle executions: run node with --expose-gc to measure live heap');
  gc();
  return process.memoryUsage().heapUsed;
};

/**
 * The W1 pipeline as XState would pause in it: each state applies `step` on entry and waits for NEXT.
 * A started actor sits in `s0` with `v` = 1 — the same place an @fsm execution is after one `step()`.
 */
export const pausableMachine = createMachine({
  types: {} as { context: Rec; input: Rec; events: { type: 'NEXT' } },
  context: ({ input }) => input,
  initial: 's0',
  states: Object.fromEntries([
    ...Array.from({ length: STATES }, (_, i) => [
      `s${i}`,
      {
        entry: assign(({ context }: { context: Rec }) => step({ ...context })),
        on: {
          NEXT: {
            target: i === STATES - 1 ? 'done' : `s${i + 1}`,
            guard: ({ context }: { context: Rec }) => ok(context),
          },
        },
      },
    ]),
    ['done', { type: 'final' as const }],
  ]),
});

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

  const beforeActors = heap();
  const actors = [];
  for (let i = 0; i < count; i++)
    actors.push(createActor(pausableMachine, { input: { id: i, v: 0 } }).start());
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
