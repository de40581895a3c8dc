import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type BadRecord, IoError } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { openReader } from './file-source.js';
import { invalidUtf8At, jsonDepth, type ParsedRecord, parseRecords } from './parsers.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-io-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (ext: string, content: string | Buffer) => {
  const path = join(dir, `r${++n}.${ext}`);
  writeFileSync(path, content);
  return path;
};

const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const deepArray = (levels: number) => `{"x":${'['.repeat(levels)}${']'.repeat(levels)}}`;

async function readAll(path: string, options: Parameters<typeof openReader>[1] = {}) {
  const records: Record<string, unknown>[] = [];
  const bad: BadRecord[] = [];
  for await (const r of openReader(path, {
    ...options,
    onBadRecord: 'skip',
    onError: (b) => void bad.push(b),
  }))
    records.push(r);
  return { records, bad };
}

async function failure(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<IoError> {
  try {
    for await (const _ of openReader(path, options)) {
      // reading until it fails
    }
  } catch (error) {
    expect(error).toBeInstanceOf(IoError);
    return error as IoError;
  }
  throw new Error('expected the reader to fail');
}

async function parsed(
  format: 'jsonl' | 'json' | 'csv',
  chunks: Array<string | Buffer>,
  options = {},
): Promise<ParsedRecord[]> {
  const out: ParsedRecord[] = [];
  for await (const p of parseRecords(format, Readable.from(chunks), 'stdin', options)) out.push(p);
  return out;
}

describe('readers: nesting depth', () => {
  it('JSONL: a line nested 100 000 levels deep is a bad record naming file:line, the others are read', async () => {
    const path = file('jsonl', `{"id":1}\n{"id":2}\n${deep(100_000)}\n{"id":4}\n`);
    const error = await failure(path);
    expect(error.code).toBe('IO_FAILED');
    expect(error.message).toBe(`${path}:3: nested deeper than 1000 levels (maxDepth)`);
    const { records, bad } = await readAll(path);
    expect(records).toEqual([{ id: 1 }, { id: 2 }, { id: 4 }]);
    expect(bad.map((b) => [b.line, b.message])).toEqual([[3, 'nested deeper than 1000 levels (maxDepth)']]);
  });

  it('JSON array: an element nested 100 000 levels deep is a bad record with its line; its text is not kept', async () => {
    const path = file('json', `[\n{"id":1},\n${deepArray(100_000)},\n{"id":3}\n]\n`);
    const error = await failure(path);
    expect(error.message).toBe(`${path}:3: nested deeper than 1000 levels (maxDepth)`);
    const { records, bad } = await readAll(path);
    expect(records).toEqual([{ id: 1 }, { id: 3 }]);
    expect(bad).toHaveLength(1);
    expect(bad[0]?.line).toBe(3);
    expect(bad[0]?.raw.length).toBeLessThanOrEqual(200);
  });

  it('maxDepth is configurable; the record itself is level 1; brackets inside strings do not count', async () => {
    const path = file(
      'jsonl',
      '{"a":{"b":1}}\n{"a":{"b":{}}}\n{"s":"[[[[[[{{{{{{\\"[[[["}\n{"a":[[1]]}\n{"a":[1]}\n',
    );
    const { records, bad } = await readAll(path, { maxDepth: 2 });
    expect(records).toEqual([{ a: { b: 1 } }, { s: '[[[[[[{{{{{{"[[[[' }, { a: [1] }]);
    expect(bad.map((b) => b.line)).toEqual([2, 4]);
    const json = file('json', '[{"a":{"b":1}},{"a":{"b":{}}},{"s":"{{{{{{{{{{"}]');
    const fromArray = await readAll(json, { maxDepth: 2 });
    expect(fromArray.records).toEqual([{ a: { b: 1 } }, { s: '{{{{{{{{{{' }]);
    expect(fromArray.bad).toHaveLength(1);
  });

  it('the depth scan counts like JSON.parse nests', () => {
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[{"b":"]]]}}}[[["}]}')).toBe(3);
    expect(jsonDepth('{"a":"\\\\"}')).toBe(1);
    expect(jsonDepth(deep(5000), 10)).toBe(11);
  });
});

describe('readers: record length', () => {
  it('a JSONL line or JSON element longer than maxRecordLength is a bad record; its start is kept, the rest read on', async () => {
    const long = `{"s":"${'x'.repeat(500)}"}`;
    const chunks = [
      Buffer.from(`{"id":1}\n${long.slice(0, 100)}`),
      Buffer.from(`${long.slice(100)}\n{"id":3}\n`),
    ];
    const lines = await parsed('jsonl', chunks, { maxRecordLength: 300 });
    expect(lines.map((p) => [p.line, p.value ?? p.bad?.reason])).toEqual([
      [1, { id: 1 }],
      [2, 'too-large'],
      [3, { id: 3 }],
    ]);
    expect(lines[1]?.bad?.message).toBe('longer than 300 characters (maxRecordLength)');
    expect(lines[1]?.bad?.raw).toBe(long.slice(0, 200));
    const array = await parsed(
      'json',
      [Buffer.from(`[{"id":1},${long.slice(0, 100)}`), Buffer.from(`${long.slice(100)},{"id":3}]`)],
      {
        maxRecordLength: 300,
      },
    );
    expect(array.map((p) => p.value ?? p.bad?.reason)).toEqual([{ id: 1 }, 'too-large', { id: 3 }]);
  });
});

describe('readers: UTF-8', () => {
  const badLine = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);

  it('JSONL: bytes that are not UTF-8 are a bad record naming file:line, not replaced silently', async () => {
    const path = file(
      'jsonl',
      Buffer.concat([Buffer.from('{"id":1}\n'), badLine, Buffer.from('{"id":3}\n')]),
    );
    const error = await failure(path);
    expect(error.message).toMatch(new RegExp(`^${path}:2: invalid UTF-8 \\(byte 0xe9\\)`));
    const { records, bad } = await readAll(path);
    expect(records).toEqual([{ id: 1 }, { id: 3 }]);
    expect(bad.map((b) => b.line)).toEqual([2]);
  });

  it('replaceInvalidUtf8 replaces them with U+FFFD instead (JSONL, JSON, CSV)', async () => {
    const jsonl = file('jsonl', badLine);
    expect((await readAll(jsonl, { replaceInvalidUtf8: true })).records).toEqual([{ name: 'caf\ufffd' }]);
    const json = file('json', Buffer.concat([Buffer.from('['), badLine, Buffer.from(']')]));
    expect((await readAll(json, { replaceInvalidUtf8: true })).records).toEqual([{ name: 'caf\ufffd' }]);
    const csv = file('csv', Buffer.concat([Buffer.from('name\ncaf'), Buffer.from([0xe9, 0x0a])]));
    expect((await readAll(csv, { replaceInvalidUtf8: true })).records).toEqual([{ name: 'caf\ufffd' }]);
  });

  it('CSV and JSON arrays: bytes that are not UTF-8 are an IoError naming file:line', async () => {
    const csv = file('csv', Buffer.concat([Buffer.from('id,name\n1,a\n2,caf'), Buffer.from([0xe9, 0x0a])]));
    expect((await failure(csv)).message).toMatch(new RegExp(`^${csv}:3: invalid UTF-8`));
    const json = file('json', Buffer.concat([Buffer.from('[\n{"id":1},\n'), badLine, Buffer.from(']')]));
    expect((await failure(json)).message).toMatch(new RegExp(`^${json}:3: invalid UTF-8`));
  });

  it('a character split between chunks is fine; a bad one split between chunks is found with its line', async () => {
    const euro = Buffer.from('€');
    const ok = await parsed('json', [
      Buffer.from('[{"p":"'),
      euro.subarray(0, 1),
      Buffer.concat([euro.subarray(1), Buffer.from('"}]')]),
    ]);
    expect(ok).toEqual([{ line: 1, value: { p: '€' } }]);
    const cut = parsed('csv', [Buffer.from('p\n\n'), euro.subarray(0, 2), Buffer.from('x\n')]);
    await expect(cut).rejects.toThrow(/^stdin:3: invalid UTF-8/);
    const truncated = parsed('json', [Buffer.from('[{"p":"'), euro.subarray(0, 2)]);
    await expect(truncated).rejects.toThrow(/ends inside a character/);
  });

  it('JSONL: characters cut between chunks, good or bad, land on their own lines', async () => {
    const euro = Buffer.from('€');
    const chunks = [
      Buffer.from('{"p":"'),
      euro.subarray(0, 1),
      Buffer.concat([euro.subarray(1), Buffer.from('"}\n{"q":"')]),
      Buffer.from([0xe2]),
      Buffer.from('"}\n{"r":1}\n{"s":"'),
      euro.subarray(0, 2),
    ];
    const strict = await parsed('jsonl', chunks);
    expect(strict.map((p) => [p.line, p.value ?? p.bad?.reason])).toEqual([
      [1, { p: '€' }],
      [2, 'encoding'],
      [3, { r: 1 }],
      [4, 'encoding'],
    ]);
    expect(strict[3]?.bad?.message).toMatch(/ends inside a character/);
    const replaced = await parsed('jsonl', chunks.slice(0, 5), { replaceInvalidUtf8: true });
    expect(replaced.map((p) => p.value)).toEqual([{ p: '€' }, { q: '\ufffd' }, { r: 1 }, undefined]);
  });

  it('invalidUtf8At finds overlongs, surrogates, stray continuations and code points above U+10FFFF', () => {
    const at = (...bytes: number[]) => invalidUtf8At(Uint8Array.from(bytes));
    expect(at(0x61, 0xc3, 0xa9, 0x62)).toBe(4);
    expect(at(0x61, 0xc0, 0xaf)).toBe(1);
    expect(at(0xe0, 0x80, 0xaf)).toBe(0);
    expect(at(0x61, 0x62, 0xed, 0xa0, 0x80)).toBe(2);
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0);
    expect(at(0x80)).toBe(0);
    expect(at(0x61, 0xe2, 0x82)).toBe(3);
    expect(at(0xf0, 0x9f, 0x98, 0x80)).toBe(4);
  });
});

describe('readers: byte order mark', () => {
  const bom = '\ufeff';
  it('is dropped before JSONL, JSON arrays and CSV alike', async () => {
    expect((await readAll(file('jsonl', `${bom}{"id":1}\n{"id":2}\n`))).records).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    expect((await readAll(file('json', `${bom}[{"id":1}]`))).records).toEqual([{ id: 1 }]);
    expect((await readAll(file('csv', `${bom}id,name\n1,a\n`))).records).toEqual([{ id: '1', name: 'a' }]);
    expect(await parsed('jsonl', [Buffer.from(`${bom}{"id":1}\n`)])).toEqual([{ line: 1, value: { id: 1 } }]);
  });

  it('only at the start: a BOM on a later JSONL line is still a syntax error', async () => {
    const { bad } = await readAll(file('jsonl', `{"id":1}\n${bom}{"id":2}\n`));
    expect(bad.map((b) => b.line)).toEqual([2]);
  });
});

describe('readers: hostile column names', () => {
  it('a CSV column named __proto__ is an own field, not the prototype', async () => {
    const { records } = await readAll(file('csv', '__proto__,constructor\n{},x\n'));
    const [record] = records;
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.keys(record ?? {})).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toBe('{}');
  });
});
