import type { ExecutionResult } from '../api/types.js';
import { MisuseError } from '../errors/errors.js';
import { onAbort } from '../util/abort-hub.js';
import { type Execution, PAUSED } from './execution.js';

/**
 * Runs an execution to its end (or to a pause), awaiting only the promises it hands out. When
 * `signal` aborts, the run stops at once (the pending function is abandoned, its signal aborted) and
 * resources are released before the result is returned.
 */
export async function drive(
  execution: Execution,
  signal?: AbortSignal,
): Promise<ExecutionResult | typeof PAUSED> {
  let pending = execution.advance();
  while (pending !== undefined) {
    if (pending === PAUSED) return PAUSED;
    if (signal?.aborted) {
      abandon(pending, execution);
      stopFor(execution, signal);
    } else {
      try {
        execution.resolve(signal ? await raceAbort(pending, signal) : await pending);
      } catch (error) {
        if (error === ABORTED_MARK) {
          abandon(pending, execution);
          stopFor(execution, signal as AbortSignal);
        } else execution.reject(error);
      }
    }
    pending = execution.advance();
  }
  return execution.result as ExecutionResult;
}

/** Runs an execution with no await at all; throws MisuseError if anything turns out to be async. */
export function driveSync(execution: Execution): ExecutionResult {
  const pending = execution.advance();
  if (pending !== undefined) {
    if (pending !== PAUSED) {
      abandon(pending, execution);
      throw new MisuseError(
        `processSync: state "${execution.state.name}" ran a function that returned a promise; use process() for async functions`,
      );
    }
    throw new MisuseError('processSync cannot pause at breakpoints; use AdvancedFSM executions');
  }
  return execution.result as ExecutionResult;
}

const ABORTED_MARK = Symbol('aborted');

/** The pending promise, or ABORTED_MARK once `signal` aborts; through the signal's shared hub, not a listener each. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, () => reject(ABORTED_MARK));
    promise.then(
      (value) => {
        off();
        resolve(value);
      },
      (error: unknown) => {
        off();
        reject(error);
      },
    );
  });
}

function stopFor(execution: Execution, signal: AbortSignal): void {
  const reason: unknown = signal.reason;
  const isTimeout = reason instanceof DOMException && reason.name === 'TimeoutError';
  const state = execution.state.name;
  execution.stop(
    isTimeout ? 'TIMEOUT' : 'ABORTED',
    isTimeout
      ? `timed out in state "${state}"`
      : `aborted in state "${state}"${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`,
  );
}

/** A promise the run no longer waits for: its late outcome is logged, never unhandled. */
function abandon(pending: unknown, execution: Execution): void {
  if (pending instanceof Promise) {
    pending.then(
      () =>
        execution.env.logger.debug('abandoned function settled after the run stopped', {
          executionId: execution.id,
        }),
      (error: unknown) =>
        execution.env.logger.debug('abandoned function failed after the run stopped', {
          executionId: execution.id,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  }
}
