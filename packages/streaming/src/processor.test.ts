import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM, type StreamPosition, type StreamSink, type StreamSource } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySink, MemorySource } from './memory.js';
import { FileOffsetStore, MemoryOffsetStore } from './offset-stores.js';
import { processStream, StreamProcessor } from './stream-job.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-streaming-processor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = {
  name: 'slow-or-fast',
  states: [
    { name: 'start', is_start: true, transforms: ['work'], arcs: [{ target: 'done' }] },
    { name: 'done', is_end: true },
  ],
};

/** An FSM whose records take `wait` ms (so completion order differs from input order). */
function fsmWith(work: (r: { n: number; wait?: number }) => unknown) {
  return SimpleFSM.create(config, { functions: { work } });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A source that counts what was read and whether it was closed. */
class CountingSource implements StreamSource<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  read = 0;
  closed = 0;
  constructor(private readonly total: number) {}
  position(): StreamPosition {
    return { records: this.read };
  }
  async *[Symbol.asyncIterator]() {
    for (let n = 0; n < this.total; n++) {
      this.read++;
      yield { n };
    }
  }
  async close() {
    this.closed++;
  }
}

describe('processStream / StreamProcessor', () => {
  it('ordered (default) keeps input order even when later records finish first', async () => {
    const fsm = await fsmWith(async (r) => {
      await sleep(r.n % 3 === 0 ? 8 : 0);
      return r;
    });
    const sink = new MemorySink();
    const stats = await processStream(fsm, new CountingSource(60), sink, { chunkSize: 7, concurrency: 6 });
    expect(sink.records.map((r) => (r.data as { n: number }).n)).toEqual(
      Array.from({ length: 60 }, (_, n) => n),
    );
    expect(stats).toMatchObject({ records: 60, succeeded: 60, failed: 0, errors: 0, chunks: 9 });
    expect(stats.ratePerSec).toBeGreaterThan(0);
  });

  it('ordered: false writes every record once, in completion order', async () => {
    const fsm = await fsmWith(async (r) => {
      await sleep(r.n % 4 === 0 ? 10 : 0);
      return r;
    });
    const sink = new MemorySink();
    await processStream(fsm, new CountingSource(40), sink, { chunkSize: 5, concurrency: 8, ordered: false });
    const order = sink.records.map((r) => (r.data as { n: number }).n);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(order).not.toEqual(Array.from({ length: 40 }, (_, n) => n));
  });

  it('ordered: false with an offset store is misuse (a count is not a position then)', async () => {
    const fsm = await fsmWith((r) => r);
    await expect(
      processStream(fsm, [], new MemorySink(), {
        ordered: false,
        offsetStore: new MemoryOffsetStore(),
        streamId: 'x',
      }),
    ).rejects.toMatchObject({ code: 'MISUSE' });
    await expect(processStream(fsm, [], new MemorySink(), { chunkSize: 0 })).rejects.toMatchObject({
      code: 'MISUSE',
    });
  });

  it('failed records are counted as errors and still written (no error sink)', async () => {
    const fsm = await fsmWith((r) => {
      if (r.n === 3) throw new Error('bad record 3');
      return r;
    });
    const sink = new MemorySink();
    const stats = await processStream(fsm, new CountingSource(10), sink, { chunkSize: 4 });
    expect(stats).toMatchObject({ records: 10, succeeded: 9, failed: 1, errors: 1, chunks: 3 });
    expect(sink.records[3]).toMatchObject({ success: false, error: expect.anything() });
  });

  it('an abort stops reading, rejects, and closes the source', async () => {
    const fsm = await fsmWith(async (r) => {
      await sleep(1);
      return r;
    });
    const controller = new AbortController();
    const source = new CountingSource(100_000);
    const sink: StreamSink<Record<string, unknown>> = {
      specificationVersion: 'v1',
      async write(batch, signal) {
        signal?.throwIfAborted();
        written += batch.length;
        if (written >= 30) controller.abort(new Error('operator stop'));
      },
      async close() {
        // Nothing buffered.
      },
    };
    let written = 0;
    await expect(
      processStream(fsm, source, sink, { chunkSize: 10, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(source.closed).toBe(1);
    expect(source.read).toBeLessThan(100);
    expect(written).toBe(30);
  });

  it('a sink that fails stops the stream with its error and closes the source', async () => {
    const fsm = await fsmWith((r) => r);
    const source = new CountingSource(1000);
    let writes = 0;
    const sink: StreamSink<Record<string, unknown>> = {
      specificationVersion: 'v1',
      async write() {
        if (++writes === 2) throw new Error('disk full');
      },
      async close() {
        // Nothing buffered.
      },
    };
    await expect(processStream(fsm, source, sink, { chunkSize: 50 })).rejects.toThrow('disk full');
    expect(source.closed).toBe(1);
    expect(source.read).toBeLessThan(1000);
  });

  it('a resumed stream skips committed records and still closes the source', async () => {
    const fsm = await fsmWith((r) => r);
    const offsets = new MemoryOffsetStore();
    await offsets.save('resume', { records: 25 });
    const source = new CountingSource(40);
    const sink = new MemorySink();
    const stats = await new StreamProcessor(fsm, {
      chunkSize: 10,
      offsetStore: offsets,
      streamId: 'resume',
    }).process(source, sink);
    expect(stats).toMatchObject({ resumedFrom: 25, records: 15 });
    expect(sink.records.map((r) => (r.data as { n: number }).n)).toEqual(
      Array.from({ length: 15 }, (_, i) => 25 + i),
    );
    expect(await offsets.load('resume')).toEqual({ records: 40 });
    expect(sink.committed).toEqual({ records: 40 });
    expect(source.closed).toBe(1);
  });

  it('a position is saved only after the sink write holding those records resolved', async () => {
    const fsm = await fsmWith((r) => r);
    const sink = new MemorySink();
    const saved: number[] = [];
    const offsets = new MemoryOffsetStore();
    const store = Object.assign(Object.create(offsets) as MemoryOffsetStore, {
      async save(streamId: string, position: StreamPosition) {
        // Everything the position claims must already be in the sink.
        expect(position.records).toBe(sink.records.length);
        saved.push(position.records);
        await offsets.save(streamId, position);
      },
    });
    await processStream(fsm, new CountingSource(23), sink, {
      chunkSize: 10,
      offsetStore: store,
      streamId: 'd',
    });
    expect(saved).toEqual([10, 20, 23]);
  });

  it('memoryLimitBytes pauses reading after a chunk when the heap is over it', async () => {
    const fsm = await fsmWith((r) => r);
    const sink = new MemorySink();
    const stats = await processStream(
      fsm,
      new MemorySource(Array.from({ length: 30 }, (_, n) => ({ n }))),
      sink,
      {
        chunkSize: 10,
        memoryLimitBytes: 1024,
        memoryWaitMs: 5,
      },
    );
    expect(sink.records).toHaveLength(30);
    expect(stats.memoryPauses).toBe(stats.chunks);
    const relaxed = await processStream(fsm, new MemorySource([{ n: 1 }]), new MemorySink(), {
      memoryLimitBytes: Number.MAX_SAFE_INTEGER,
    });
    expect(relaxed.memoryPauses).toBe(0);
  });
});

describe('offset stores', () => {
  it('FileOffsetStore keeps several streams in one file; concurrent saves do not lose each other', async () => {
    const path = join(dir, 'nested', 'offsets.json');
    const store = new FileOffsetStore(path);
    await Promise.all([
      store.save('a', { records: 1 }),
      store.save('b', { records: 2, cursor: 'k9' }),
      store.save('a', { records: 3 }),
    ]);
    await store.close();
    const reopened = new FileOffsetStore(path);
    expect(await reopened.load('a')).toEqual({ records: 3 });
    expect(await reopened.load('b')).toEqual({ records: 2, cursor: 'k9' });
    expect(await reopened.load('c')).toBeUndefined();
  });

  it('a corrupt offsets file is an IoError naming it, not a silent restart from zero', async () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{"a": {"records": 1');
    await expect(new FileOffsetStore(path).load('a')).rejects.toMatchObject({
      code: 'IO_FAILED',
      message: expect.stringContaining(path),
    });
  });

  it('MemoryOffsetStore returns copies', async () => {
    const store = new MemoryOffsetStore();
    const position = { records: 5 };
    await store.save('s', position);
    position.records = 99;
    expect(await store.load('s')).toEqual({ records: 5 });
  });
});
