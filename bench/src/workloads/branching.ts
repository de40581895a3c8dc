import { SimpleFSM } from '@fsm/core';
import { createActor, createMachine } from 'xstate';

/** W2: 5 levels, each a 5-way choice by priority-ordered conditions on `x` (the last is the default). */
export const LEVELS = 5;
export const WAYS = 5;

export interface Pick {
  x: number;
}

const threshold = (way: number) => (WAYS - way) * 20;
export const cond = (way: number) => (r: Pick) => r.x >= threshold(way);

export function floor(record: Pick): string {
  let at = 'l0_0';
  for (let level = 0; level < LEVELS; level++) {
    let chosen = WAYS - 1;
    for (let way = 0; way < WAYS - 1; way++) {
      if (cond(way)(record)) {
        chosen = way;
        break;
      }
    }
    at = `l${level + 1}_${chosen}`;
  }
  return at;
}

export function branchingConfig(): Record<string, unknown> {
  const states: Record<string, unknown>[] = [];
  for (let level = 0; level <= LEVELS; level++) {
    for (let way = 0; way < WAYS; way++) {
      if (level === 0 && way > 0) continue;
      const name = `l${level}_${way}`;
      if (level === LEVELS) {
        states.push({ name, is_end: true });
        continue;
      }
      states.push({
        name,
        ...(level === 0 ? { is_start: true } : {}),
        arcs: Array.from({ length: WAYS }, (_, w) => ({
          target: `l${level + 1}_${w}`,
          priority: WAYS - w,
          ...(w < WAYS - 1 ? { condition: `c${w}` } : {}),
        })),
      });
    }
  }
  return { name: 'w2', data_mode: { default: 'reference' }, states };
}

export function branchingFsm(): Promise<SimpleFSM> {
  return SimpleFSM.create(branchingConfig(), {
    functions: Object.fromEntries(Array.from({ length: WAYS - 1 }, (_, w) => [`c${w}`, cond(w)])),
  });
}

export const branchingMachine = createMachine({
  types: {} as { context: Pick; input: Pick },
  context: ({ input }) => input,
  initial: 'l0_0',
  states: Object.fromEntries(
    Array.from({ length: LEVELS + 1 }, (_, level) =>
      Array.from({ length: level === 0 ? 1 : WAYS }, (_, way) => [
        `l${level}_${way}`,
        level === LEVELS
          ? { type: 'final' as const }
          : {
              always: Array.from({ length: WAYS }, (_, w) => ({
                target: `l${level + 1}_${w}`,
                ...(w < WAYS - 1 ? { guard: ({ context }: { context: Pick }) => cond(w)(context) } : {}),
              })),
            },
      ]),
    ).flat(),
  ),
});

export function xstateBranching(record: Pick): string {
  const actor = createActor(branchingMachine, { input: record }).start();
  const value = String(actor.getSnapshot().value);
  actor.stop();
  return value;
}
