import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM, type StreamSink } from '@fsm/core';
import { openReader, openWriter } from '@fsm/io';
import { afterAll, describe, expect, it } from 'vitest';
import { FileOffsetStore, MemoryOffsetStore } from './offset-stores.js';
import { runStreamJob } from './stream-job.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-streaming-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = {
  name: 'double',
  states: [
    {
      name: 'check',
      is_start: true,
      schema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
      arcs: [{ target: 'work' }],
    },
    {
      name: 'work',
      transforms: [{ type: 'expression', code: '$merge([$, { "doubled": n * 2 }])' }],
      arcs: [{ target: 'done' }],
    },
    { name: 'done', is_end: true },
  ],
};

/** A sink kept outside the job (like a table): survives a "crash" of the job; can fail on a given write. */
function durableArraySink(failOnWrite?: number) {
  const rows: Record<string, unknown>[] = [];
  let writes = 0;
  const sink: StreamSink<Record<string, unknown>> & { rows: typeof rows } = {
    specificationVersion: 'v1',
    rows,
    async write(batch) {
      if (++writes === failOnWrite) throw new Error('sink crashed');
      rows.push(...batch);
    },
    async close() {
      // Nothing buffered.
    },
  };
  return sink;
}

describe('runStreamJob', () => {
  it('CSV → FSM → JSONL in chunks, in input order, failures to an error sink', async () => {
    const input = join(dir, 'in.csv');
    writeFileSync(
      input,
      `n\n${Array.from({ length: 1234 }, (_, i) => (i === 7 ? 'x' : String(i))).join('\n')}\n`,
    );
    const fsm = await SimpleFSM.create(config);
    const out = openWriter(join(dir, 'out.jsonl'));
    const errors = durableArraySink();
    const stats = await runStreamJob(fsm, openReader(input, { cast: true }), out, {
      chunkSize: 100,
      errorSink: errors,
    });
    await out.close();
    expect(stats).toMatchObject({ records: 1234, succeeded: 1233, failed: 1, chunks: 13 });
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1233);
    expect((JSON.parse(lines[8] as string) as { data: { doubled: number } }).data.doubled).toBe(18);
    expect(errors.rows).toHaveLength(1);
  });

  it('a job that dies mid-way restarts after the last committed chunk: each record reaches the sink once', async () => {
    const fsm = await SimpleFSM.create(config);
    const offsets = new FileOffsetStore(join(dir, 'offsets.json'));
    const records = Array.from({ length: 1000 }, (_, n) => ({ n }));
    const sink = durableArraySink(4);
    await expect(
      runStreamJob(fsm, records, sink, { chunkSize: 100, offsetStore: offsets, streamId: 'nums' }),
    ).rejects.toThrow('sink crashed');
    expect(sink.rows).toHaveLength(300);
    expect(await offsets.load('nums')).toEqual({ records: 300 });
    const again = await runStreamJob(fsm, records, sink, {
      chunkSize: 100,
      offsetStore: new FileOffsetStore(join(dir, 'offsets.json')),
      streamId: 'nums',
    });
    expect(again.resumedFrom).toBe(300);
    expect(again.records).toBe(700);
    expect(sink.rows.map((r) => (r.data as { n: number }).n)).toEqual(records.map((r) => r.n));
  });

  it('a slow sink bounds how far the reader gets ahead', async () => {
    const fsm = await SimpleFSM.create(config);
    let read = 0;
    let maxAhead = 0;
    let written = 0;
    async function* source() {
      for (let n = 0; n < 2000; n++) {
        read++;
        maxAhead = Math.max(maxAhead, read - written);
        yield { n };
      }
    }
    const sink: StreamSink<Record<string, unknown>> = {
      specificationVersion: 'v1',
      async write(batch) {
        await new Promise((r) => setTimeout(r, 2));
        written += batch.length;
      },
      async close() {
        // Nothing buffered.
      },
    };
    await runStreamJob(fsm, source(), sink, {
      chunkSize: 50,
      highWaterMark: 100,
      offsetStore: new MemoryOffsetStore(),
      streamId: 's',
    });
    expect(written).toBe(2000);
    expect(maxAhead).toBeLessThanOrEqual(50 + 100 + 16);
  });

  it('200k records stream with flat memory', async () => {
    const fsm = await SimpleFSM.create(config);
    let count = 0;
    const sink: StreamSink<Record<string, unknown>> = {
      specificationVersion: 'v1',
      async write(batch) {
        count += batch.length;
      },
      async close() {
        // Nothing buffered.
      },
    };
    function* source() {
      for (let n = 0; n < 200_000; n++) yield { n, pad: 'x'.repeat(100) };
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    // Without a full GC the measure would count garbage: the test needs node --expose-gc (vitest.config).
    expect(gc, 'tests must run with --expose-gc').toBeTypeOf('function');
    gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    await runStreamJob(fsm, source(), sink, {
      chunkSize: 1000,
      onProgress: (stats) => {
        // Live heap after a full GC every 20 chunks: garbage awaiting collection is not growth.
        if (stats.chunks % 20 !== 0) return;
        gc?.();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      },
    });
    expect(count).toBe(200_000);
    // 200k records of ~130 bytes would be ≥ 26 MB if kept; a bounded stream stays far below.
    expect(peak).toBeLessThan(20 * 1024 * 1024);
  });

  it('an offset store without a stream id is misuse', async () => {
    const fsm = await SimpleFSM.create(config);
    await expect(
      runStreamJob(fsm, [], durableArraySink(), { offsetStore: new MemoryOffsetStore() }),
    ).rejects.toMatchObject({ code: 'MISUSE' });
  });
});

describe('stream processor extras', () => {
  it('memory source and sink, BasicStreamProcessor, and a memory limit that pauses reading', async () => {
    const { BasicStreamProcessor } = await import('./stream-job.js');
    const { MemorySink, MemorySource } = await import('./memory.js');
    const fsm = await SimpleFSM.create(config);
    const processor = new BasicStreamProcessor(fsm, {
      chunkSize: 10,
      offsetStore: new MemoryOffsetStore(),
      streamId: 'm',
    });
    const sink = new MemorySink();
    const stats = await processor.process(
      new MemorySource(Array.from({ length: 35 }, (_, n) => ({ n }))),
      sink,
      {
        // A limit below the current heap: every chunk pauses (bounded wait), and the job still completes.
        memoryLimitMb: 1,
        memoryWaitMs: 5,
      },
    );
    expect(sink.records).toHaveLength(35);
    expect(sink.committed).toEqual({ records: 35 });
    expect(stats.memoryPauses).toBe(stats.chunks);
  });

  it('1M generated CSV rows through a 5-state FSM to JSONL with live heap growth under 64 MiB', async () => {
    const input = join(dir, 'million.csv');
    const out = createWriteStream(input);
    out.write('id,amount,region\n');
    for (let i = 0; i < 1_000_000; i++)
      if (!out.write(`${i},${i % 1000},${i % 2 ? 'EU' : 'US'}\n`)) await once(out, 'drain');
    out.end();
    await once(out, 'close');
    const fsm = await SimpleFSM.create(
      {
        name: 'five',
        data_mode: { default: 'reference' },
        states: [
          { name: 's1', is_start: true, arcs: [{ target: 's2', condition: 'valid' }] },
          { name: 's2', transforms: ['tax'], arcs: [{ target: 's3' }] },
          { name: 's3', arcs: [{ target: 'eu', condition: 'isEu', priority: 1 }, { target: 's4' }] },
          { name: 's4', is_end: true },
          { name: 'eu', is_end: true },
        ],
      },
      {
        functions: {
          valid: (r: { amount: number }) => r.amount >= 0,
          tax: (r: { amount: number; tax?: number }) => {
            r.tax = r.amount * 0.2;
            return r;
          },
          isEu: (r: { region: string }) => r.region === 'EU',
        },
      },
    );
    const gc = (globalThis as { gc?: () => void }).gc;
    // Without a full GC the measure would count garbage: the test needs node --expose-gc (vitest.config).
    expect(gc, 'tests must run with --expose-gc').toBeTypeOf('function');
    gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const sink = openWriter(join(dir, 'million.jsonl'));
    const stats = await runStreamJob(fsm, openReader(input, { cast: true }), sink, {
      chunkSize: 2000,
      onProgress: (s) => {
        if (s.chunks % 50 !== 0) return;
        gc?.();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      },
    });
    await sink.close();
    expect(stats.records).toBe(1_000_000);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
