import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionResult } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { RunInput } from '../src/input.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deep = `${'['.repeat(1_001)}${']'.repeat(1_001)}`;

function ran(record: unknown): ExecutionResult {
  return {
    success: true,
    finalState: 'end',
    data: record,
    path: ['end'],
    executionId: 'x',
    transitions: 1,
    durationMs: 0,
  };
}

describe('RunInput', () => {
  it('puts the failed result of each unreadable record in its input position (first, last, in a row)', async () => {
    const path = join(dir, 'mixed.jsonl');
    writeFileSync(
      path,
      [`{"x":${deep}}`, '{"id":1}', `{"x":${deep}}`, `{"x":${deep}}`, '{"id":2}', `{"x":${deep}}`].join('\n'),
    );
    const input = new RunInput(path, 'jsonl');
    const results: ExecutionResult[] = [];
    for await (const record of input.records()) results.push(ran(record));
    const lines: unknown[] = [];
    for await (const result of input.withInputFailures(results))
      lines.push(result.success ? result.data : result.error?.message);
    expect(lines).toEqual([
      `${path}:1: nested deeper than 1000 levels (maxDepth)`,
      { id: 1 },
      `${path}:3: nested deeper than 1000 levels (maxDepth)`,
      `${path}:4: nested deeper than 1000 levels (maxDepth)`,
      { id: 2 },
      `${path}:6: nested deeper than 1000 levels (maxDepth)`,
    ]);
  });

  it('stops at a line that is not JSON, naming it (a usage error)', async () => {
    const path = join(dir, 'broken.jsonl');
    writeFileSync(path, '{"id":1}\n{oops\n');
    const input = new RunInput(path, 'jsonl');
    const read: unknown[] = [];
    await expect(
      (async () => {
        for await (const record of input.records()) read.push(record);
      })(),
    ).rejects.toMatchObject({ name: 'UsageError', message: expect.stringContaining(`${path}:2:`) });
    expect(read).toEqual([{ id: 1 }]);
  });
});
