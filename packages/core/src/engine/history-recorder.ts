import type { DataMode } from '../config/types.js';
import type { FsmErrorInfo } from '../errors/fsm-error.js';
import type { HistoryStep } from '../history/types.js';
import type { FlatStep } from '../interfaces/history-store.js';
import { cloneData, serializeData } from '../util/clone.js';
import { sameValues } from '../util/same-values.js';

/**
 * Builds the step tree of one execution as it runs; push arcs nest the sub-network's steps. It also
 * keeps the steps in the order they were entered and the first one changed since `takeDelta()`, so a
 * step log stores only what each step added instead of the whole history again.
 */
export class HistoryRecorder {
  readonly steps: HistoryStep[];
  private current: HistoryStep[];
  private readonly parents: HistoryStep[][] = [];
  /** Every step in entry order, and the index of its parent step (-1 at the top). */
  private readonly flat: HistoryStep[] = [];
  private readonly parentOf: number[] = [];
  private readonly openParents: number[] = [];
  private dirtyFrom = 0;

  constructor(steps: HistoryStep[] = []) {
    this.steps = steps;
    this.current = steps;
  }

  enter(network: string, state: string): HistoryStep {
    const step: HistoryStep = { network, state, startedAt: Date.now() };
    this.current.push(step);
    this.flat.push(step);
    this.parentOf.push(this.openParents.length === 0 ? -1 : (this.openParents.at(-1) as number));
    return step;
  }

  leave(
    step: HistoryStep,
    arc: string | undefined,
    data: unknown,
    mode: DataMode,
    resources: readonly string[] | undefined,
  ): void {
    step.endedAt = Date.now();
    if (arc !== undefined) step.arc = arc;
    if (mode === 'copy') step.data = this.snapshotOf(step, data);
    else if (mode !== 'direct') step.data = data;
    // A non-empty list from `heldNames()` is a fresh array: the step may own it.
    if (resources && resources.length > 0) step.resources = resources as string[];
    this.touch(step);
  }

  fail(step: HistoryStep | undefined, error: FsmErrorInfo): void {
    if (!step) return;
    step.error = error;
    step.endedAt ??= Date.now();
    this.touch(step);
  }

  /** The sub-network's steps go under `step.children` until `pop()`. */
  push(step: HistoryStep): void {
    step.children ??= [];
    this.parents.push(this.current);
    this.current = step.children;
    this.openParents.push(this.indexOf(step));
  }

  pop(): void {
    this.current = this.parents.pop() ?? this.steps;
    // The pushing step is closed (endedAt) or failed when its sub-network returns.
    const pusher = this.openParents.pop();
    if (pusher !== undefined && pusher >= 0 && pusher < this.dirtyFrom) this.dirtyFrom = pusher;
  }

  /** The last step of the current level (the state that pushed, after a pop). */
  last(): HistoryStep | undefined {
    return this.current[this.current.length - 1];
  }

  /**
   * The steps entered or changed since the previous call (without children), from index `from` on:
   * one step log entry's worth. Steps before `from` are unchanged since they were last taken. The
   * entries share the steps' fields: serialize them before the execution runs on (`live`), else
   * they are copied as JSON here.
   */
  takeDelta(live = false): { from: number; entries: FlatStep[] } {
    const from = this.dirtyFrom;
    const entries: FlatStep[] = [];
    for (let i = from; i < this.flat.length; i++) {
      const { children: _children, ...step } = this.flat[i] as HistoryStep;
      entries.push({ parent: this.parentOf[i] as number, step: live ? step : serializeData(step) });
    }
    this.dirtyFrom = this.flat.length;
    return { from, entries };
  }

  /**
   * Continues a restored execution's history: `steps` is the tree from its snapshot, `depth` the number
   * of sub-networks it is inside. Returns the pushing step of each level (outermost first). The next
   * `takeDelta()` starts from step 0, so a step log holds the whole tree again after a resume.
   */
  restore(steps: readonly HistoryStep[], depth: number): HistoryStep[] {
    const visit = (level: readonly HistoryStep[], parent: number) => {
      for (const step of level) {
        const index = this.flat.length;
        this.flat.push(step);
        this.parentOf.push(parent);
        if (step.children) visit(step.children, index);
      }
    };
    this.steps.push(...steps);
    visit(this.steps, -1);
    const pushers: HistoryStep[] = [];
    for (let d = 0; d < depth; d++) {
      const pusher = this.current[this.current.length - 1];
      if (!pusher) break;
      pushers.push(pusher);
      this.parents.push(this.current);
      this.openParents.push(this.indexOf(pusher));
      pusher.children ??= [];
      this.current = pusher.children;
    }
    this.dirtyFrom = 0;
    return pushers;
  }

  /**
   * A copy of the data, or the step before's copy when the state left the values as they were (most
   * states of a pipeline only route): one copy less, and packing finds the step unchanged at once.
   * History steps are snapshots, never written after they are taken, so sharing one is safe.
   */
  private snapshotOf(step: HistoryStep, data: unknown): unknown {
    const level = this.current;
    const n = level.length;
    if (n >= 2 && level[n - 1] === step) {
      const before = (level[n - 2] as HistoryStep).data;
      if (before !== undefined && sameValues(data, before)) return before;
    }
    return cloneData(data);
  }

  private touch(step: HistoryStep): void {
    const index = this.indexOf(step);
    if (index >= 0 && index < this.dirtyFrom) this.dirtyFrom = index;
  }

  /** Usually the step just entered, so the scan from the end stops at once. */
  private indexOf(step: HistoryStep): number {
    for (let i = this.flat.length - 1; i >= 0; i--) if (this.flat[i] === step) return i;
    return -1;
  }
}
