import type { FunctionContext } from '@fsm/core';
import { type PatternFsm, pattern } from '../pattern.js';
import { type RecoveryOptions, RecoveryPolicy } from './recovery-policy.js';

export interface ErrorRecoveryOptions {
  name?: string;
  /** The unreliable operation (an API call, a query); gets the record and a signal that honours the timeout. */
  call: (data: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;
  /** Field the call's result goes to (default `result`). */
  target?: string;
  recovery: RecoveryOptions;
}

/**
 * The error-recovery pattern: one state calls the operation under retry / circuit breaker / bulkhead /
 * timeout / fallback; a record whose result came from the fallback ends in `degraded`, others in `done`;
 * a record that failed for good fails at `call` with the typed error (`CIRCUIT_OPEN`, `BULKHEAD_FULL`, …).
 */
export function errorRecoveryPattern(options: ErrorRecoveryOptions): PatternFsm & { policy: RecoveryPolicy } {
  const target = options.target ?? 'result';
  const policy = new RecoveryPolicy({
    ...options.recovery,
    name: options.name ?? 'call',
    ...(options.recovery.fallback
      ? { fallback: (error: unknown) => ({ __fallback: options.recovery.fallback?.(error) }) }
      : {}),
  });
  const config = {
    name: options.name ?? 'error_recovery',
    states: [
      {
        name: 'call',
        is_start: true,
        transforms: ['recovered_call'],
        arcs: [{ target: 'degraded', condition: 'used_fallback', priority: 1 }, { target: 'done' }],
      },
      { name: 'done', is_end: true },
      { name: 'degraded', is_end: true },
    ],
  };
  const functions = {
    recovered_call: async (data: Record<string, unknown>, ctx: FunctionContext) => {
      const value = await policy.execute((signal) => options.call(data, signal), ctx.signal);
      const fromFallback = typeof value === 'object' && value !== null && '__fallback' in value;
      return {
        ...data,
        [target]: fromFallback ? (value as { __fallback: unknown }).__fallback : value,
        ...(fromFallback ? { degraded: true } : {}),
      };
    },
    used_fallback: (data: { degraded?: boolean }) => data.degraded === true,
  };
  return { ...pattern(config, functions), policy };
}
