import type { ExecutionSnapshot } from '../engine/snapshot.js';
import { FsmError } from '../errors/fsm-error.js';
import type { FlatStep, StepLogEntry } from '../interfaces/history-store.js';
import type { HistoryStep } from './types.js';

/** The step tree in the order its steps were entered (depth first), each with its parent's index. */
export function flattenSteps(steps: readonly HistoryStep[]): FlatStep[] {
  const flat: FlatStep[] = [];
  const visit = (level: readonly HistoryStep[], parent: number) => {
    for (const { children, ...step } of level) {
      const index = flat.length;
      flat.push({ parent, step });
      if (children) visit(children, index);
    }
  };
  visit(steps, -1);
  return flat;
}

/** The tree `flattenSteps` came from (new step objects; the entries' fields are shared). */
export function buildStepTree(flat: readonly FlatStep[]): HistoryStep[] {
  const roots: HistoryStep[] = [];
  const nodes: HistoryStep[] = new Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const { parent, step } = flat[i] as FlatStep;
    const node: HistoryStep = { ...step };
    nodes[i] = node;
    if (parent < 0) roots.push(node);
    else {
      const owner = parent < i ? nodes[parent] : undefined;
      if (!owner)
        throw new FsmError('SNAPSHOT_INVALID', `step ${i} names parent ${parent}, not an earlier step`);
      if (owner.children) owner.children.push(node);
      else owner.children = [node];
    }
  }
  return roots;
}

/**
 * The checkpoint a step log describes: the last entry's snapshot with the history steps of every entry
 * applied in order. Entries must be one execution's, sorted by `seq`; `undefined` when there are none.
 */
export function assembleStepLog(entries: readonly StepLogEntry[]): ExecutionSnapshot | undefined {
  if (entries.length === 0) return undefined;
  let flat: FlatStep[] | undefined;
  const snapshot: Partial<ExecutionSnapshot> = {};
  for (const entry of entries) {
    const { pathFrom, path, ...rest } = entry.snapshot;
    Object.assign(snapshot, rest);
    const before = snapshot.path ?? [];
    if (pathFrom === undefined) snapshot.path = path;
    else if (!Number.isInteger(pathFrom) || pathFrom < 0 || pathFrom > before.length) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        `step log of "${entry.executionId}": entry ${entry.seq} continues the path at ${pathFrom}, but it has ${before.length} states`,
      );
    } else snapshot.path = before.slice(0, pathFrom).concat(path);
    if (!entry.steps) continue;
    flat ??= [];
    const { from, entries: changed } = entry.steps;
    if (!Number.isInteger(from) || from < 0 || from > flat.length) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        `step log of "${entry.executionId}": entry ${entry.seq} starts at step ${from}, but only ${flat.length} steps precede it`,
      );
    }
    flat.length = from;
    for (const step of changed) flat.push(step);
  }
  const first = entries[0] as StepLogEntry;
  snapshot.executionId ??= first.executionId;
  snapshot.fsm ??= first.fsm;
  if (flat) snapshot.steps = buildStepTree(flat);
  if (snapshot.version !== 1 || !Array.isArray(snapshot.stack) || snapshot.startedAt === undefined) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `step log of "${first.executionId}" has no whole snapshot to start from (version, stack, startedAt)`,
    );
  }
  return snapshot as ExecutionSnapshot;
}
