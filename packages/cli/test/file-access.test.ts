import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { bin, fsm, jsonLines } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `project/main.yaml` takes its description from `shared/meta.yaml`, a sibling folder. */
function project(): { main: string; shared: string } {
  const base = mkdtempSync(join(dir, 'case-'));
  const shared = join(base, 'shared');
  mkdirSync(shared);
  mkdirSync(join(base, 'project'));
  writeFileSync(join(shared, 'meta.yaml'), 'description: from shared\n');
  const main = join(base, 'project', 'main.yaml');
  writeFileSync(
    main,
    [
      'name: access',
      '$include: ../shared/meta.yaml',
      'states:',
      '  - { name: start, is_start: true, arcs: [{ target: done }] }',
      '  - { name: done, is_end: true }',
      '',
    ].join('\n'),
  );
  return { main, shared };
}

describe('config file access from the CLI', () => {
  it('an include outside the config folder is refused (exit 2, naming the path and file) unless --allow-read', async () => {
    const { main, shared } = project();
    const refused = await fsm(['run', main, '--no-progress'], { stdin: '{"a":1}\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('CONFIG_INVALID');
    expect(refused.stderr).toContain(`$include: refusing to read ${join(shared, 'meta.yaml')}`);
    expect(refused.stderr).not.toMatch(/unexpected error|\n\s+at /);

    const allowed = await fsm(['run', main, '--no-progress', '--allow-read', shared], { stdin: '{"a":1}\n' });
    expect(allowed.stderr).toContain('1 succeeded');
    expect(allowed.code).toBe(0);
    expect(jsonLines(allowed.stdout)).toMatchObject([{ success: true, finalState: 'done' }]);
  });

  it('validate and graph take --allow-read (repeatable)', async () => {
    const { main, shared } = project();
    const invalid = await fsm(['validate', main]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('refusing to read');
    const valid = await fsm([
      'validate',
      main,
      '--allow-read',
      '/nonexistent-but-fine-to-name',
      '--allow-read',
      shared,
    ]);
    expect(valid.stderr).toContain('allowedRoots[0]: cannot resolve');
    const ok = await fsm(['validate', main, '--allow-read', join(shared, '..'), '--allow-read', shared]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid');
    const graph = await fsm(['graph', main, '--allow-read', shared]);
    expect(graph.code).toBe(0);
    expect(graph.stdout).toContain('start');
    expect((await fsm(['graph', main])).code).toBe(2);
  });

  it('migrate takes --allow-read', async () => {
    const { main, shared } = project();
    const cwd = join(main, '..');
    const refused = await fsm(['migrate', main], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to read');
    const ok = await fsm(['migrate', main, '--allow-read', shared], { cwd });
    expect(ok.stderr).not.toContain('refusing to read');
    expect(ok.code).toBe(0);
  });

  it('a self-referencing YAML alias is a config error naming the file, not a crash', async () => {
    const file = join(dir, 'self.yaml');
    writeFileSync(file, 'name: x\na: &a [*a]\n');
    const r = await fsm(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} contains itself`);
    expect(r.stderr).not.toMatch(/unexpected error|RangeError|ReferenceError/);
  });

  it('--storage under /proc fails fast with STORAGE_FAILED naming the path (exit 2)', async () => {
    const { main, shared } = project();
    for (const storage of ['sqlite:/proc/nope/x.db', 'file:/proc/nope/history']) {
      const r = await fsm(['run', main, '--no-progress', '--allow-read', shared, '--storage', storage], {
        stdin: '{"a":1}\n',
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('STORAGE_FAILED');
      expect(r.stderr).toContain('cannot create folder /proc/nope');
      expect(r.stdout).toBe('');
    }
  });

  it('fsm worker and fsm run --queue take --allow-read', async () => {
    const { main, shared } = project();
    const queue = `access-${process.pid}-${Date.now().toString(36)}`;
    const worker = spawn(process.execPath, [bin, 'worker', main, '--queue', queue, '--allow-read', shared], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<never>((_resolve, reject) => {
      worker.on('close', (code) => reject(new Error(`fsm worker exited early (${code}): ${stderr}`)));
    });
    try {
      await Promise.race([
        exited,
        new Promise<void>((resolve) => {
          worker.stderr?.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
            if (stderr.includes('on queue')) resolve();
          });
        }),
      ]);
      const r = await Promise.race([
        exited,
        fsm(['run', main, '--queue', queue, '--no-progress', '--allow-read', shared], {
          stdin: '{"a":1}\n{"a":2}\n',
        }),
      ]);
      expect(r.code).toBe(0);
      expect(jsonLines(r.stdout)).toMatchObject([
        { success: true, finalState: 'done' },
        { success: true, finalState: 'done' },
      ]);
    } finally {
      exited.catch(() => undefined);
      if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGTERM');
        await new Promise((resolve) => worker.on('close', resolve));
      }
    }
  }, 60_000);
});
