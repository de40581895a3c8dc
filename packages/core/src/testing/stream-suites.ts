import { describe, expect, it } from 'vitest';
import type { StreamSink, StreamSource } from '../interfaces/stream.js';

type Row = Record<string, unknown>;

/** Records every source and sink must carry unchanged: text with quotes, commas, newlines, unicode. */
export function sampleRows(count = 25): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    name: i % 5 === 0 ? `Name, "quoted" ${i}\nsecond line` : `name-${i}`,
    city: i % 2 === 0 ? 'Zürich' : '東京',
  }));
}

async function drain<T>(source: AsyncIterable<T>, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) {
    out.push(item);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * Conformance of a `StreamSource`. `makeSource(rows, { signal })` returns a source that yields exactly
 * `rows` (values may come back as strings when the format has no types: compare with `normalize`) and
 * stops when `signal` is aborted.
 */
export function describeStreamSource(
  name: string,
  makeSource: (rows: Row[], options: { signal?: AbortSignal }) => Promise<StreamSource<Row>>,
  options: { normalize?: (row: Row) => Row } = {},
): void {
  const normalize = options.normalize ?? ((row: Row) => row);
  describe(`StreamSource conformance: ${name}`, () => {
    it('declares specificationVersion v1', async () => {
      const source = await makeSource(sampleRows(1), {});
      expect(source.specificationVersion).toBe('v1');
      await source.close();
    });

    it('yields every record in order, unchanged', async () => {
      const rows = sampleRows();
      const source = await makeSource(rows, {});
      expect((await drain(source)).map(normalize)).toEqual(rows.map(normalize));
      await source.close();
    });

    it('an empty input yields nothing', async () => {
      const source = await makeSource([], {});
      expect(await drain(source)).toEqual([]);
      await source.close();
    });

    it('position() advances with the records read', async () => {
      const source = await makeSource(sampleRows(10), {});
      if (!source.position) return;
      const read = await drain(source, 4);
      expect(read).toHaveLength(4);
      expect(source.position().records).toBeGreaterThanOrEqual(4);
      await source.close();
    });

    it('stopping early and closing releases the source; close twice is fine', async () => {
      const source = await makeSource(sampleRows(50), {});
      expect(await drain(source, 3)).toHaveLength(3);
      await source.close();
      await source.close();
    });

    it('an aborted signal stops reading with an error, even with records already buffered', async () => {
      const controller = new AbortController();
      const source = await makeSource(sampleRows(50), { signal: controller.signal });
      const read: Row[] = [];
      const reading = (async () => {
        for await (const row of source) {
          read.push(row);
          if (read.length === 3) controller.abort(new Error('stop reading'));
        }
      })();
      await expect(reading).rejects.toThrow();
      expect(read.length).toBeLessThan(50);
      await source.close();
    });

    it('position() counts every record once the source is drained', async () => {
      const source = await makeSource(sampleRows(12), {});
      if (!source.position) return;
      expect(source.position().records).toBe(0);
      await drain(source);
      expect(source.position().records).toBe(12);
      await source.close();
    });
  });
}

/**
 * Conformance of a `StreamSink`. `makeSink()` returns a sink and `readBack()` giving what it durably
 * holds after `close()`.
 */
export function describeStreamSink(
  name: string,
  makeSink: () => Promise<{ sink: StreamSink<Row>; readBack: () => Promise<Row[]> }>,
  options: { normalize?: (row: Row) => Row } = {},
): void {
  const normalize = options.normalize ?? ((row: Row) => row);
  describe(`StreamSink conformance: ${name}`, () => {
    it('declares specificationVersion v1', async () => {
      const { sink } = await makeSink();
      expect(sink.specificationVersion).toBe('v1');
      await sink.close();
    });

    it('keeps every record of every batch, in order', async () => {
      const { sink, readBack } = await makeSink();
      const rows = sampleRows(30);
      await sink.write(rows.slice(0, 10));
      await sink.write([]);
      await sink.write(rows.slice(10));
      await sink.close();
      expect((await readBack()).map(normalize)).toEqual(rows.map(normalize));
    });

    it('close with nothing written leaves an empty result', async () => {
      const { sink, readBack } = await makeSink();
      await sink.close();
      expect(await readBack()).toEqual([]);
    });

    it('close twice is fine; a write after close is rejected', async () => {
      const { sink, readBack } = await makeSink();
      await sink.write(sampleRows(2));
      await sink.close();
      await sink.close();
      await expect(sink.write(sampleRows(1))).rejects.toThrow();
      expect((await readBack()).map(normalize)).toEqual(sampleRows(2).map(normalize));
    });

    it('an aborted signal rejects the write', async () => {
      const { sink } = await makeSink();
      await expect(sink.write(sampleRows(2), AbortSignal.abort(new Error('stop')))).rejects.toThrow();
      await sink.close();
    });
  });
}
