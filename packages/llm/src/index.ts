import type { BuiltinFunction } from '@fsm/core';
import { dataknobsLlmFunctions } from './dataknobs-functions.js';
import { llmFunctions as ours } from './functions.js';

/** The LLM builtins: ours, and dataknobs' LLM functions by their names (llm.LLMCaller, llm.build_prompt, ...). */
export const llmFunctions: readonly BuiltinFunction[] = [...ours, ...dataknobsLlmFunctions];
export { llmResource, llmResourceTypes, providerFromConfig, vectorStoreResource } from './resources.js';
export { promptTemplate, type PromptTemplate } from './template.js';
export { InMemoryVectorStore } from './vector/memory-vector-store.js';
export { SqliteVectorStore } from './vector/sqlite-vector-store.js';
export { ConcurrencyLimit, redact } from './shared/errors.js';
export type { ProviderOptions } from './shared/options.js';
export { generateObject, parseJsonAnswer } from './structured.js';
