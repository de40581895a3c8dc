import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { describeStreamSink, describeStreamSource, sampleRows } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { openReader } from './file-source.js';
import { openWriter } from './file-sink.js';
import { readRecords, writeRecords } from './records.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (ext: string) => join(dir, `f${++n}.${ext}`);
const stringify = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]));

for (const ext of ['jsonl', 'json', 'csv', 'jsonl.gz', 'csv.gz', 'json.gz']) {
  const normalize = ext.startsWith('csv') ? stringify : undefined;
  describeStreamSource(
    ext,
    async (rows, { signal }) => {
      const path = file(ext);
      await writeRecords(path, rows, ext.startsWith('csv') ? { columns: ['id', 'name', 'city'] } : {});
      return openReader(path, signal ? { signal } : {});
    },
    normalize ? { normalize } : {},
  );
  describeStreamSink(
    ext,
    async () => {
      const path = file(ext);
      const sink = openWriter(path, ext.startsWith('csv') ? { columns: ['id', 'name', 'city'] } : {});
      return {
        sink,
        readBack: async () => {
          const out: Record<string, unknown>[] = [];
          for await (const r of readRecords(path)) out.push(r);
          return out;
        },
      };
    },
    normalize ? { normalize } : {},
  );
}

describe('file readers', () => {
  it('CSV: header, delimiter, quoting and type coercion', async () => {
    const path = file('csv');
    writeFileSync(path, 'id;name;active;score\n1;"Smith; J.";true;3.5\n2;"say ""hi""";false;-2\n');
    const rows: Record<string, unknown>[] = [];
    for await (const r of openReader(path, { delimiter: ';', cast: true })) rows.push(r);
    expect(rows).toEqual([
      { id: 1, name: 'Smith; J.', active: true, score: 3.5 },
      { id: 2, name: 'say "hi"', active: false, score: -2 },
    ]);
  });

  it('CSV without a header takes given column names', async () => {
    const path = file('csv');
    writeFileSync(path, 'a,1\nb,2\n');
    const rows: Record<string, unknown>[] = [];
    for await (const r of openReader(path, { columns: ['k', 'v'] })) rows.push(r);
    expect(rows).toEqual([
      { k: 'a', v: '1' },
      { k: 'b', v: '2' },
    ]);
  });

  it('a bad JSON line fails with file and line, or is skipped into onError', async () => {
    const path = file('jsonl');
    writeFileSync(path, '{"a":1}\n{"a":\n{"a":3}\n');
    const read = async (options = {}) => {
      const out: unknown[] = [];
      for await (const r of openReader(path, options)) out.push(r);
      return out;
    };
    await expect(read()).rejects.toMatchObject({
      code: 'IO_FAILED',
      line: 2,
      message: expect.stringContaining(`${path}:2`),
    });
    const bad: { line: number }[] = [];
    expect(await read({ onBadRecord: 'skip', onError: (b: { line: number }) => bad.push(b) })).toEqual([
      { a: 1 },
      { a: 3 },
    ]);
    expect(bad.map((b) => b.line)).toEqual([2]);
  });

  it('a CSV row with the wrong number of fields is reported with its line', async () => {
    const path = file('csv');
    writeFileSync(path, 'a,b\n1,2\n3\n4,5\n');
    const bad: number[] = [];
    const rows: unknown[] = [];
    for await (const r of openReader(path, { onBadRecord: 'skip', onError: (b) => void bad.push(b.line) }))
      rows.push(r);
    expect(rows).toHaveLength(2);
    expect(bad).toEqual([3]);
  });

  it('a truncated JSON array is an IoError, after the whole elements were read', async () => {
    const path = file('json');
    writeFileSync(path, '[{"a":1},{"a":2},{"a":');
    const rows: unknown[] = [];
    await expect(
      (async () => {
        for await (const r of openReader(path)) rows.push(r);
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED' });
    expect(rows).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('JSON arrays are streamed: strings with brackets, commas and escapes split correctly across chunks', async () => {
    const path = file('json');
    const rows = Array.from({ length: 3000 }, (_, i) => ({ i, s: `a,b]}{["\\"${'x'.repeat(i % 50)}` }));
    writeFileSync(path, JSON.stringify(rows));
    const out: unknown[] = [];
    for await (const r of openReader(path)) out.push(r);
    expect(out).toEqual(rows);
  });

  it('gzip is detected by extension; the reader can skip records to resume', async () => {
    const path = file('jsonl.gz');
    writeFileSync(
      path,
      gzipSync(
        sampleRows(5)
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ),
    );
    const rows: unknown[] = [];
    for await (const r of openReader(path, { skip: 3 })) rows.push(r);
    expect(rows).toEqual(sampleRows(5).slice(3));
  });

  it('multi-byte characters split between read chunks come through intact (JSON array, JSONL, CSV)', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ i, s: `é東京🙂${'ü'.repeat(i % 7)}` }));
    for (const ext of ['json', 'jsonl', 'csv', 'json.gz']) {
      const path = file(ext);
      await writeRecords(path, rows);
      const out: Record<string, unknown>[] = [];
      for await (const r of openReader(path, { cast: true })) out.push(r);
      expect(out, ext).toEqual(rows);
    }
  });

  it('a bad element of a pretty-printed JSON array is reported with the line it starts on', async () => {
    const path = file('json');
    writeFileSync(path, '[\n  {"a": 1},\n  {"a": 2},\n  {"a": tru},\n  {"a": 4}\n]\n');
    await expect(
      (async () => {
        for await (const _ of openReader(path)) void _;
      })(),
    ).rejects.toMatchObject({ line: 4, message: expect.stringContaining(`${path}:4`) });
    const bad: number[] = [];
    const rows: unknown[] = [];
    for await (const r of openReader(path, { onBadRecord: 'skip', onError: (b) => void bad.push(b.line) }))
      rows.push(r);
    expect(rows).toEqual([{ a: 1 }, { a: 2 }, { a: 4 }]);
    expect(bad).toEqual([4]);
  });

  it('a JSON file that is not an array, or has an element that is not an object, is an IoError', async () => {
    const notArray = file('json');
    writeFileSync(notArray, '{"a":1}');
    await expect(
      (async () => {
        for await (const _ of openReader(notArray)) void _;
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining('not a JSON array') });
    const scalar = file('json');
    writeFileSync(scalar, '[{"a":1}, 5]');
    await expect(
      (async () => {
        for await (const _ of openReader(scalar)) void _;
      })(),
    ).rejects.toMatchObject({
      code: 'IO_FAILED',
      line: 1,
      message: expect.stringContaining('expected an object'),
    });
  });

  it('a CSV row with an unclosed quote fails with its line, or is skipped into onError', async () => {
    const path = file('csv');
    writeFileSync(path, 'a,b\n1,2\n3,"x\n4,5\n');
    await expect(
      (async () => {
        for await (const _ of openReader(path)) void _;
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringMatching(/Quote Not Closed/) });
    const bad: { line: number; raw: string }[] = [];
    const rows: unknown[] = [];
    for await (const r of openReader(path, { onBadRecord: 'skip', onError: (b) => void bad.push(b) }))
      rows.push(r);
    expect(rows).toEqual([{ a: '1', b: '2' }]);
    expect(bad).toHaveLength(1);
    expect(bad[0]?.raw).toBe('3,"x\n4,5\n');
  });

  it('a quote inside a CSV field is kept as a character: a line full of stray quotes is one record', async () => {
    const path = file('csv');
    // Strict quoting reported such a line once per quote, copying the line each time (quadratic).
    const noisy = `"a"b${'{"a":'.repeat(20_000)}`;
    writeFileSync(path, `a,b\n1,"x"y\n2,${noisy}\n`);
    const bad: unknown[] = [];
    const rows: Record<string, unknown>[] = [];
    for await (const r of openReader(path, { onBadRecord: 'skip', onError: (b) => void bad.push(b) }))
      rows.push(r);
    expect(bad).toEqual([]);
    expect(rows).toEqual([
      { a: '1', b: '"x"y' },
      { a: '2', b: noisy },
    ]);
  });

  it('position() counts records and the line reached', async () => {
    const path = file('csv');
    writeFileSync(path, 'a\n1\n2\n3\n');
    const source = openReader(path);
    let seen = 0;
    for await (const _ of source) if (++seen === 2) break;
    expect(source.position()).toEqual({ records: 2, line: 3 });
    await source.close();
  });

  it('an aborted signal stops reading with the abort reason', async () => {
    const path = file('jsonl');
    await writeRecords(
      path,
      Array.from({ length: 50_000 }, (_, i) => ({ i })),
    );
    const controller = new AbortController();
    const rows: unknown[] = [];
    await expect(
      (async () => {
        for await (const r of openReader(path, { signal: controller.signal })) {
          rows.push(r);
          if (rows.length === 10) controller.abort(new Error('stop now'));
        }
      })(),
    ).rejects.toThrow('stop now');
    expect(rows.length).toBeLessThan(50_000);
  });

  it('close() while a reader is in the middle of a file ends the iteration (CSV, JSONL, JSON)', async () => {
    for (const ext of ['csv', 'jsonl', 'json']) {
      const path = file(ext);
      await writeRecords(
        path,
        Array.from({ length: 20_000 }, (_, i) => ({ i })),
      );
      const source = openReader(path);
      const iterator = source[Symbol.asyncIterator]();
      expect((await iterator.next()).done, ext).toBe(false);
      await source.close();
      expect(await iterator.next(), ext).toEqual({ done: true, value: undefined });
    }
  });

  it('readRecords reads a file with the same options as openReader', async () => {
    const path = file('csv');
    writeFileSync(path, 'n,ok\n1,true\n');
    const rows: unknown[] = [];
    for await (const r of readRecords(path, { cast: true })) rows.push(r);
    expect(rows).toEqual([{ n: 1, ok: true }]);
  });

  it('an unknown extension is an IoError naming the file', () => {
    expect(() => openReader(join(dir, 'x.parquet'))).toThrow(expect.objectContaining({ code: 'IO_FAILED' }));
  });

  it('a corrupt gzip file is an IoError naming it', async () => {
    const path = file('jsonl.gz');
    writeFileSync(
      path,
      Buffer.concat([gzipSync('{"a":1}\n'.repeat(1000)).subarray(0, 40), Buffer.from('garbage')]),
    );
    await expect(
      (async () => {
        for await (const _ of openReader(path)) void _;
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining(path) });
  });

  it('a missing file is an IoError naming it', async () => {
    const missing = join(dir, 'missing.jsonl');
    await expect(
      (async () => {
        for await (const _ of openReader(missing)) break;
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining(missing) });
  });
});

describe('file writers', () => {
  it('write to a temp file and rename on close: the target never holds a partial file', async () => {
    const path = file('jsonl');
    writeFileSync(path, 'old\n');
    const sink = openWriter(path);
    await sink.write([{ a: 1 }]);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
  });

  it('abort leaves the target untouched and removes the temp file', async () => {
    const path = join(dir, 'aborted', 'out.jsonl');
    mkdirSync(join(dir, 'aborted'));
    writeFileSync(path, 'kept\n');
    const sink = openWriter(path);
    await sink.write([{ a: 1 }]);
    await sink.abort();
    expect(readFileSync(path, 'utf8')).toBe('kept\n');
    expect(readdirSync(join(dir, 'aborted'))).toEqual(['out.jsonl']);
  });

  it('writes gzip that gunzip reads', async () => {
    const path = file('csv.gz');
    await writeRecords(path, [{ a: 1, b: 'x' }]);
    expect(gunzipSync(readFileSync(path)).toString()).toBe('a,b\n1,x\n');
  });

  it('writing into a missing folder is an IoError on close, with nothing left behind', async () => {
    const sink = openWriter(join(dir, 'no', 'such', 'dir.jsonl'));
    await expect(
      (async () => {
        await sink.write([{ a: 1 }]);
        await sink.close();
      })(),
    ).rejects.toMatchObject({ code: 'IO_FAILED' });
    expect(readdirSync(dir).filter((name) => name.startsWith('no'))).toEqual([]);
  });

  it('a record that cannot be encoded fails the write, removes the temp file and keeps the target', async () => {
    const folder = join(dir, 'failed-write');
    mkdirSync(folder);
    const path = join(folder, 'out.jsonl');
    writeFileSync(path, 'kept\n');
    const sink = openWriter(path);
    await sink.write([{ a: 1 }]);
    await expect(sink.write([{ a: 2n }])).rejects.toMatchObject({
      code: 'IO_FAILED',
      message: expect.stringContaining(path),
    });
    expect(readdirSync(folder)).toEqual(['out.jsonl']);
    await expect(sink.write([{ a: 3 }])).rejects.toMatchObject({ code: 'IO_FAILED' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'IO_FAILED' });
    expect(readFileSync(path, 'utf8')).toBe('kept\n');
  });

  it('JSON array output is one valid array, also when read back by JSON.parse', async () => {
    const path = file('json');
    await writeRecords(path, sampleRows(7), { chunkSize: 3 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(sampleRows(7));
  });
});
