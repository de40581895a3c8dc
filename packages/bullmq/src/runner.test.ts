import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExecutionResult } from '@fsm/core';
import { type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config, functions } from '../test/shared-config.mjs';
import { createQueueRunner, type QueueRunner } from './index.js';

const REDIS = 'redis://127.0.0.1:6379';
const runners: QueueRunner[] = [];
let counter = 0;
const queueName = (label: string) => `t-${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

beforeAll(async () => {
  const probe = new Redis(REDIS, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1 });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new Error(
      `Redis is not answering on 127.0.0.1:6379 (${(error as Error).message}). Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`,
    );
  } finally {
    probe.disconnect();
  }
});

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

function runner(label: string, options: Partial<Parameters<typeof createQueueRunner>[0]> = {}): QueueRunner {
  const r = createQueueRunner({ connection: REDIS, queue: queueName(label), config, functions, ...options });
  runners.push(r);
  return r;
}

async function collect(r: QueueRunner, batchId: string): Promise<ExecutionResult[]> {
  const out: ExecutionResult[] = [];
  for await (const result of r.results(batchId, { signal: AbortSignal.timeout(60_000) })) out.push(result);
  return out;
}

describe('QueueRunner in one process', () => {
  it('runs every submitted record once and reports the batch status', async () => {
    const r = runner('basic');
    r.worker({ concurrency: 8 });
    const { batchId, accepted } = await r.submit(Array.from({ length: 200 }, (_, n) => ({ n })));
    expect(accepted).toBe(200);
    const results = await collect(r, batchId);
    expect(results).toHaveLength(200);
    expect(new Set(results.map((x) => x.itemIndex)).size).toBe(200);
    expect(
      results.every(
        (x) => x.success && (x.data as { doubled: number }).doubled === (x.data as { n: number }).n * 2,
      ),
    ).toBe(true);
    expect(await r.status(batchId)).toMatchObject({ total: 200, succeeded: 200, failed: 0, pending: 0 });
    const metrics = await r.metrics();
    expect(metrics.throughputPerSec).toBeGreaterThan(0);
    expect(metrics.counts).toHaveProperty('waiting');
  });

  it('an idempotency key submitted twice runs the record once', async () => {
    const r = runner('idem');
    const first = await r.submit({ n: 1 }, { idempotencyKey: 'order-1', batchId: 'b-idem' });
    const second = await r.submit({ n: 1 }, { idempotencyKey: 'order-1', batchId: 'b-idem' });
    expect([first.accepted, second.accepted]).toEqual([1, 0]);
    r.worker();
    expect(await collect(r, 'b-idem')).toHaveLength(1);
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    const attempts = new Map<number, number>();
    const r = runner('retry', {
      retry: { attempts: 3, backoff: { type: 'fixed', delay: 20 } },
      functions: {
        work: (d: { n: number }) => {
          const seen = (attempts.get(d.n) ?? 0) + 1;
          attempts.set(d.n, seen);
          if (seen < 3) throw new Error(`flaky ${seen}`);
          return { ...d, ok: true };
        },
      },
    });
    r.worker();
    const { batchId } = await r.submit([{ n: 1 }, { n: 2 }]);
    const results = await collect(r, batchId);
    expect(results.every((x) => x.success)).toBe(true);
    expect([...attempts.values()]).toEqual([3, 3]);
  });

  it('sends records that exhaust their retries to the dead-letter queue with the error', async () => {
    const r = runner('dlq', {
      retry: { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
      functions: {
        work: () => {
          throw new Error('service down');
        },
      },
    });
    r.worker();
    const { batchId } = await r.submit([{ n: 7 }]);
    const [result] = await collect(r, batchId);
    expect(result?.success).toBe(false);
    expect(result?.error?.message).toContain('service down');
    expect(await r.status(batchId)).toMatchObject({ failed: 1, deadLettered: 1 });
    const dead = await r.deadLettered();
    expect(dead).toEqual([{ record: { n: 7 }, batchId, error: expect.stringContaining('service down') }]);
  });

  it('does not retry a record that failed for good (validation)', async () => {
    let calls = 0;
    const r = runner('final', {
      retry: { attempts: 5 },
      config: {
        name: 'v',
        states: [
          { name: 's', is_start: true, schema: { type: 'object', required: ['id'] }, transforms: ['count'] },
          { name: 'e', is_end: true },
        ],
        arcs: [{ from: 's', to: 'e' }],
      },
      functions: {
        count: (d: unknown) => {
          calls++;
          return d;
        },
      },
    });
    r.worker();
    const { batchId } = await r.submit([{ nope: 1 }]);
    const [result] = await collect(r, batchId);
    expect(result?.error?.code).toBe('VALIDATION_FAILED');
    expect(calls).toBe(0);
    expect((await r.status(batchId)).deadLettered).toBe(0);
  });

  it('cancel removes the records that have not started', async () => {
    const r = runner('cancel');
    const { batchId } = await r.submit(
      Array.from({ length: 50 }, (_, n) => ({ n })),
      { delay: 60_000 },
    );
    expect(await r.cancel(batchId)).toBe(50);
    expect(await r.status(batchId)).toMatchObject({ total: 50, cancelled: 50, pending: 0 });
    expect(await collect(r, batchId)).toEqual([]);
  });

  it('emits a span per record and per state when an OpenTelemetry SDK is registered', async () => {
    const ended: Array<{ name: string; parent: boolean }> = [];
    const fakeSpan = (name: string, parent: boolean): Span => {
      const span = {
        spanContext: () => ({ traceId: '0'.repeat(32), spanId: '1'.repeat(16), traceFlags: 1 }),
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: () => span,
        updateName: () => span,
        end: () => {
          ended.push({ name, parent });
        },
        isRecording: () => true,
        recordException: () => undefined,
      } as Span;
      return span;
    };
    const tracer = {
      startSpan: (name: string, _o: unknown, ctx?: unknown) => fakeSpan(name, ctx !== undefined),
    } as unknown as Tracer;
    const provider: TracerProvider = { getTracer: () => tracer };
    trace.setGlobalTracerProvider(provider);
    try {
      const r = runner('otel', { fsmOptions: { history: true } });
      r.worker();
      const { batchId } = await r.submit([{ n: 1 }]);
      await collect(r, batchId);
      // Core's span names (emitHistorySpans): the same tree as an in-process run.
      expect(ended.map((s) => s.name)).toEqual([
        'fsm.state main.start',
        'fsm.state main.done',
        'fsm.execution scale_out',
      ]);
      expect(ended.filter((s) => s.name.startsWith('fsm.state')).every((s) => s.parent)).toBe(true);
    } finally {
      trace.disable();
    }
  });
});

describe('QueueRunner across worker processes', () => {
  const script = fileURLToPath(new URL('../test/worker-process.mjs', import.meta.url));
  const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  const startWorker = (queue: string): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      if (!existsSync(built)) reject(new Error('packages/bullmq/dist is missing: run pnpm build first'));
      // A clean execArgv: the worker runs the built packages, not vitest's source condition.
      const child = fork(script, [queue, '8'], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.once('message', () => resolve(child));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`worker process exited early with code ${code}`)));
    });

  it('10k records over 2 worker processes all finish exactly once', async () => {
    const r = runner('multi');
    const queue = (r as unknown as { options: { queue: string } }).options.queue;
    const workers = await Promise.all([startWorker(queue), startWorker(queue)]);
    try {
      const { batchId } = await r.submit(Array.from({ length: 10_000 }, (_, n) => ({ n })));
      const results = await collect(r, batchId);
      expect(results).toHaveLength(10_000);
      expect(new Set(results.map((x) => x.itemIndex)).size).toBe(10_000);
      const pids = new Set(results.map((x) => (x.data as { pid: number }).pid));
      expect(pids.size).toBe(2);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
  }, 120_000);

  it('a worker killed with SIGKILL mid-run: every record still finishes exactly once', async () => {
    const r = runner('kill');
    const queue = (r as unknown as { options: { queue: string } }).options.queue;
    const [victim, survivor] = await Promise.all([startWorker(queue), startWorker(queue)]);
    try {
      const { batchId } = await r.submit(Array.from({ length: 2_000 }, (_, n) => ({ n, delayMs: 2 })));
      let seen = 0;
      const results: ExecutionResult[] = [];
      for await (const result of r.results(batchId, { signal: AbortSignal.timeout(90_000) })) {
        results.push(result);
        if (++seen === 300) victim?.kill('SIGKILL');
      }
      expect(results).toHaveLength(2_000);
      expect(new Set(results.map((x) => x.itemIndex)).size).toBe(2_000);
      expect(results.every((x) => x.success)).toBe(true);
      expect(await r.status(batchId)).toMatchObject({ succeeded: 2_000, pending: 0 });
    } finally {
      survivor?.kill('SIGTERM');
      victim?.kill('SIGKILL');
    }
  }, 120_000);
});

describe('per-step checkpoints in a real store', () => {
  it('a worker killed mid-record: its records resume on the other worker from their last step', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Redis } = await import('ioredis');
    const dir = mkdtempSync(join(tmpdir(), 'fsm-bullmq-cp-'));
    const storageUrl = `sqlite:${join(dir, 'checkpoints.db')}`;
    const script = fileURLToPath(new URL('../test/long-worker-process.mjs', import.meta.url));
    const { longConfig, longFunctions, closeLog } = await import('../test/long-config.mjs');
    const r = runner('checkpoints', { config: longConfig, functions: longFunctions });
    const queue = (r as unknown as { options: { queue: string } }).options.queue;
    const log = `${queue}:steps`;
    const start = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = fork(script, [queue, storageUrl], {
          execArgv: [],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        child.once('message', () => resolve(child));
        child.once('error', reject);
      });
    const victim = await start();
    const survivor = await start();
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      const { batchId } = await r.submit(Array.from({ length: 60 }, (_, n) => ({ n, stepMs: 30, log })));
      const results: ExecutionResult[] = [];
      for await (const result of r.results(batchId, { signal: AbortSignal.timeout(60_000) })) {
        results.push(result);
        if (results.length === 10) victim.kill('SIGKILL');
      }
      expect(new Set(results.map((x) => x.itemIndex)).size).toBe(60);
      expect(results.every((x) => x.success && (x.data as { steps: number }).steps === 6)).toBe(true);
      const entries = await redis.lrange(log, 0, -1);
      const perRecord = new Map<string, Map<string, number>>();
      for (const entry of entries) {
        const [n = '', state = ''] = entry.split(':');
        const counts = perRecord.get(n) ?? new Map<string, number>();
        counts.set(state, (counts.get(state) ?? 0) + 1);
        perRecord.set(n, counts);
      }
      // At most the one step in flight per record (4 per killed worker) ran twice; no record started over.
      const repeatedSteps = [...perRecord.values()].map(
        (counts) => [...counts.values()].filter((c) => c > 1).length,
      );
      expect(Math.max(...repeatedSteps)).toBeLessThanOrEqual(1);
      expect(entries.length).toBeLessThanOrEqual(60 * 6 + 4);
      expect(entries.length).toBeGreaterThanOrEqual(60 * 6);
    } finally {
      survivor.kill('SIGTERM');
      victim.kill('SIGKILL');
      await redis.del(log);
      await redis.quit();
      await closeLog();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
