import type { FunctionContext } from '../types.js';

const noop = (): void => undefined;

/** A FunctionContext for calling resolved functions directly in tests: no resources, a silent logger. */
export const testContext: FunctionContext = {
  state: 's',
  network: 'main',
  executionId: 'e',
  params: {},
  resources: { get: () => undefined as never, has: () => false },
  signal: new AbortController().signal,
  batch: undefined,
  logger: { debug: noop, info: noop, warn: noop, error: noop },
  lastError: undefined,
  variables: {},
};
