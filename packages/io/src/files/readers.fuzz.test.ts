/**
 * Fuzz: random and near-valid bytes through every reader. Runs FSM_FUZZ_RUNS cases per property
 * (default 200; `pnpm fuzz` runs 10 000).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expectFsmError, FUZZ_CASE_TIMEOUT_MS, FUZZ_RUNS, guardObjectPrototype } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { openReader } from './file-source.js';
import { type ParsedRecord, parseRecords } from './parsers.js';

const TEST_TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 50);

const dir = mkdtempSync(join(tmpdir(), 'fsm-io-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prototypeGuard = guardObjectPrototype();
const expectPrototypeUntouched = () => prototypeGuard.expectUntouched();

const expectTyped = (error: unknown) => expectFsmError(error, 'IO_FAILED');

type Format = 'jsonl' | 'json' | 'csv';
const FORMATS: Format[] = ['jsonl', 'json', 'csv'];

/** Cuts bytes into chunks at the given (sorted, deduplicated) offsets, as a stream would deliver them. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of at) {
    if (cut > from) out.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
}

async function parseAll(format: Format, chunks: Buffer[], options = {}): Promise<ParsedRecord[]> {
  const out: ParsedRecord[] = [];
  for await (const p of parseRecords(format, Readable.from(chunks), 'fuzz', options)) out.push(p);
  return out;
}

function expectWellFormed(parsed: ParsedRecord[]): void {
  let line = 0;
  for (const p of parsed) {
    expect(p.line).toBeGreaterThanOrEqual(line);
    line = p.line;
    if (p.bad) {
      expect(['syntax', 'too-deep', 'too-large', 'encoding']).toContain(p.bad.reason);
      expect(typeof p.bad.message).toBe('string');
    } else {
      expect(Object.getPrototypeOf(p.value)).toBe(Object.prototype);
    }
  }
}

// Text that is nearly records: pieces of JSON and CSV, hostile keys, deep brackets, bad UTF-8, BOMs.
const piece = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '\\',
    '\n',
    '\r\n',
    '\ufeff',
    '"__proto__"',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '__proto__,constructor\n1,2\n',
    '{"a":1}\n',
    '[{"a":1},{"b":2}]',
    'a,b\n1,2\n',
    '"x""y",z\n',
    '1e999',
    '-0',
    'null',
  ),
  fc.string({ maxLength: 10 }),
  fc.nat(3_000).map((n) => '['.repeat(n)),
  fc.nat(3_000).map((n) => '{"a":'.repeat(n)),
);
const text = fc.array(piece, { maxLength: 30 }).map((ps) => Buffer.from(ps.join('')));
const badBytes = fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b));
const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  text,
  fc.tuple(text, badBytes, text).map((parts) => Buffer.concat(parts)),
);

const jsonKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'a.b', '', 'toString'),
  fc.string({ maxLength: 6 }),
);
/** JSON records as a parser sees them: own keys only, `__proto__` included. */
const jsonRecord = fc
  .array(fc.tuple(jsonKey, fc.jsonValue({ maxDepth: 3 })), { maxLength: 5 })
  .map((entries) => {
    const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
    return JSON.parse(text) as Record<string, unknown>;
  });

describe('fuzz: readers', () => {
  it(
    'random bytes: every reader yields plain records or bad records with a reason, or fails with an IoError',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...FORMATS),
          input,
          fc.array(fc.nat(400), { maxLength: 8 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 2_000 }),
          fc.integer({ min: 1, max: 400 }),
          async (format, bytes, cuts, replaceInvalidUtf8, maxDepth, maxRecordLength) => {
            try {
              const options = { replaceInvalidUtf8, maxDepth, maxRecordLength };
              expectWellFormed(await parseAll(format, chunked(bytes, cuts), options));
            } catch (error) {
              expectTyped(error);
            }
            expectPrototypeUntouched();
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'random files (plain and gzip): openReader yields plain records or fails with an IoError naming the file',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...FORMATS),
          fc.boolean(),
          fc.constantFrom('fail', 'skip'),
          input,
          async (format, gzip, onBadRecord, bytes) => {
            const path = join(dir, `f${++n}.${format}${gzip ? '.gz' : ''}`);
            // A gzip file is either valid gzip of the bytes, or the raw bytes (a corrupt gzip file).
            writeFileSync(path, gzip && n % 2 === 0 ? gzipSync(bytes) : bytes);
            let bad = 0;
            try {
              for await (const record of openReader(path, {
                onBadRecord,
                onError: () => {
                  bad++;
                },
              }))
                expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
            } catch (error) {
              expectTyped(error);
              expect((error as Error).message.startsWith(path)).toBe(true);
            }
            if (onBadRecord === 'fail') expect(bad).toBe(0);
            expectPrototypeUntouched();
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'JSONL and JSON arrays give back exactly the records written, however the bytes are chunked',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(jsonRecord, { maxLength: 6 }),
          fc.constantFrom('jsonl', 'json'),
          fc.boolean(),
          fc.boolean(),
          fc.array(fc.nat(2_000), { maxLength: 10 }),
          async (records, format, bom, crlf, cuts) => {
            const nl = crlf ? '\r\n' : '\n';
            const body =
              format === 'jsonl'
                ? records.map((r) => `${JSON.stringify(r)}${nl}`).join('')
                : `[${nl}${records.map((r) => JSON.stringify(r, null, 1)).join(`,${nl}`)}${nl}]${nl}`;
            const bytes = Buffer.from(`${bom ? '\ufeff' : ''}${body}`);
            const parsed = await parseAll(format, chunked(bytes, cuts));
            expect(parsed.filter((p) => p.bad)).toEqual([]);
            expect(parsed.map((p) => p.value)).toEqual(records);
            expectPrototypeUntouched();
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a record is refused as too deep exactly when it nests deeper than maxDepth',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3_000 }),
          fc.integer({ min: 1, max: 2_000 }),
          fc.constantFrom('jsonl', 'json'),
          fc.boolean(),
          async (depth, maxDepth, format, arrays) => {
            // `depth` levels: the record itself, then objects or arrays inside it.
            const inner = arrays
              ? `${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`
              : `${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}`;
            const record = depth === 1 ? '{"a":1}' : `{"a":${inner}}`;
            const text = format === 'jsonl' ? `${record}\n{"ok":1}\n` : `[${record},{"ok":1}]`;
            const parsed = await parseAll(format, [Buffer.from(text)], { maxDepth });
            expect(parsed).toHaveLength(2);
            expect(parsed[0]?.bad?.reason).toBe(depth > maxDepth ? 'too-deep' : undefined);
            expect(parsed[1]?.value).toEqual({ ok: 1 });
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );
});
