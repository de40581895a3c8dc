import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionResult } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeResult, RESULT_NOT_SERIALIZABLE, ResultWriter } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (over: Partial<ExecutionResult> = {}): ExecutionResult => ({
  success: true,
  finalState: 'done',
  data: { id: 1 },
  path: ['a', 'done'],
  executionId: 'x',
  transitions: 1,
  durationMs: 1,
  ...over,
});

/** What a line was before it was written field by field: JSON.stringify of the line's object. */
const expected = (r: ExecutionResult) =>
  JSON.stringify({
    success: r.success,
    finalState: r.finalState,
    data: r.data,
    path: r.path,
    ...(r.error ? { error: r.error } : {}),
  });

describe('encodeResult', () => {
  it('writes the same text as JSON.stringify of the line object', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, {
      a: 1,
      'q"uote': 'é\n',
    });
    const withProtoKey = JSON.parse('{"__proto__": {"x": 1}, "b": [1, null]}') as unknown;
    const cases = [
      result(),
      result({ data: undefined }),
      result({ data: null }),
      result({ data: nullProto }),
      result({ data: withProtoKey }),
      result({ data: { when: new Date(0), skip: undefined, fn: () => 1 } }),
      result({ success: false, finalState: 'a"b', error: { code: 'X', message: 'm', state: 's' } }),
      result({ data: 'text', path: [] }),
    ];
    for (const r of cases) expect(encodeResult(r).text).toBe(expected(r));
  });

  it('a result that cannot be JSON is a failed line of its own', () => {
    const encoded = encodeResult(result({ data: { n: 1n } }));
    expect(encoded.result.success).toBe(false);
    expect(encoded.result.error?.code).toBe(RESULT_NOT_SERIALIZABLE);
    expect(JSON.parse(encoded.text)).toMatchObject({ success: false, data: null });
  });
});

describe('ResultWriter', () => {
  for (const ext of ['jsonl', 'json']) {
    it(`writes every line in order across its 64 KB writes (.${ext})`, async () => {
      const target = join(dir, `out.${ext}`);
      const writer = new ResultWriter(target);
      const results = Array.from({ length: 3000 }, (_, i) => result({ data: { i, pad: 'x'.repeat(40) } }));
      let promises = 0;
      for (const r of results) {
        const written = writer.write(r);
        if (written instanceof Promise) {
          promises++;
          expect(await written).toBe(r);
        } else expect(written).toBe(r);
      }
      // Lines are gathered: far fewer writes to wait for than lines.
      expect(promises).toBeGreaterThan(0);
      expect(promises).toBeLessThan(20);
      await writer.finish();
      const text = readFileSync(target, 'utf8');
      const lines =
        ext === 'jsonl'
          ? text
              .trimEnd()
              .split('\n')
              .map((l) => JSON.parse(l) as unknown)
          : (JSON.parse(text) as unknown[]);
      expect(lines).toEqual(results.map((r) => JSON.parse(expected(r)) as unknown));
    });
  }

  it('abort leaves no file, also with lines not yet written', async () => {
    const target = join(dir, 'aborted.jsonl');
    const writer = new ResultWriter(target);
    writer.write(result());
    await writer.abort();
    expect(() => readFileSync(target)).toThrow();
  });
});
