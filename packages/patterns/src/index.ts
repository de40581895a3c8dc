export { pattern, type PatternFsm } from './pattern.js';
export { Bulkhead } from './recovery/bulkhead.js';
export {
  type CircuitStatus,
  type RecoveryMetrics,
  type RecoveryOptions,
  RecoveryPolicy,
  type RetryOptions,
} from './recovery/recovery-policy.js';
export { type ErrorRecoveryOptions, errorRecoveryPattern } from './recovery/error-recovery.js';
export { DatabaseSink, type DatabaseSinkOptions } from './etl/database-sink.js';
export { type EtlMetrics, type EtlOptions, etlPattern, type RunEtlOptions, runEtl } from './etl/etl.js';
export { type AggregateOp, type AggregateSpec, Aggregator } from './files/aggregate.js';
export {
  type FileProcessingOptions,
  type FileProcessingStats,
  fileProcessingPattern,
  type ProcessFileOptions,
  processFile,
} from './files/file-processing.js';
export {
  type ApiOrchestrationOptions,
  type ApiStep,
  apiOrchestrationPattern,
} from './api/api-orchestration.js';
export { RateLimiter } from './api/rate-limiter.js';
export {
  chunkText,
  classifyAndRoutePattern,
  extractAndValidatePattern,
  groundedness,
  type LlmResourceConfig,
  promptChainPattern,
  type RagOptions,
  ragPattern,
} from './llm/llm-workflows.js';
