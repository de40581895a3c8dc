export * as batch from './workloads/batch.js';
export * as branching from './workloads/branching.js';
export * as pipeline from './workloads/pipeline.js';
