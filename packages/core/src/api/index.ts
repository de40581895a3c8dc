export { BaseFsm, SimpleFSM, prepareFsm, nextExecutionId } from './simple-fsm.js';
export type { PreparedFsm } from './simple-fsm.js';
export { AdvancedFSM, FsmExecution } from './advanced-fsm.js';
export type {
  AdvancedHooks,
  AdvancedOptions,
  ExecutionProfile,
  StepOutcome,
  TraceEntry,
} from './advanced-fsm.js';
export { defineFsm, FsmBuilder, NetworkBuilder } from './builder.js';
export type { ArcSpec, ResourceSpec, StateSpec } from './builder.js';
export { runBatch } from './batch.js';
export type { BatchOptions, BatchProgress, BatchResult } from './batch.js';
export { runStream } from './stream.js';
export type { ResultStream, StreamOptions, StreamStats } from './stream.js';
export { planToDot, planToMermaid } from './graph.js';
