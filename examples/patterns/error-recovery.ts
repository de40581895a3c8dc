// Error recovery: a flaky quote service behind retry, a circuit breaker, a bulkhead and a fallback.
import { errorRecoveryPattern } from '@fsm/patterns';

export async function quotes(fetchQuote: (sku: string) => Promise<number>, skus: string[]) {
  const { create, policy } = errorRecoveryPattern({
    name: 'quotes',
    call: async (record) => ({ price: await fetchQuote(String(record.sku)) }),
    recovery: {
      retry: { maxRetries: 2, backoff: 'exponential', initialDelayMs: 5 },
      circuitBreaker: { threshold: 5, resetMs: 10_000 },
      bulkhead: { maxConcurrent: 4, maxQueue: 100, queueTimeoutMs: 5_000 },
      timeoutMs: 1_000,
      fallback: () => ({ price: null, stale: true }),
    },
  });
  const fsm = await create();
  try {
    const batch = await fsm.processBatch(skus.map((sku) => ({ sku })));
    return { results: batch.results, metrics: policy.metrics() };
  } finally {
    await fsm.close();
  }
}
