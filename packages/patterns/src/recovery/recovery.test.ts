import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorRecoveryPattern } from './error-recovery.js';
import { RecoveryPolicy } from './recovery-policy.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RecoveryPolicy', () => {
  it('retries with exponential backoff, counts retries, and keeps success/failure timings', async () => {
    let calls = 0;
    const policy = new RecoveryPolicy({ retry: { maxRetries: 3, initialDelayMs: 1, jitter: false } });
    const value = await policy.execute(async () => {
      if (++calls < 3) throw new Error('flaky');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(policy.metrics()).toMatchObject({ calls: 1, successes: 1, retries: 2, failures: 0 });
    expect(policy.metrics().lastSuccessMs).toBeGreaterThan(0);
    await expect(policy.execute(async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(policy.metrics()).toMatchObject({ failures: 1, retries: 5 });
    expect(policy.metrics().totalFailureMs).toBeGreaterThan(0);
  });

  it('retryOn decides which errors are retried', async () => {
    let calls = 0;
    const policy = new RecoveryPolicy({
      retry: { maxRetries: 5, initialDelayMs: 1, retryOn: (e) => (e as Error).message === 'transient' },
    });
    await expect(
      policy.execute(async () => {
        calls++;
        throw new Error('permanent');
      }),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);
  });

  it('circuit breaker: closed → open after the threshold → half-open after resetMs → closed on success (exact times)', async () => {
    vi.useFakeTimers({ now: 0 });
    const policy = new RecoveryPolicy({ name: 'payments', circuitBreaker: { threshold: 3, resetMs: 1000 } });
    const fail = () => policy.execute(async () => Promise.reject(new Error('500')));
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow('500');
    expect(policy.circuit).toBe('open');
    vi.setSystemTime(400);
    await expect(policy.execute(async () => 'x')).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryAfterMs: 600,
    });
    vi.setSystemTime(999);
    await expect(policy.execute(async () => 'x')).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryAfterMs: 1,
    });
    vi.setSystemTime(1000);
    expect(policy.circuit).toBe('half-open');
    expect(await policy.execute(async () => 'recovered')).toBe('recovered');
    expect(policy.circuit).toBe('closed');
    expect(policy.metrics().circuitRejections).toBe(2);
  });

  it('a failed trial in half-open opens the circuit again', async () => {
    vi.useFakeTimers({ now: 0 });
    const policy = new RecoveryPolicy({ circuitBreaker: { threshold: 1, resetMs: 100 } });
    await expect(policy.execute(async () => Promise.reject(new Error('a')))).rejects.toThrow('a');
    vi.setSystemTime(100);
    await expect(policy.execute(async () => Promise.reject(new Error('b')))).rejects.toThrow('b');
    expect(policy.circuit).toBe('open');
    vi.setSystemTime(150);
    await expect(policy.execute(async () => 'x')).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryAfterMs: 50,
    });
  });

  it('bulkhead: 2 running, 1 queued, the 4th is rejected at once; a queued call times out', async () => {
    const policy = new RecoveryPolicy({
      name: 'api',
      bulkhead: { maxConcurrent: 2, maxQueue: 1, queueTimeoutMs: 30 },
    });
    const gates: (() => void)[] = [];
    const slow = () =>
      policy.execute(() => new Promise<string>((resolve) => gates.push(() => resolve('done'))));
    const first = slow();
    const second = slow();
    const third = slow();
    await expect(slow()).rejects.toMatchObject({
      code: 'BULKHEAD_FULL',
      message: expect.stringContaining('full'),
    });
    await expect(third).rejects.toMatchObject({
      code: 'BULKHEAD_FULL',
      message: expect.stringContaining('waited 30 ms'),
    });
    for (const open of gates) open();
    expect(await Promise.all([first, second])).toEqual(['done', 'done']);
    expect(policy.metrics().bulkheadRejections).toBe(2);
  });

  it('a timeout aborts the call and fails with TIMEOUT; fallback replaces a final failure', async () => {
    let aborted = false;
    const policy = new RecoveryPolicy({ timeoutMs: 20 });
    await expect(
      policy.execute(
        (signal) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
            setTimeout(resolve, 1000);
          }),
      ),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(aborted).toBe(true);
    const withFallback = new RecoveryPolicy({ fallback: (e) => `cached (${(e as Error).message})` });
    expect(await withFallback.execute(async () => Promise.reject(new Error('down')))).toBe('cached (down)');
    expect(withFallback.metrics().fallbacks).toBe(1);
  });
});

describe('errorRecoveryPattern', () => {
  it('routes fallback results to degraded, real results to done, and fails with the typed error otherwise', async () => {
    let up = true;
    const { create, policy } = errorRecoveryPattern({
      name: 'quotes',
      call: async (data) => {
        if (!up) throw new Error('quote service down');
        return { price: Number(data.qty) * 2 };
      },
      recovery: {
        retry: { maxRetries: 1, initialDelayMs: 1 },
        fallback: () => ({ price: null, stale: true }),
      },
    });
    const fsm = await create();
    const ok = await fsm.process({ qty: 3 });
    expect(ok).toMatchObject({ success: true, finalState: 'done', data: { result: { price: 6 } } });
    up = false;
    const degraded = await fsm.process({ qty: 3 });
    expect(degraded).toMatchObject({
      success: true,
      finalState: 'degraded',
      data: { result: { stale: true }, degraded: true },
    });
    expect(policy.metrics()).toMatchObject({ successes: 1, failures: 1, fallbacks: 1, retries: 1 });
    await fsm.close();
  });
});
