import type { ExecutionResult } from '../api/types.js';
import type { ExecutionHistoryData } from './types.js';

/** What of a finished history its result is made of. */
export type FinishedHistoryFields = Pick<
  ExecutionHistoryData,
  'executionId' | 'status' | 'finalState' | 'error' | 'batchId' | 'itemIndex'
> & { output: NonNullable<ExecutionHistoryData['output']> };

/**
 * The result a finished execution reports, rebuilt from its history (without the history itself): what
 * `process()` returned, but for `durationMs`, which the history does not hold to the fraction of a ms.
 * A durable batch stores its finished items this way, so a store may keep an item as a mark on the
 * history row (`FinishedExecution.itemInHistory`) instead of a second copy of the record's data.
 */
export function resultOfHistory(history: FinishedHistoryFields, durationMs: number): ExecutionResult {
  const result: ExecutionResult = {
    success: history.status === 'succeeded',
    finalState: history.finalState ?? '',
    data: history.output.data,
    path: history.output.path,
    executionId: history.executionId,
    transitions: history.output.transitions,
    durationMs,
  };
  if (history.error) result.error = history.error;
  if (history.batchId !== undefined) result.batchId = history.batchId;
  if (history.itemIndex !== undefined) result.itemIndex = history.itemIndex;
  return result;
}

/** Whether the history holds what `resultOfHistory` needs (it finished and kept its output). */
export function isFinishedHistory<T extends Partial<ExecutionHistoryData>>(
  history: T,
): history is T & FinishedHistoryFields {
  return history.output !== undefined && history.status !== 'running';
}
