import { FsmError } from '../errors/fsm-error.js';
import { cloneData } from '../util/clone.js';
import { sameValues } from '../util/same-values.js';
import type { ExecutionHistoryData, HistoryStep } from './types.js';

/**
 * The compact form a store writes a history in (`packing: 1`): step times count ms from the history's
 * `startedAt`, and a step whose data holds the same values as the data before it (the previous step's
 * at its level; the input, for the first top-level step) says `dataAsBefore: true` instead of repeating
 * them. A typical ETL record's body shrinks by about a third, and bytes are most of what a durable run
 * pays per record. Step durations (end minus start) read the same in both forms, so SQL over stored
 * bodies works on either; `ExecutionHistory.fromJSON` unpacks it.
 */
export interface PackedHistoryData extends Omit<ExecutionHistoryData, 'steps'> {
  packing: typeof PACKING;
  steps: PackedStep[];
}

export interface PackedStep extends Omit<HistoryStep, 'children'> {
  dataAsBefore?: true;
  children?: PackedStep[];
}

const PACKING = 1;

export function packHistory(history: ExecutionHistoryData): PackedHistoryData {
  return {
    ...history,
    packing: PACKING,
    steps: packSteps(history.steps, history.startedAt, history.input),
  };
}

/** The fields of a history a store keeps in columns of its own (ids, status, times, batch). */
export type IndexedHistoryFields = Pick<
  ExecutionHistoryData,
  'executionId' | 'fsm' | 'status' | 'startedAt' | 'endedAt' | 'batchId' | 'itemIndex'
>;

/** A packed history without its `IndexedHistoryFields`: what a store with those columns writes as the body. */
export type PackedHistoryBody = Omit<PackedHistoryData, keyof IndexedHistoryFields>;

/**
 * `packHistory` for a store that keeps the `IndexedHistoryFields` in columns: the body leaves them out
 * (~150 bytes per row), and `ExecutionHistory.fromJSON({ ...body, ...columns })` reads it back.
 */
export function packHistoryBody(history: ExecutionHistoryData): PackedHistoryBody {
  const {
    executionId: _id,
    fsm: _fsm,
    status: _status,
    startedAt,
    endedAt: _endedAt,
    batchId: _batchId,
    itemIndex: _itemIndex,
    steps,
    ...rest
  } = history;
  return { ...rest, packing: PACKING, steps: packSteps(steps, startedAt, history.input) };
}

export function isPackedHistory(value: object): value is PackedHistoryData {
  return Object.hasOwn(value, 'packing');
}

/** The plain form of a packed history; the data of `dataAsBefore` steps is copied, never shared. */
export function unpackHistory(packed: PackedHistoryData): ExecutionHistoryData {
  if (packed.packing !== PACKING) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `history "${String(packed.executionId)}" is stored with packing ${JSON.stringify(packed.packing)}, which this version cannot read`,
    );
  }
  const { packing: _packing, steps, ...rest } = packed;
  try {
    return { ...rest, steps: unpackSteps(steps, packed.startedAt, packed.input) };
  } catch (error) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `history "${String(packed.executionId)}" has malformed packed steps: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function packSteps(steps: readonly HistoryStep[], base: number, before: unknown): PackedStep[] {
  const packed: PackedStep[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as HistoryStep;
    const p: PackedStep = { network: step.network, state: step.state, startedAt: step.startedAt - base };
    if (step.arc !== undefined) p.arc = step.arc;
    if (step.endedAt !== undefined) p.endedAt = step.endedAt - base;
    if (step.data !== undefined) {
      if (sameValues(step.data, before)) p.dataAsBefore = true;
      else p.data = step.data;
      before = step.data;
    }
    if (step.error !== undefined) p.error = step.error;
    if (step.resources !== undefined) p.resources = step.resources;
    if (step.children !== undefined) p.children = packSteps(step.children, base, undefined);
    packed[i] = p;
  }
  return packed;
}

function unpackSteps(steps: readonly PackedStep[], base: number, before: unknown): HistoryStep[] {
  if (!Array.isArray(steps)) throw new TypeError('steps is not an array');
  const plain: HistoryStep[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const { dataAsBefore, children, ...step } = steps[i] as PackedStep;
    const s: HistoryStep = { ...step, startedAt: step.startedAt + base };
    if (step.endedAt !== undefined) s.endedAt = step.endedAt + base;
    if (dataAsBefore) s.data = cloneData(before);
    if (s.data !== undefined) before = s.data;
    if (children !== undefined) s.children = unpackSteps(children, base, undefined);
    plain[i] = s;
  }
  return plain;
}
