import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { isStepLogStore } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { bin, fsm, jsonLines, orderConfig, ordersJsonl, repo } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startup', () => {
  it("keeps the compiled code of its modules in Node's compile cache for the next run", async () => {
    // The default cache folder is under the OS temp dir: a fresh TMPDIR shows what this run put there.
    const temp = join(dir, 'startup-tmp');
    mkdirSync(temp);
    const env = { TMPDIR: temp };
    const first = await fsm(['run', orderConfig, '--input', ordersJsonl, '--no-progress'], { env });
    expect(first.code).toBe(1);
    const cached = readdirSync(join(temp, 'node-compile-cache'), { recursive: true, withFileTypes: true });
    // The bundle's chunks (scripts/bundle.mjs) and the few external modules a run loads: a few dozen,
    // not the ~750 files of the CLI's packages and libraries unbundled.
    const files = cached.filter((e) => e.isFile()).length;
    expect(files).toBeGreaterThan(5);
    expect(files).toBeLessThan(100);
    const second = await fsm(['run', orderConfig, '--input', ordersJsonl, '--no-progress'], { env });
    expect(second.stdout).toBe(first.stdout);
  });
});

describe('fsm run', () => {
  it('runs a JSONL file: one line per record in input order, summary on stderr, exit 1 when some fail', async () => {
    const r = await fsm(['run', orderConfig, '--input', ordersJsonl, '--no-progress']);
    const lines = jsonLines(r.stdout);
    const input = jsonLines(readFileSync(ordersJsonl, 'utf8'));
    expect(lines).toHaveLength(input.length);
    expect(lines.map((l) => (l.data as { order_id: string }).order_id)).toEqual(input.map((i) => i.order_id));
    const failed = lines.filter((l) => l.success === false);
    expect(failed).toHaveLength(2);
    expect(failed[0]?.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    const ok = lines.find((l) => l.success === true);
    expect(ok).toMatchObject({ finalState: expect.stringMatching(/^(express|standard|manual_review)$/) });
    expect(ok?.path).toEqual(expect.arrayContaining(['receive', 'price']));
    expect(r.stderr).toMatch(/38 succeeded, 2 failed/);
    expect(r.code).toBe(1);
  });

  it('reads stdin and writes stdout; exit 0 when all succeed', async () => {
    const stdin = '{"order_id":"X","amount":2000,"region":"EU"}\n{"order_id":"Y","amount":3,"region":"US"}\n';
    const real = await fsm(
      ['run', orderConfig, '-i', '-', '--input-format', 'jsonl', '--no-progress', '--json'],
      {
        stdin,
      },
    );
    expect(real.code).toBe(0);
    expect(jsonLines(real.stdout).map((l) => l.finalState)).toEqual(['manual_review', 'express']);
    expect(JSON.parse(real.stderr.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
      succeeded: 2,
      failed: 0,
      byFinalState: { manual_review: 1, express: 1 },
    });
  });

  it('reads CSV (typed values, empty cells missing) and gzipped JSONL like JSONL', async () => {
    const csv = await fsm([
      'run',
      orderConfig,
      '-i',
      join(repo, 'examples', 'data', 'orders.csv'),
      '--no-progress',
    ]);
    const plain = await fsm(['run', orderConfig, '-i', ordersJsonl, '--no-progress']);
    expect(jsonLines(csv.stdout)).toEqual(jsonLines(plain.stdout));
    const gz = join(dir, 'orders.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(ordersJsonl)));
    const zipped = await fsm(['run', orderConfig, '-i', gz, '--no-progress']);
    expect(jsonLines(zipped.stdout)).toEqual(jsonLines(plain.stdout));
  });

  it('stdin takes CSV too, through the same parser as files', async () => {
    const r = await fsm(['run', orderConfig, '-i', '-', '--input-format', 'csv', '--no-progress'], {
      stdin: 'order_id,amount,region\nX,2000,EU\n',
    });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({
      finalState: 'manual_review',
      data: { order_id: 'X', amount: 2000 },
    });
  });

  it('writes --output atomically to a file', async () => {
    const output = join(dir, 'out.jsonl');
    const r = await fsm(['run', orderConfig, '-i', ordersJsonl, '-o', output, '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(jsonLines(readFileSync(output, 'utf8'))).toHaveLength(40);
  });

  it('a malformed input line is a usage error naming the line', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"order_id":"a","amount":1,"region":"US"}\n{oops\n');
    const r = await fsm(['run', orderConfig, '-i', bad, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:2`);
  });

  it('an invalid config exits 2 with every issue and its path', async () => {
    const config = join(dir, 'invalid.yaml');
    writeFileSync(
      config,
      'name: x\nstates:\n  - name: a\n    is_start: true\n    arcs:\n      - target: nowhere\n',
    );
    const r = await fsm(['run', config, '-i', ordersJsonl, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/arcs\[0\]\.target/);
    expect(r.stderr).toContain('nowhere');
  });

  it('usage errors exit 2: unknown option, missing file, --functions without --allow-code', async () => {
    expect((await fsm(['run', orderConfig, '--bogus'])).code).toBe(2);
    expect((await fsm(['run', join(dir, 'missing.yaml'), '-i', ordersJsonl])).code).toBe(2);
    const r = await fsm(['run', orderConfig, '-i', ordersJsonl, '--functions', 'x.mjs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--allow-code');
  });

  it('--timeout stops a slow record (per-record timeout) and reports TIMEOUT', async () => {
    const fns = join(dir, 'slow.mjs');
    writeFileSync(
      fns,
      'export const slow = (d, ctx) => new Promise((resolve, reject) => { const t = setTimeout(() => resolve(d), 10000); ctx.signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("stopped")); }); });\n',
    );
    const config = join(dir, 'slow.yaml');
    writeFileSync(
      config,
      'name: slow\nstates:\n  - name: a\n    is_start: true\n    transforms: [slow]\n    arcs: [{ target: b }]\n  - name: b\n    is_end: true\n',
    );
    const started = Date.now();
    const r = await fsm(
      [
        'run',
        config,
        '-i',
        '-',
        '--input-format',
        'jsonl',
        '--functions',
        fns,
        '--allow-code',
        '--timeout',
        '200ms',
        '--no-progress',
      ],
      {
        stdin: '{"a":1}\n',
      },
    );
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)[0]?.error).toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('fsm output into a closed pipe', () => {
  it('stops quietly when the reader goes away (| head), without an EPIPE crash', async () => {
    const input = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i })).join('\n');
    const config = join(dir, 'pipe.yaml');
    writeFileSync(config, 'name: pipe\nstates:\n  - { name: a, is_start: true, is_end: true }\n');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'run', config, '--no-progress'], { stdio: 'pipe' });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // Like `head -1`: read the first line, then close the pipe.
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.stderr).not.toContain('Unhandled');
    expect(result.code).not.toBe(2);
  });
});

describe('fsm validate / graph / init', () => {
  it('validate: exit 0 for a good config, 1 with every issue for a bad one', async () => {
    expect((await fsm(['validate', orderConfig])).code).toBe(0);
    const config = join(dir, 'two-issues.yaml');
    writeFileSync(config, 'name: x\nstates:\n  - name: a\n    arcs:\n      - target: nowhere\n');
    const r = await fsm(['validate', config, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { valid: boolean; issues: { path: string }[] };
    expect(report.valid).toBe(false);
    expect(report.issues.length).toBeGreaterThanOrEqual(2);
  });

  it('validate: a function named after an Object.prototype member is unknown, as fsm run finds it', async () => {
    for (const name of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const config = join(dir, `proto-name-${name}.yaml`);
      writeFileSync(
        config,
        `name: x\nstates:\n  - { name: a, is_start: true, transforms: ["${name}"], arcs: [{ target: b }] }\n  - { name: b, is_end: true }\n`,
      );
      const r = await fsm(['validate', config]);
      expect(r.code, name).toBe(1);
      expect(r.stderr + r.stdout).toContain(
        `networks[0].states[0].transforms[0]: unknown function "${name}"`,
      );
    }
  });

  it('graph prints mermaid and dot', async () => {
    const mermaid = await fsm(['graph', orderConfig]);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toMatch(/stateDiagram-v2[\s\S]*main__receive --> main__price/);
    const dot = await fsm(['graph', orderConfig, '--format', 'dot']);
    expect(dot.stdout).toMatch(/digraph[\s\S]*"main__receive" -> "main__price"/);
  });

  it('init scaffolds a config that validates and runs', async () => {
    const target = join(dir, 'scaffold');
    expect((await fsm(['init', target, '--pattern', 'validation'])).code).toBe(0);
    expect((await fsm(['validate', join(target, 'fsm.yaml')])).code).toBe(0);
    const r = await fsm(['run', join(target, 'fsm.yaml'), '-i', join(target, 'data.jsonl'), '--no-progress']);
    expect([0, 1]).toContain(r.code);
    expect(jsonLines(r.stdout).length).toBeGreaterThan(0);
  });

  it('--help works on every command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['history', 'list', '--help'], ['graph', '--help']]) {
      const r = await fsm(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: fsm/);
    }
  });
});

/** Executions of a store that still have a checkpoint (the SQLite store lists them by prefix). */
async function checkpointsOf(store: unknown, prefix: string): Promise<string[]> {
  if (!isStepLogStore(store) || !store.listCheckpoints) throw new Error('the sqlite store lists checkpoints');
  return store.listCheckpoints(prefix);
}

describe('fsm run --storage, history, resume', () => {
  it('stores each record history in SQLite; history list/show/delete read it', async () => {
    const db = `sqlite:${join(dir, 'history.db')}`;
    const r = await fsm([
      'run',
      orderConfig,
      '-i',
      ordersJsonl,
      '--storage',
      db,
      '--batch-id',
      'demo',
      '--no-progress',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('batch id: demo');
    const list = await fsm(['history', 'list', '--storage', db, '--limit', '50', '--json']);
    const summaries = jsonLines(list.stdout);
    expect(summaries).toHaveLength(40);
    expect(summaries.filter((s) => s.status === 'failed')).toHaveLength(2);
    const failed = await fsm(['history', 'list', '--storage', db, '--status', 'failed']);
    expect(failed.stdout.trim().split('\n')).toHaveLength(2);
    const show = await fsm(['history', 'show', 'demo:0', '--storage', db]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/main\.receive/);
    // resume without naming the config: the one recorded with the execution is used.
    const again = await fsm(['resume', 'demo:1', '--storage', db]);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout)[0]).toMatchObject({ success: true, data: { order_id: 'A-0002' } });
    const unknown = await fsm(['resume', 'nope', '--storage', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('names its config');
    expect((await fsm(['history', 'delete', 'demo:0', '--storage', db])).code).toBe(0);
    expect((await fsm(['history', 'show', 'demo:0', '--storage', db])).code).toBe(1);
  });

  it('--resume of a finished batch reports every record from the store as the run did, running none', async () => {
    const db = `sqlite:${join(dir, 'finished.db')}`;
    const args = ['run', orderConfig, '-i', ordersJsonl, '--storage', db, '--no-progress'];
    const first = await fsm([...args, '--batch-id', 'done']);
    const again = await fsm([...args, '--resume', 'done']);
    expect(again.code).toBe(first.code);
    expect(jsonLines(again.stdout)).toEqual(jsonLines(first.stdout));
    expect(jsonLines(first.stdout)[0]?.path).toEqual(expect.arrayContaining(['receive']));
  });

  it('a run killed midway finishes with --resume: output holds every record once', async () => {
    const fns = join(dir, 'slowish.mjs');
    writeFileSync(fns, 'export const tick = (d) => new Promise((r) => setTimeout(() => r(d), 5));\n');
    const config = join(dir, 'ticks.yaml');
    writeFileSync(
      config,
      'name: ticks\nstates:\n  - name: a\n    is_start: true\n    transforms: [tick]\n    arcs: [{ target: b }]\n  - name: b\n    transforms: [tick]\n    arcs: [{ target: c }]\n  - name: c\n    is_end: true\n',
    );
    const input = join(dir, 'ticks.jsonl');
    writeFileSync(input, Array.from({ length: 400 }, (_, i) => JSON.stringify({ i })).join('\n'));
    const db = `sqlite:${join(dir, 'resume.db')}`;
    const output = join(dir, 'ticks-out.jsonl');
    const args = [
      'run',
      config,
      '-i',
      input,
      '-o',
      output,
      '--storage',
      db,
      '--functions',
      fns,
      '--allow-code',
      '--no-progress',
      '-c',
      '4',
    ];
    const { spawn } = await import('node:child_process');
    const { bin } = await import('./run-cli.js');
    const first = spawn(process.execPath, [bin, ...args, '--batch-id', 'ticks'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 700));
    first.kill('SIGKILL');
    await new Promise((r) => first.on('close', r));
    const store = await createStorage(db);
    const inFlight = await checkpointsOf(store, 'ticks:');
    await store.close();
    const resumed = await fsm([...args, '--resume', 'ticks']);
    expect(resumed.code).toBe(0);
    const rows = jsonLines(readFileSync(output, 'utf8'));
    expect(rows.map((row) => (row.data as { i: number }).i)).toEqual(
      Array.from({ length: 400 }, (_, i) => i),
    );
    // Nothing of the killed run is left: no temp output file, no checkpoint of a record in flight.
    expect(readdirSync(dir).filter((name) => name.startsWith('ticks-out.jsonl.tmp-'))).toEqual([]);
    const after = await createStorage(db);
    expect(await checkpointsOf(after, 'ticks:')).toEqual([]);
    await after.close();
    // A record that was in flight at the kill is finished now: resuming it runs nothing and says so.
    const id = inFlight[0] ?? 'ticks:0';
    const again = await fsm(['resume', id, '--storage', db, '--allow-code']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already finished');
    expect(jsonLines(again.stdout)[0]).toMatchObject({ success: true, finalState: 'c' });
  }, 60_000);
});

describe('fsm worker and fsm run --queue', () => {
  it('records submitted with fsm run --queue are run by two fsm worker processes; output in input order', async () => {
    const { spawn } = await import('node:child_process');
    const { bin } = await import('./run-cli.js');
    const queue = `cli-${process.pid}-${Date.now().toString(36)}`;
    const workers = [0, 1].map(() =>
      spawn(process.execPath, [bin, 'worker', orderConfig, '--queue', queue, '--concurrency', '4'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.stderr?.on('data', (chunk: Buffer) => {
                if (chunk.toString().includes('on queue')) resolve();
              });
            }),
        ),
      );
      const r = await fsm(['run', orderConfig, '-i', ordersJsonl, '--queue', queue, '--no-progress']);
      expect(r.code).toBe(1);
      const lines = jsonLines(r.stdout);
      const input = jsonLines(readFileSync(ordersJsonl, 'utf8'));
      expect(lines.map((l) => (l.data as { order_id: string }).order_id)).toEqual(
        input.map((i) => i.order_id),
      );
      expect(lines.filter((l) => l.success === false)).toHaveLength(2);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((resolve) => w.on('close', resolve))));
    }
  }, 60_000);
});
