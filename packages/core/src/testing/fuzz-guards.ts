import { afterEach, expect } from 'vitest';
import { FsmError } from '../errors/fsm-error.js';

/** Cases per fuzz property: `FSM_FUZZ_RUNS` (CI's default 200; `pnpm fuzz` runs 10 000). */
export const FUZZ_RUNS = Number(process.env.FSM_FUZZ_RUNS ?? 200);
/** Per case: a hang fails the case instead of the whole suite. */
export const FUZZ_CASE_TIMEOUT_MS = 10_000;

/**
 * What fuzz properties of records and configs check after every case: `Object.prototype` is exactly as it
 * was before any case ran. Call once at the top of a fuzz test file: it also cleans the prototype after each
 * test, so a failed case does not make later tests fail for it.
 */
export function guardObjectPrototype(): { expectUntouched(): void } {
  const names = Object.getOwnPropertyNames(Object.prototype).sort();
  afterEach(() => {
    for (const name of Object.getOwnPropertyNames(Object.prototype))
      if (!names.includes(name)) delete (Object.prototype as Record<string, unknown>)[name];
  });
  return {
    expectUntouched() {
      expect(Object.keys(Object.prototype)).toEqual([]);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(names);
    },
  };
}

/** An error that escapes must be an FsmError with a code (`code` given: that code). */
export function expectFsmError(error: unknown, code?: string): void {
  if (!FsmError.is(error)) throw new Error(`an untyped error escaped: ${String(error)}`, { cause: error });
  if (code === undefined) expect(typeof (error as FsmError).code).toBe('string');
  else expect((error as FsmError).code).toBe(code);
}
