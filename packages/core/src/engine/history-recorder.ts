import type { DataMode } from '../config/types.js';
import type { FsmErrorInfo } from '../errors/fsm-error.js';
import type { HistoryStep } from '../history/types.js';
import { cloneData } from '../util/clone.js';

/** Builds the step tree of one execution as it runs; push arcs nest the sub-network's steps. */
export class HistoryRecorder {
  readonly steps: HistoryStep[];
  private current: HistoryStep[];
  private readonly parents: HistoryStep[][] = [];

  constructor(steps: HistoryStep[] = []) {
    this.steps = steps;
    this.current = steps;
  }

  enter(network: string, state: string): HistoryStep {
    const step: HistoryStep = { network, state, startedAt: Date.now() };
    this.current.push(step);
    return step;
  }

  leave(
    step: HistoryStep,
    arc: string | undefined,
    data: unknown,
    mode: DataMode,
    resources: string[] | undefined,
  ): void {
    step.endedAt = Date.now();
    if (arc !== undefined) step.arc = arc;
    if (mode !== 'direct') step.data = mode === 'copy' ? cloneData(data) : data;
    if (resources && resources.length > 0) step.resources = resources;
  }

  fail(step: HistoryStep | undefined, error: FsmErrorInfo): void {
    if (!step) return;
    step.error = error;
    step.endedAt ??= Date.now();
  }

  /** The sub-network's steps go under `step.children` until `pop()`. */
  push(step: HistoryStep): void {
    step.children ??= [];
    this.parents.push(this.current);
    this.current = step.children;
  }

  pop(): void {
    this.current = this.parents.pop() ?? this.steps;
  }

  /** The last step of the current level (the state that pushed, after a pop). */
  last(): HistoryStep | undefined {
    return this.current[this.current.length - 1];
  }
}
