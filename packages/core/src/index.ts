export * from './errors/index.js';
export type * from './config/types.js';
export type * from './functions/types.js';
export type * from './functions/resolver-types.js';
export type * from './interfaces/resource.js';
export { poolOptionsFromConfig } from './interfaces/resource.js';
export type * from './interfaces/stream.js';
export type * from './interfaces/io.js';
export type * from './interfaces/llm.js';
export type * from './interfaces/history-store.js';
export type * from './interfaces/runner.js';
export { isCheckpointStore, isStepLogStore } from './interfaces/history-store.js';
export { assembleStepLog, buildStepTree, flattenSteps } from './history/step-log.js';
export type * from './history/types.js';
export { ExecutionHistory } from './history/execution-history.js';
export { type FinishedHistoryFields, isFinishedHistory, resultOfHistory } from './history/batch-result.js';
export {
  type IndexedHistoryFields,
  isPackedHistory,
  type PackedHistoryBody,
  type PackedHistoryData,
  type PackedOutput,
  type PackedStep,
  packHistory,
  packHistoryBody,
  storedOutput,
  unpackHistory,
} from './history/packed.js';
export {
  DEFAULT_SCAN_LIMIT,
  decodeSearchCursor,
  type ExecutionFilter,
  type ExecutionMatch,
  type ExecutionSearch,
  type ExecutionSearchPage,
  emptyStatusCounts,
  encodeSearchCursor,
  FlowAccumulator,
  type FlowArcCount,
  type FlowStateStats,
  type FlowSummary,
  fieldPathSegments,
  matchesFilter,
  scanExecutions,
  scanFlowSummary,
  searchScanLimit,
  sortFlowSummary,
  compareNewestFirst,
  toExecutionMatch,
} from './history/flow-summary.js';
export type * from './engine/snapshot.js';
export * from './config/index.js';
export * from './functions/index.js';
export * from './resources/index.js';
export type * from './api/types.js';
export * from './api/index.js';
export * from './tracing/index.js';
export { compilePlan } from './plan/compile.js';
export type * from './plan/types.js';
export type { ArcSelector, ArcStatistics } from './engine/arc-selection.js';
export { ARC_SCORE_WEIGHTS } from './engine/arc-selection.js';
export type { ExecutionObserver, StateEvent, TransitionEvent } from './engine/execution.js';
export { cloneData, MAX_DATA_DEPTH } from './util/clone.js';
export { getField, setField } from './util/field-path.js';
export { FORBIDDEN_KEYS, forbiddenSegment, isForbiddenKey } from './util/safe-keys.js';
export { delay } from './util/delay.js';
export { onAbort } from './util/abort-hub.js';
export { runCleanups } from './util/cleanups.js';
export { type FlushErrorFactory, WalFlusher, type WalFlusherOptions } from './util/wal-flusher.js';
export { retryAfterMs } from './util/retry-after.js';
export { isLoopbackHostHeader, isLoopbackName } from './util/loopback-host.js';
export {
  type FetchRetryOptions,
  fetchWithRetries,
  RETRYABLE_STATUSES,
  type RetriedResponse,
} from './util/fetch-with-retries.js';
