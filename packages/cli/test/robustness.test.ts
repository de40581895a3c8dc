import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { bin, type CliRun, fsm, jsonLines } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const passConfig = join(dir, 'pass.yaml');
writeFileSync(
  passConfig,
  'name: pass\nstates:\n  - name: a\n    is_start: true\n    arcs: [{ target: b }]\n  - name: b\n    is_end: true\n',
);
// A function that makes one record's result unwritable as JSON, by the record's `kind`.
const poisonFunctions = join(dir, 'poison.mjs');
writeFileSync(
  poisonFunctions,
  `export function poison(data) {
  if (data.kind === 'bigint') return { ...data, n: 10n };
  if (data.kind === 'cycle') { const o = { ...data }; o.self = o; return o; }
  if (data.kind === 'deep') { let o = {}; for (let i = 0; i < 100000; i++) o = { a: o }; return { ...data, deep: o }; }
  return data;
}
`,
);
const poisonConfig = join(dir, 'poison.yaml');
writeFileSync(
  poisonConfig,
  'name: poison\nstates:\n  - name: a\n    is_start: true\n    transforms: [poison]\n    arcs: [{ target: b }]\n  - name: b\n    is_end: true\n',
);

const deepLine = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
let n = 0;

type Mode = 'stdout' | 'output file' | 'sqlite storage';
const modes: Mode[] = ['stdout', 'output file', 'sqlite storage'];

/** Runs `fsm run` in one output mode; returns the run and its result lines (from stdout or the file). */
async function runIn(mode: Mode, args: string[], stdin: string) {
  const out = join(dir, `out-${++n}.jsonl`);
  const extra =
    mode === 'output file'
      ? ['-o', out]
      : mode === 'sqlite storage'
        ? ['--storage', `sqlite:${join(dir, `db-${n}.sqlite`)}`]
        : [];
  const r = await fsm(['run', ...args, '--no-progress', ...extra], { stdin });
  const text = mode === 'output file' ? (existsSync(out) ? readFileSync(out, 'utf8') : '') : r.stdout;
  return { r, lines: jsonLines(text) };
}

function noCrash(r: CliRun): void {
  expect(r.stderr).not.toMatch(/unexpected error|RangeError|\n\s+at /);
}

describe('fsm run: one bad record fails alone', () => {
  for (const mode of modes) {
    it(`${mode}: an input record nested 100 000 levels deep is a failed line naming stdin:line; the others run; exit 1`, async () => {
      const { r, lines } = await runIn(mode, [passConfig, '-i', '-'], `{"id":1}\n${deepLine}\n{"id":3}\n`);
      noCrash(r);
      expect(r.code).toBe(1);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ success: true, data: { id: 1 } });
      expect(lines[1]).toMatchObject({
        success: false,
        error: { code: 'IO_FAILED', message: 'stdin:2: nested deeper than 1000 levels (maxDepth)' },
      });
      expect(lines[2]).toMatchObject({ success: true, data: { id: 3 } });
      expect(r.stderr).toMatch(/2 succeeded, 1 failed/);
    });

    it(`${mode}: results that cannot be written as JSON (BigInt, cycle, 100 000 deep) fail alone with a typed code`, async () => {
      const stdin = ['ok', 'bigint', 'cycle', 'deep', 'ok']
        .map((kind, i) => JSON.stringify({ i, kind }))
        .join('\n');
      const { r, lines } = await runIn(
        mode,
        [poisonConfig, '-i', '-', '--allow-code', '--functions', poisonFunctions],
        `${stdin}\n`,
      );
      noCrash(r);
      expect(r.code).toBe(1);
      expect(lines.map((l) => l.success)).toEqual([true, false, false, false, true]);
      expect(lines[0]).toMatchObject({ data: { i: 0, kind: 'ok' } });
      expect(lines[4]).toMatchObject({ data: { i: 4, kind: 'ok' } });
      for (const line of lines.slice(1, 4)) {
        expect(['RESULT_NOT_SERIALIZABLE', 'DATA_INVALID']).toContain(
          (line.error as { code: string } | undefined)?.code,
        );
      }
      expect(r.stderr).toMatch(/2 succeeded, 3 failed/);
    });
  }

  it('a BigInt result is RESULT_NOT_SERIALIZABLE in its line, with why', async () => {
    const { r, lines } = await runIn(
      'stdout',
      [poisonConfig, '-i', '-', '--allow-code', '--functions', poisonFunctions],
      '{"kind":"bigint"}\n',
    );
    expect(r.code).toBe(1);
    expect(lines).toEqual([
      {
        success: false,
        finalState: 'b',
        data: null,
        path: ['a', 'b'],
        error: {
          code: 'RESULT_NOT_SERIALIZABLE',
          message:
            'the record ran, but its result cannot be written as JSON: Do not know how to serialize a BigInt',
          cause: { name: 'TypeError', message: 'Do not know how to serialize a BigInt' },
        },
      },
    ]);
  });

  it('a too-deep element of a JSON array input file fails alone with file:line', async () => {
    const input = join(dir, 'deep.json');
    writeFileSync(input, `[\n{"id":1},\n${deepLine},\n{"id":3}\n]\n`);
    const { r, lines } = await runIn('stdout', [passConfig, '-i', input], '');
    noCrash(r);
    expect(r.code).toBe(1);
    expect(lines.map((l) => l.success)).toEqual([true, false, true]);
    expect(lines[1]?.error).toMatchObject({
      message: `${input}:3: nested deeper than 1000 levels (maxDepth)`,
    });
  });
});

describe('fsm run --queue: one bad record fails alone', () => {
  it('a too-deep input record is a failed line in its place; the others are run by a worker', async () => {
    const queue = `robust-${process.pid}-${Date.now().toString(36)}`;
    const worker = spawn(process.execPath, [bin, 'worker', passConfig, '--queue', queue], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve) => {
        worker.stderr?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('on queue')) resolve();
        });
      });
      const r = await fsm(['run', passConfig, '-i', '-', '--queue', queue, '--no-progress'], {
        stdin: `{"id":1}\n${deepLine}\n{"id":3}\n`,
      });
      noCrash(r);
      expect(r.code).toBe(1);
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => l.success)).toEqual([true, false, true]);
      expect(lines[1]?.error).toMatchObject({
        code: 'IO_FAILED',
        message: expect.stringContaining('stdin:2:'),
      });
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.on('close', resolve));
    }
  }, 60_000);
});

describe('fsm run: stdin and encodings', () => {
  it('--input - reads JSONL without --input-format', async () => {
    const r = await fsm(['run', passConfig, '-i', '-', '--no-progress'], { stdin: '{"id":1}\n{"id":2}\n' });
    expect(r.stderr).toMatch(/2 succeeded, 0 failed/);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.data)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('--input-format still picks CSV or JSON for stdin', async () => {
    const csv = await fsm(['run', passConfig, '-i', '-', '--input-format', 'csv', '--no-progress'], {
      stdin: 'id,name\n1,a\n',
    });
    expect(jsonLines(csv.stdout).map((l) => l.data)).toEqual([{ id: 1, name: 'a' }]);
    const json = await fsm(['run', passConfig, '-i', '-', '--input-format', 'json', '--no-progress'], {
      stdin: '[{"id":1},{"id":2}]',
    });
    expect(jsonLines(json.stdout).map((l) => l.data)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('invalid UTF-8 on stdin stops with stdin:line (exit 2); --replace-invalid-utf8 replaces it', async () => {
    const stdin = Buffer.concat([
      Buffer.from('{"id":1}\n{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}\n'),
    ]);
    const strict = await fsm(['run', passConfig, '-i', '-', '--no-progress'], { stdin });
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^fsm: stdin:2: invalid UTF-8 \(byte 0xe9\)/);
    const replaced = await fsm(['run', passConfig, '-i', '-', '--replace-invalid-utf8', '--no-progress'], {
      stdin,
    });
    expect(replaced.code).toBe(0);
    expect(jsonLines(replaced.stdout).map((l) => l.data)).toEqual([{ id: 1 }, { name: 'caf\ufffd' }]);
  });

  it('invalid UTF-8 in a CSV input file is an IO_FAILED error naming file:line, exit 2', async () => {
    const input = join(dir, 'latin1.csv');
    writeFileSync(input, Buffer.from('id,name\n1,caf\xe9\n', 'latin1'));
    const r = await fsm(['run', passConfig, '-i', input, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fsm: IO_FAILED: ${input}:2: invalid UTF-8`);
  });

  it('a BOM before JSONL on stdin or in a file is dropped', async () => {
    const r = await fsm(['run', passConfig, '-i', '-', '--no-progress'], { stdin: '\ufeff{"id":1}\n' });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.data)).toEqual([{ id: 1 }]);
    const input = join(dir, 'bom.jsonl');
    writeFileSync(input, '\ufeff{"id":2}\n');
    const f = await fsm(['run', passConfig, '-i', input, '--no-progress']);
    expect(jsonLines(f.stdout).map((l) => l.data)).toEqual([{ id: 2 }]);
  });
});
