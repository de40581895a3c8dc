export { llmFunctions } from './functions.js';
export { llmResource, llmResourceTypes, providerFromConfig, vectorStoreResource } from './resources.js';
export { promptTemplate, type PromptTemplate } from './template.js';
export { InMemoryVectorStore } from './vector/memory-vector-store.js';
export { SqliteVectorStore } from './vector/sqlite-vector-store.js';
export { ConcurrencyLimit, redact } from './shared/errors.js';
export type { ProviderOptions } from './shared/options.js';
export { generateObject, parseJsonAnswer } from './structured.js';
