import type { Execution, PauseRule } from '../engine/execution.js';
import type { CompiledState } from '../plan/types.js';

/**
 * When a durable run pauses to write a checkpoint (`every` arrivals, 1 for `every-step`). A checkpoint
 * protects what ran since the previous one from running again after a crash. None is needed when
 * nothing but conditions and expressions ran since (a resume redoes only that pure work), nor when the
 * record can only finish next (the finishing write covers it).
 */
export class CheckpointRule implements PauseRule {
  constructor(private readonly every: number) {}

  due(execution: Execution, state: CompiledState): boolean {
    if (execution.effects === execution.ruleEffects) return false;
    if (execution.depth === 0 && onlyFinishesFrom(state)) return false;
    if (++execution.ruleArrivals % this.every !== 0) return false;
    execution.ruleEffects = execution.effects;
    return true;
  }
}

/** Every arc of the state leads straight to an end state where nothing runs (no function, no resource). */
function onlyFinishesFrom(state: CompiledState): boolean {
  if (state.arcs.length === 0) return false;
  for (const arc of state.arcs) {
    if (arc.push || arc.transforms.length > 0 || arc.resources.length > 0) return false;
    const target = arc.target;
    if (!target.isEnd || target.resources.length > 0) return false;
    if (target.preValidators.length > 0 || target.transforms.length > 0 || target.validators.length > 0)
      return false;
  }
  return true;
}
