export { QueueRunner, createQueueRunner } from './runner.js';
export type {
  QueueMetrics,
  QueueRunnerOptions,
  RedisConnection,
  RetryPolicy,
  WorkerHandle,
} from './runner.js';
export { emitRecordSpans } from './tracing.js';
