import {
  compareNewestFirst,
  type ExecutionHistoryData,
  type HistoryQuery,
  type HistorySummary,
} from '@fsm/core';
import { decodeCursor, encodeCursor } from './cursor.js';

export function toMillis(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value;
}

export function summarize(history: ExecutionHistoryData): HistorySummary {
  const summary: HistorySummary = {
    executionId: history.executionId,
    fsm: history.fsm,
    status: history.status,
    startedAt: history.startedAt,
    cursor: encodeCursor(history),
  };
  if (history.endedAt !== undefined) summary.endedAt = history.endedAt;
  return summary;
}

/** Whether a finished execution ended before `cutoff` (running executions are never expired). */
export function isExpired(summary: Pick<HistorySummary, 'status' | 'endedAt'>, cutoff: number): boolean {
  return summary.status !== 'running' && summary.endedAt !== undefined && summary.endedAt < cutoff;
}

/**
 * Applies a query to summaries held in memory (memory, file and S3 stores keep such an index):
 * filter, newest first, continue after the cursor, limit.
 */
export function selectSummaries(
  backend: string,
  summaries: Iterable<HistorySummary>,
  filter: HistoryQuery = {},
): HistorySummary[] {
  const since = filter.since === undefined ? undefined : toMillis(filter.since);
  const until = filter.until === undefined ? undefined : toMillis(filter.until);
  const after = filter.cursor === undefined ? undefined : decodeCursor(backend, filter.cursor);
  const selected: HistorySummary[] = [];
  for (const s of summaries) {
    if (filter.fsm !== undefined && s.fsm !== filter.fsm) continue;
    if (filter.status !== undefined && s.status !== filter.status) continue;
    if (since !== undefined && s.startedAt < since) continue;
    if (until !== undefined && s.startedAt >= until) continue;
    if (after !== undefined && compareNewestFirst(after, s) >= 0) continue;
    selected.push(s);
  }
  selected.sort(compareNewestFirst);
  return filter.limit === undefined ? selected : selected.slice(0, filter.limit);
}
