// Conformance suites every backend and provider package runs (see docs/extending.md).
export * from './history-store-suite.js';
export * from './flow-summary-suite.js';
export * from './resource-provider-suite.js';
export * from './stream-suites.js';
export * from './llm-provider-suite.js';
export * from './fuzz-guards.js';
