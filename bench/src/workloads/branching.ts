import { SimpleFSM } from '@fsm/core';
import { createActor, createMachine, initialTransition } from 'xstate';

/** W2: 5 levels, each a 5-way choice by priority-ordered conditions on `x` (the last is the default). */
export const LEVELS = 5;
export const WAYS = 5;

export interface Pick {
  x: number;
}

// Ways 0..3 need x ≥ 80, 60, 40, 20; way 4 is the default, so x in 0..99 spreads over all five ways.
const threshold = (way: number) => (WAYS - 1 - way) * 20;
export const cond = (way: number) => (r: Pick) => r.x >= threshold(way);
/** Built once, shared by every system: the floor must not pay for making closures per record. */
export const conds = Array.from({ length: WAYS - 1 }, (_, way) => cond(way));

/** The floor: the same conditions in nested loops; only the final state's name is built. */
export function floor(record: Pick): string {
  let chosen = 0;
  for (let level = 0; level < LEVELS; level++) {
    chosen = WAYS - 1;
    for (let way = 0; way < WAYS - 1; way++) {
      if ((conds[way] as (r: Pick) => boolean)(record)) {
        chosen = way;
        break;
      }
    }
  }
  return `l${LEVELS}_${chosen}`;
}

/** Conditions as registered functions, or as the same comparison in a CEL expression. */
export function branchingConfig(
  conditions: 'functions' | 'expressions' = 'functions',
): Record<string, unknown> {
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
          ...(w < WAYS - 1
            ? {
                condition:
                  conditions === 'functions'
                    ? `c${w}`
                    : { type: 'expression', language: 'cel', code: `x >= ${threshold(w)}` },
              }
            : {}),
        })),
      });
    }
  }
  return { name: 'w2', data_mode: { default: 'reference' }, states };
}

export function branchingFsm(conditions: 'functions' | 'expressions' = 'functions'): Promise<SimpleFSM> {
  return SimpleFSM.create(branchingConfig(conditions), {
    functions: Object.fromEntries(conds.map((c, w) => [`c${w}`, c])),
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
                ...(w < WAYS - 1
                  ? { guard: ({ context }: { context: Pick }) => (conds[w] as (r: Pick) => boolean)(context) }
                  : {}),
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

/** No actor: the pure `initialTransition` resolves the eventless chain (see pipeline.ts). */
export function xstateBranchingPure(record: Pick): string {
  return String(initialTransition(branchingMachine, record)[0].value);
}
