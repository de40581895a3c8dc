import { CircuitBreakerError, FsmError } from '@fsm/core';
import {
  CircuitState,
  ConsecutiveBreaker,
  ConstantBackoff,
  circuitBreaker,
  ExponentialBackoff,
  fullJitterGenerator,
  noop,
  handleWhen,
  type IPolicy,
  isBrokenCircuitError,
  isTaskCancelledError,
  noJitterGenerator,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { Bulkhead } from './bulkhead.js';

export interface RetryOptions {
  /** Attempts after the first (default 3). */
  maxRetries?: number;
  backoff?: 'fixed' | 'exponential';
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Full jitter on exponential backoff (default true). */
  jitter?: boolean;
  /** Which errors are retried (default: all but circuit-open, bulkhead-full and aborts). */
  retryOn?: (error: unknown) => boolean;
}

export interface RecoveryOptions {
  name?: string;
  retry?: RetryOptions;
  /** Opens after `threshold` consecutive failures; lets one trial call through after `resetMs`. */
  circuitBreaker?: { threshold: number; resetMs: number };
  bulkhead?: { maxConcurrent: number; maxQueue?: number; queueTimeoutMs?: number };
  /** Per attempt; the signal given to the call is aborted when it passes. */
  timeoutMs?: number;
  /** Value (or function of the error) used when everything else failed. */
  fallback?: (error: unknown) => unknown;
}

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface RecoveryMetrics {
  calls: number;
  successes: number;
  failures: number;
  retries: number;
  fallbacks: number;
  circuitRejections: number;
  bulkheadRejections: number;
  lastSuccessMs: number | undefined;
  totalSuccessMs: number;
  lastFailureMs: number | undefined;
  totalFailureMs: number;
  circuit: CircuitStatus;
}

const STATUS: Record<CircuitState, CircuitStatus> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

const notRetryable = (error: unknown) =>
  FsmError.is(error) &&
  ['CIRCUIT_OPEN', 'BULKHEAD_FULL', 'ABORTED', 'VALIDATION_FAILED'].includes(error.code);

/**
 * Retry, circuit breaker, bulkhead, timeout and fallback around one call, composed with cockatiel
 * (bulkhead ours: it needs a queue timeout). Failures keep their type: an open circuit is a
 * `CircuitBreakerError` with `retryAfterMs`, a full bulkhead a `BulkheadTimeoutError`.
 */
export class RecoveryPolicy {
  readonly name: string;
  private readonly policy: IPolicy;
  private readonly bulkhead: Bulkhead | undefined;
  private readonly breaker: ReturnType<typeof circuitBreaker> | undefined;
  private openedAt = 0;
  private readonly counts = {
    calls: 0,
    successes: 0,
    failures: 0,
    retries: 0,
    fallbacks: 0,
    circuitRejections: 0,
    lastSuccessMs: undefined as number | undefined,
    totalSuccessMs: 0,
    lastFailureMs: undefined as number | undefined,
    totalFailureMs: 0,
  };

  constructor(private readonly options: RecoveryOptions = {}) {
    this.name = options.name ?? 'call';
    const policies: IPolicy[] = [];
    if (options.retry) {
      const r = options.retry;
      const backoff =
        r.backoff === 'fixed'
          ? new ConstantBackoff(r.initialDelayMs ?? 100)
          : new ExponentialBackoff({
              initialDelay: r.initialDelayMs ?? 100,
              maxDelay: r.maxDelayMs ?? 30_000,
              generator: r.jitter === false ? noJitterGenerator : fullJitterGenerator,
            });
      const which = handleWhen((error) => !notRetryable(error) && (r.retryOn ? r.retryOn(error) : true));
      const retryPolicy = retry(which, { maxAttempts: r.maxRetries ?? 3, backoff });
      retryPolicy.onRetry(() => {
        this.counts.retries++;
      });
      policies.push(retryPolicy);
    }
    if (options.circuitBreaker) {
      const cb = options.circuitBreaker;
      this.breaker = circuitBreaker(
        handleWhen((error) => !notRetryable(error)),
        {
          halfOpenAfter: cb.resetMs,
          breaker: new ConsecutiveBreaker(cb.threshold),
        },
      );
      this.breaker.onBreak(() => {
        this.openedAt = Date.now();
      });
      policies.push(this.breaker);
    }
    if (options.timeoutMs !== undefined)
      policies.push(timeout(options.timeoutMs, TimeoutStrategy.Aggressive));
    this.policy = policies.length > 0 ? wrap(...policies) : noop;
    if (options.bulkhead) {
      const b = options.bulkhead;
      this.bulkhead = new Bulkhead(this.name, b.maxConcurrent, b.maxQueue ?? 0, b.queueTimeoutMs ?? 0);
    }
  }

  /** cockatiel moves to half-open lazily, on the next call; report it as soon as a trial would be let through. */
  get circuit(): CircuitStatus {
    if (!this.breaker) return 'closed';
    const status = STATUS[this.breaker.state];
    const reset = this.options.circuitBreaker?.resetMs ?? 0;
    return status === 'open' &&
      this.breaker.state === CircuitState.Open &&
      Date.now() - this.openedAt >= reset
      ? 'half-open'
      : status;
  }

  /** Runs `call` under the policies; `signal` is aborted on the call's timeout or the caller's abort. */
  async execute<T>(call: (signal: AbortSignal) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    this.counts.calls++;
    const started = performance.now();
    const attempt = () => this.policy.execute(({ signal: inner }) => call(inner), signal) as Promise<T>;
    try {
      const value = await (this.bulkhead ? this.bulkhead.run(attempt) : attempt());
      const ms = performance.now() - started;
      this.counts.successes++;
      this.counts.lastSuccessMs = ms;
      this.counts.totalSuccessMs += ms;
      return value;
    } catch (raw) {
      const ms = performance.now() - started;
      this.counts.failures++;
      this.counts.lastFailureMs = ms;
      this.counts.totalFailureMs += ms;
      const error = this.translate(raw);
      if (this.options.fallback) {
        this.counts.fallbacks++;
        return this.options.fallback(error) as T;
      }
      throw error;
    }
  }

  metrics(): RecoveryMetrics {
    return { ...this.counts, bulkheadRejections: this.bulkhead?.rejected ?? 0, circuit: this.circuit };
  }

  private translate(error: unknown): unknown {
    if (isBrokenCircuitError(error)) {
      this.counts.circuitRejections++;
      const reset = this.options.circuitBreaker?.resetMs ?? 0;
      const retryAfterMs = Math.max(0, this.openedAt + reset - Date.now());
      return new CircuitBreakerError(
        `circuit "${this.name}" is open; retry in ${retryAfterMs} ms`,
        retryAfterMs,
        { cause: error },
      );
    }
    if (isTaskCancelledError(error)) {
      return new FsmError('TIMEOUT', `"${this.name}" timed out after ${this.options.timeoutMs} ms`, {
        cause: error,
      });
    }
    return error;
  }
}
