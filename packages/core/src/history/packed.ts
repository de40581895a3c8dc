import { FsmError } from '../errors/fsm-error.js';
import { cloneData } from '../util/clone.js';
import { isPlainObject } from '../util/field-path.js';
import { defineOwn } from '../util/safe-keys.js';
import { sameValues } from '../util/same-values.js';
import type { ExecutionHistoryData, HistoryStep } from './types.js';

/**
 * The compact form a store writes a history in (`packing: 2`; bytes are most of what a durable run pays per
 * record, and every field costs `JSON.stringify` time). Against the plain form, a packed step
 * - names its `network` only when it is the first of its level or differs from the first one's (a level is
 *   the steps of one network, so usually only the first names it);
 * - counts `startedAt` in ms from the history's start, and leaves it out when the step started where the
 *   step before it at its level ended (or, for the first of a level, where its parent started);
 * - says how long it took (`ms`) instead of when it ended (absent while it has not ended);
 * - writes its data as `dataAsBefore: true` when it holds the same values as the data before it (the
 *   previous step's at its level; the input, for the first top-level step), as `dataChanged` (the keys whose
 *   values changed or came, in order) and `dataRemoved` (keys that went) when both are objects and that
 *   rebuilds them exactly, key order included, and in full otherwise;
 * and the output leaves out its `path` when it is the steps' states in order (depth first).
 * A typical ETL record's body shrinks by ~40 %. SQL over stored bodies reads `network` from the level's first
 * step when a step has none and a duration as `ms`, else `endedAt - startedAt` (packing 1, still read).
 * `ExecutionHistory.fromJSON` unpacks both packings.
 */
export interface PackedHistoryData extends Omit<ExecutionHistoryData, 'steps' | 'output'> {
  packing: typeof PACKING;
  steps: PackedStep[];
  output?: PackedOutput;
}

/** The history's output; `path` left out when it is the steps' states in order. */
export interface PackedOutput {
  data: unknown;
  path?: string[];
  transitions: number;
}

export interface PackedStep {
  network?: string;
  state: string;
  arc?: string;
  startedAt?: number;
  ms?: number;
  data?: unknown;
  dataAsBefore?: true;
  dataChanged?: Record<string, unknown>;
  dataRemoved?: string[];
  error?: HistoryStep['error'];
  resources?: string[];
  children?: PackedStep[];
}

/** Packing 1 (read only): every step with its network and both times, data in full or `dataAsBefore`. */
interface PackedStepV1 extends Omit<HistoryStep, 'children'> {
  dataAsBefore?: true;
  children?: PackedStepV1[];
}

const PACKING = 2;

export function packHistory(history: ExecutionHistoryData): PackedHistoryData {
  const { steps, output, ...rest } = history;
  const packed: PackedHistoryData = {
    ...rest,
    packing: PACKING,
    steps: packSteps(steps, history.startedAt, 0, history.input),
  };
  if (output !== undefined) packed.output = packOutput(output, steps);
  return packed;
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
    output,
    ...rest
  } = history;
  const body: PackedHistoryBody = {
    ...rest,
    packing: PACKING,
    steps: packSteps(steps, startedAt, 0, history.input),
  };
  if (output !== undefined) body.output = packOutput(output, steps);
  return body;
}

export function isPackedHistory(value: object): value is PackedHistoryData {
  return Object.hasOwn(value, 'packing');
}

/** The plain form of a packed history; data a packed step shares with the step before is copied, never shared. */
export function unpackHistory(packed: PackedHistoryData): ExecutionHistoryData {
  const packing = (packed as { packing: unknown }).packing;
  if (packing !== PACKING && packing !== 1) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `history "${String(packed.executionId)}" is stored with packing ${JSON.stringify(packing)}, which this version cannot read`,
    );
  }
  const { packing: _packing, steps, output, ...rest } = packed;
  try {
    if (packing === 1) {
      const plain: ExecutionHistoryData = {
        ...rest,
        steps: unpackStepsV1(steps as PackedStepV1[], packed.startedAt, packed.input),
      };
      if (output !== undefined) plain.output = output as NonNullable<ExecutionHistoryData['output']>;
      return plain;
    }
    const plainSteps = unpackSteps(steps, packed.startedAt, packed.startedAt, packed.input);
    const plain: ExecutionHistoryData = { ...rest, steps: plainSteps };
    if (output !== undefined) plain.output = unpackOutput(output, plainSteps);
    return plain;
  } catch (error) {
    throw new FsmError(
      'SNAPSHOT_INVALID',
      `history "${String(packed.executionId)}" has malformed packed steps: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * A stored history's output with its path, from the body as stored (packed or not) without unpacking the
 * steps: what a store reads to rebuild a finished batch item's result (`resultOfHistory`).
 */
export function storedOutput(body: {
  output?: PackedOutput | undefined;
  steps?: unknown;
}): ExecutionHistoryData['output'] {
  const output = body.output;
  if (output === undefined || output.path !== undefined || !Array.isArray(body.steps)) {
    return output as ExecutionHistoryData['output'];
  }
  // A packed step names its state and children as a plain one does.
  return unpackOutput(output, body.steps as HistoryStep[]);
}

/** The output without its path when the path is the steps' states in order. */
function packOutput(
  output: NonNullable<ExecutionHistoryData['output']>,
  steps: readonly HistoryStep[],
): PackedOutput {
  if (!Array.isArray(output.path) || !pathIsSteps(output.path, steps)) return output;
  const { path: _path, ...rest } = output;
  return rest;
}

function unpackOutput(
  output: PackedOutput,
  steps: readonly HistoryStep[],
): NonNullable<ExecutionHistoryData['output']> {
  if (output.path !== undefined) return output as NonNullable<ExecutionHistoryData['output']>;
  const path: string[] = [];
  collectStates(steps, path);
  return { ...output, path };
}

function pathIsSteps(path: readonly string[], steps: readonly HistoryStep[]): boolean {
  const at = matchStates(path, steps, 0);
  return at === path.length;
}

/** Where `path` stands after matching the states of `steps` depth first from `at`; -1 at a mismatch. */
function matchStates(path: readonly string[], steps: readonly HistoryStep[], at: number): number {
  for (const step of steps) {
    if (at < 0 || path[at] !== step.state) return -1;
    at++;
    if (step.children !== undefined) at = matchStates(path, step.children, at);
  }
  return at;
}

function collectStates(steps: readonly HistoryStep[], into: string[]): void {
  for (const step of steps) {
    into.push(step.state);
    if (step.children !== undefined) collectStates(step.children, into);
  }
}

/**
 * `base`: the history's start; `start`: where the first step is expected to start, relative to `base`;
 * `before`: the data before the first step (the input at the top level, none in a sub-network).
 */
function packSteps(
  steps: readonly HistoryStep[],
  base: number,
  start: number,
  before: unknown,
): PackedStep[] {
  const packed: PackedStep[] = new Array(steps.length);
  const network = steps[0]?.network;
  let expected = start;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as HistoryStep;
    const startedAt = step.startedAt - base;
    const p: PackedStep =
      i === 0 || step.network !== network
        ? { network: step.network, state: step.state }
        : { state: step.state };
    if (startedAt !== expected) p.startedAt = startedAt;
    if (step.arc !== undefined) p.arc = step.arc;
    if (step.endedAt !== undefined) {
      p.ms = step.endedAt - step.startedAt;
      expected = step.endedAt - base;
    } else expected = startedAt;
    if (step.data !== undefined) {
      packData(p, step.data, before);
      before = step.data;
    }
    if (step.error !== undefined) p.error = step.error;
    if (step.resources !== undefined) p.resources = step.resources;
    if (step.children !== undefined) p.children = packSteps(step.children, base, startedAt, undefined);
    packed[i] = p;
  }
  return packed;
}

function packData(p: PackedStep, data: unknown, before: unknown): void {
  if (sameValues(data, before)) {
    p.dataAsBefore = true;
    return;
  }
  if (!isPlainObject(data) || !isPlainObject(before) || !changesOf(p, before, data)) p.data = data;
}

/**
 * Sets `dataChanged`/`dataRemoved` on `p` when applying them to `before` rebuilds `after` exactly, key order
 * included (kept keys in their order, then new ones); false when it would not, or when the change is no smaller.
 */
function changesOf(p: PackedStep, before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  const afterKeys = Object.keys(after);
  const beforeKeys = Object.keys(before);
  let changed: Record<string, unknown> | undefined;
  let count = 0;
  let j = 0;
  let i = 0;
  for (; i < afterKeys.length; i++) {
    const key = afterKeys[i] as string;
    if (!Object.hasOwn(before, key)) break;
    while (j < beforeKeys.length && !Object.hasOwn(after, beforeKeys[j] as string)) j++;
    if (beforeKeys[j] !== key) return false;
    j++;
    if (before[key] !== after[key]) {
      if (!inJson(after[key])) return false;
      changed ??= {};
      defineOwn(changed, key, after[key]);
      count++;
    }
  }
  // Keys of `before` kept in `after` come first in `after`, so `i` counts them here.
  const removed = i < beforeKeys.length ? beforeKeys.filter((key) => !Object.hasOwn(after, key)) : undefined;
  for (; i < afterKeys.length; i++) {
    const key = afterKeys[i] as string;
    if (Object.hasOwn(before, key) || !inJson(after[key])) return false;
    changed ??= {};
    defineOwn(changed, key, after[key]);
    count++;
  }
  // Worth it only when fewer values are written than in full.
  if (count + (removed?.length ?? 0) >= afterKeys.length) return false;
  if (changed !== undefined) p.dataChanged = changed;
  if (removed !== undefined) p.dataRemoved = removed;
  return true;
}

function unpackSteps(
  steps: readonly PackedStep[],
  base: number,
  start: number,
  before: unknown,
): HistoryStep[] {
  if (!Array.isArray(steps)) throw new TypeError('steps is not an array');
  const plain: HistoryStep[] = new Array(steps.length);
  const network = steps[0]?.network;
  let expected = start;
  for (let i = 0; i < steps.length; i++) {
    const p = steps[i] as PackedStep;
    const startedAt = p.startedAt === undefined ? expected : p.startedAt + base;
    const s: HistoryStep = { network: (p.network ?? network) as string, state: p.state, startedAt };
    if (p.arc !== undefined) s.arc = p.arc;
    if (p.ms !== undefined) {
      s.endedAt = startedAt + p.ms;
      expected = s.endedAt;
    } else expected = startedAt;
    if (p.dataAsBefore) s.data = cloneData(before);
    else if (p.dataChanged !== undefined || p.dataRemoved !== undefined) s.data = applyChanges(before, p);
    else if (p.data !== undefined) s.data = p.data;
    if (s.data !== undefined) before = s.data;
    if (p.error !== undefined) s.error = p.error;
    if (p.resources !== undefined) s.resources = p.resources;
    if (p.children !== undefined) s.children = unpackSteps(p.children, base, startedAt, undefined);
    plain[i] = s;
  }
  return plain;
}

/** `before` with a step's changes: its kept keys in order (values copied), then the new ones. */
function applyChanges(before: unknown, p: PackedStep): Record<string, unknown> {
  if (!isPlainObject(before)) throw new TypeError(`step "${p.state}" changes data that is not an object`);
  const changed = p.dataChanged ?? {};
  const removed = p.dataRemoved ?? [];
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(before)) {
    if (removed.includes(key)) continue;
    defineOwn(data, key, Object.hasOwn(changed, key) ? changed[key] : cloneData(before[key]));
  }
  for (const key of Object.keys(changed)) if (!Object.hasOwn(before, key)) defineOwn(data, key, changed[key]);
  return data;
}

function unpackStepsV1(steps: readonly PackedStepV1[], base: number, before: unknown): HistoryStep[] {
  if (!Array.isArray(steps)) throw new TypeError('steps is not an array');
  const plain: HistoryStep[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const { dataAsBefore, children, ...step } = steps[i] as PackedStepV1;
    const s: HistoryStep = { ...step, startedAt: step.startedAt + base };
    if (step.endedAt !== undefined) s.endedAt = step.endedAt + base;
    if (dataAsBefore) s.data = cloneData(before);
    if (s.data !== undefined) before = s.data;
    if (children !== undefined) s.children = unpackStepsV1(children, base, undefined);
    plain[i] = s;
  }
  return plain;
}

/** A value JSON writes as a property (it leaves out undefined, functions and symbols: a change would be lost). */
function inJson(value: unknown): boolean {
  const type = typeof value;
  return type !== 'undefined' && type !== 'function' && type !== 'symbol';
}
