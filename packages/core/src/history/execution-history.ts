import { FsmError } from '../errors/fsm-error.js';
import { isPackedHistory, unpackHistory } from './packed.js';
import type { ExecutionHistoryData, ExecutionStatus, HistoryStep } from './types.js';

/** The record of one execution: a tree of steps. `fromJSON(toJSON(h))` deep-equals `h`. */
export class ExecutionHistory implements ExecutionHistoryData {
  executionId: string;
  fsm: string;
  status: ExecutionStatus;
  startedAt: number;
  endedAt?: number;
  finalState?: string;
  input?: unknown;
  error?: NonNullable<ExecutionHistoryData['error']>;
  batchId?: string;
  itemIndex?: number;
  output?: NonNullable<ExecutionHistoryData['output']>;
  steps: HistoryStep[];
  metadata?: Record<string, unknown>;

  constructor(data: ExecutionHistoryData) {
    this.executionId = data.executionId;
    this.fsm = data.fsm;
    this.status = data.status;
    this.startedAt = data.startedAt;
    this.steps = data.steps;
    if (data.endedAt !== undefined) this.endedAt = data.endedAt;
    if (data.finalState !== undefined) this.finalState = data.finalState;
    if (data.input !== undefined) this.input = data.input;
    if (data.error !== undefined) this.error = data.error;
    if (data.batchId !== undefined) this.batchId = data.batchId;
    if (data.itemIndex !== undefined) this.itemIndex = data.itemIndex;
    if (data.metadata !== undefined) this.metadata = data.metadata;
    if (data.output !== undefined) this.output = data.output;
  }

  /** Plain JSON (deep copy): safe to stringify and store. */
  toJSON(): ExecutionHistoryData {
    return JSON.parse(JSON.stringify({ ...this })) as ExecutionHistoryData;
  }

  /** From `toJSON()`'s form or a store's packed form (`packHistory`), as an object or JSON text. */
  static fromJSON(json: ExecutionHistoryData | string): ExecutionHistory {
    // Parsed text is already a fresh copy; an object is copied so the history shares nothing with it.
    let data = typeof json === 'string' ? (JSON.parse(json) as unknown) : structuredClone(json);
    if (typeof data === 'object' && data !== null && isPackedHistory(data)) data = unpackHistory(data);
    if (!isHistoryData(data)) {
      throw new FsmError(
        'SNAPSHOT_INVALID',
        'Not an execution history: executionId, fsm, status, startedAt and steps are required',
      );
    }
    return new ExecutionHistory(data);
  }

  /** Every step, depth first, with its depth in the push tree. */
  *walk(): Generator<{ step: HistoryStep; depth: number }> {
    const visit = function* (
      steps: HistoryStep[],
      depth: number,
    ): Generator<{ step: HistoryStep; depth: number }> {
      for (const step of steps) {
        yield { step, depth };
        if (step.children) yield* visit(step.children, depth + 1);
      }
    };
    yield* visit(this.steps, 0);
  }
}

function isHistoryData(value: unknown): value is ExecutionHistoryData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.executionId === 'string' &&
    typeof v.fsm === 'string' &&
    (v.status === 'running' || v.status === 'succeeded' || v.status === 'failed') &&
    typeof v.startedAt === 'number' &&
    Array.isArray(v.steps)
  );
}
