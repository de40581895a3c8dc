import { describe, expect, it } from 'vitest';
import type { ExecutionResult } from './types.js';
import { SimpleFSM } from './simple-fsm.js';

const config = {
  name: 'batchy',
  states: [
    { name: 'a', is_start: true, transforms: ['work'] },
    { name: 'done', is_end: true },
  ],
  arcs: [{ from: 'a', to: 'done' }],
};

describe('processBatch', () => {
  it('10k records with 1% failing: all others succeed, order and indexes kept', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: async (d: { i: number }) => {
          if (d.i % 100 === 42) throw new Error(`bad record ${d.i}`);
          return { ...d, ok: true };
        },
      },
    });
    const records = Array.from({ length: 10_000 }, (_, i) => ({ i }));
    const batch = await fsm.processBatch(records, { concurrency: 8 });
    expect(batch.total).toBe(10_000);
    expect(batch.failed).toBe(100);
    expect(batch.succeeded).toBe(9_900);
    batch.results.forEach((r, index) => {
      expect(r.itemIndex).toBe(index);
      expect(r.batchId).toBe(batch.batchId);
      expect(r.success).toBe(index % 100 !== 42);
    });
    expect(batch.results[142]?.error?.message).toContain('bad record 142');
  });

  it('bounds concurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: async (d: unknown) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight--;
          return d;
        },
      },
    });
    await fsm.processBatch(
      Array.from({ length: 200 }, (_, i) => ({ i })),
      { concurrency: 3 },
    );
    expect(maxInFlight).toBe(3);
  });

  it('gives functions the batch id and item index through context.batch', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: { work: (d: object, ctx) => ({ ...d, seen: ctx.batch }) },
    });
    const batch = await fsm.processBatch([{}, {}], { batchId: 'b-1' });
    expect(batch.results.map((r) => (r.data as { seen: unknown }).seen)).toEqual([
      { batchId: 'b-1', itemIndex: 0 },
      { batchId: 'b-1', itemIndex: 1 },
    ]);
  });

  it('stopOnError: the first failure stops the batch and says which item', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: (d: { i: number }) => {
          if (d.i === 3) throw new Error('boom');
          return d;
        },
      },
    });
    const batch = await fsm.processBatch(
      Array.from({ length: 20 }, (_, i) => ({ i })),
      { concurrency: 1, stopOnError: true },
    );
    expect(batch.stoppedAt).toBe(3);
    expect(batch.succeeded).toBe(3);
    expect(batch.results).toHaveLength(20);
    expect(batch.results[10]?.error?.message).toContain('item 3 failed');
  });

  it('progress counts add up to the totals', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: { work: (d: { i: number }) => (d.i % 5 === 0 ? Promise.reject(new Error('x')) : d) },
    });
    const seen: Array<{ done: number; succeeded: number; failed: number; total: number }> = [];
    const batch = await fsm.processBatch(
      Array.from({ length: 50 }, (_, i) => ({ i })),
      { concurrency: 4, onProgress: (p) => seen.push(p) },
    );
    expect(seen).toHaveLength(50);
    for (const p of seen) expect(p.succeeded + p.failed).toBe(p.done);
    expect(seen.at(-1)).toMatchObject({
      done: 50,
      succeeded: batch.succeeded,
      failed: batch.failed,
      total: 50,
    });
    expect(batch.failed).toBe(10);
  });

  it('an aborted batch marks records not run as ABORTED', async () => {
    const controller = new AbortController();
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: async (d: { i: number }) => {
          if (d.i === 5) controller.abort(new Error('stop'));
          await new Promise((r) => setImmediate(r));
          return d;
        },
      },
    });
    const batch = await fsm.processBatch(
      Array.from({ length: 100 }, (_, i) => ({ i })),
      { concurrency: 2, signal: controller.signal },
    );
    expect(batch.results).toHaveLength(100);
    expect(batch.results[99]?.error?.code).toBe('ABORTED');
    expect(batch.succeeded).toBeLessThan(100);
  });
});

describe('processStream', () => {
  it('yields results in input order by default', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: async (d: { i: number }) => new Promise((r) => setTimeout(() => r(d), (10 - d.i) * 2)),
      },
    });
    const out: number[] = [];
    for await (const r of fsm.processStream(
      Array.from({ length: 10 }, (_, i) => ({ i })),
      { concurrency: 5 },
    ))
      out.push((r.data as { i: number }).i);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('ordered: false yields in completion order', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: async (d: { i: number }) => new Promise((r) => setTimeout(() => r(d), d.i === 0 ? 50 : 1)),
      },
    });
    const out: number[] = [];
    for await (const r of fsm.processStream([{ i: 0 }, { i: 1 }, { i: 2 }], {
      concurrency: 3,
      ordered: false,
    })) {
      out.push((r.data as { i: number }).i);
    }
    expect(out[out.length - 1]).toBe(0);
    expect(out.sort()).toEqual([0, 1, 2]);
  });

  it('never reads more than highWaterMark records ahead of a slow consumer (backpressure)', async () => {
    let read = 0;
    async function* source() {
      for (let i = 0; i < 200; i++) {
        read++;
        yield { i };
      }
    }
    const fsm = await SimpleFSM.create(config, { functions: { work: (d: unknown) => d } });
    const stream = fsm.processStream(source(), { highWaterMark: 8, concurrency: 4, chunkSize: 4 });
    let taken = 0;
    let maxLead = 0;
    for await (const _ of stream) {
      taken++;
      maxLead = Math.max(maxLead, read - taken);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(taken).toBe(200);
    expect(maxLead).toBeLessThanOrEqual(8);
    expect(stream.stats).toMatchObject({ records: 200, succeeded: 200, errors: 0, chunks: 50 });
    expect(stream.stats.maxReadAhead).toBeLessThanOrEqual(8);
  });

  it('1M generated records stream through with bounded heap growth', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: { work: (d: { i: number }) => ({ i: d.i, v: d.i * 2 }) },
    });
    function* source() {
      for (let i = 0; i < 1_000_000; i++) yield { i };
    }
    // Live heap (after a full GC) is what a leak would grow; garbage awaiting collection is not.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run vitest with --expose-gc (the root config passes it)');
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let count = 0;
    for await (const r of fsm.processStream(source(), { concurrency: 16, chunkSize: 256 })) {
      if (r.success) count++;
      if (count % 200_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(count).toBe(1_000_000);
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  }, 120_000);

  it('collects errors in stats and keeps going', async () => {
    const fsm = await SimpleFSM.create(config, {
      functions: {
        work: (d: { i: number }) => {
          if (d.i % 2) throw new Error('odd');
          return d;
        },
      },
    });
    const results: ExecutionResult[] = [];
    const stream = fsm.processStream([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
    for await (const r of stream) results.push(r);
    expect(results.map((r) => r.success)).toEqual([true, false, true, false]);
    expect(stream.stats.errors).toBe(2);
  });

  it('stops with ABORTED when its signal aborts', async () => {
    const controller = new AbortController();
    const fsm = await SimpleFSM.create(config, { functions: { work: (d: unknown) => d } });
    async function* endless() {
      for (let i = 0; ; i++) yield { i };
    }
    let taken = 0;
    await expect(
      (async () => {
        for await (const _ of fsm.processStream(endless(), { signal: controller.signal })) {
          if (++taken === 10) controller.abort(new Error('enough'));
        }
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(taken).toBeGreaterThanOrEqual(10);
  });
});

describe('per-record timeouts in batches and streams', () => {
  const slow = {
    work: (d: { i: number }, ctx: { signal: AbortSignal }) =>
      d.i === 1
        ? new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
          )
        : d,
  };

  it('recordTimeoutMs stops only the slow record of a batch', async () => {
    const fsm = await SimpleFSM.create(config, { functions: slow });
    const batch = await fsm.processBatch([{ i: 0 }, { i: 1 }, { i: 2 }], { recordTimeoutMs: 20 });
    expect(batch.results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'TIMEOUT', 'ok']);
  });

  it('recordTimeoutMs applies to stream records too', async () => {
    const fsm = await SimpleFSM.create(config, { functions: slow });
    const codes: string[] = [];
    for await (const r of fsm.processStream([{ i: 0 }, { i: 1 }], { recordTimeoutMs: 20 }))
      codes.push(r.error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'TIMEOUT']);
  });
});
