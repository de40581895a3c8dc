import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsm, repo } from './run-cli.js';

// `fsm migrate` on every dataknobs config of examples/dataknobs: the report is golden (`<name>.migrate.txt`),
// and `--write` reproduces `<name>.migrated.yaml` (what the corpus test runs for configs with inline Python).
// Regenerate with UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
const dir = join(repo, 'examples', 'dataknobs');
const configs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.migrated.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';
const tmp = mkdtempSync(join(tmpdir(), 'fsm-migrate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const golden = (file: string, actual: string) => {
  if (update) writeFileSync(file, actual);
  expect(existsSync(file), `${file} is missing (UPDATE_GOLDEN=1 writes it)`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
};

describe('fsm migrate', () => {
  it.each(configs)(
    '%s: golden report, and --write gives a config that loads here',
    async (name) => {
      const report = await fsm(['migrate', `${name}.yaml`], { cwd: dir });
      expect(report.stderr).toBe('');
      golden(join(dir, `${name}.migrate.txt`), report.stdout);
      const needsAction = report.stdout.includes('Needs action:');
      expect(report.code).toBe(needsAction ? 1 : 0);

      const out = join(tmp, `${name}.yaml`);
      const written = await fsm(['migrate', `${name}.yaml`, '--write', out], { cwd: dir });
      expect(written.code).toBe(report.code);
      expect(written.stdout).toBe(`${report.stdout}Wrote ${out}.\n`);
      const check = await fsm(['validate', out, '--allow-code'], { cwd: dir });
      // Registered names in the written config (stubs to fill in) are checked without a functions module.
      expect(check.code, check.stderr).toBe(0);
      const migrated = join(dir, `${name}.migrated.yaml`);
      if (existsSync(migrated) || (update && report.stdout.includes('Inline Python')))
        golden(migrated, readFileSync(out, 'utf8'));
      // Three CLI processes per config on a busy machine.
    },
    120_000,
  );

  it('a config that loads unchanged exits 0 and says so', async () => {
    const r = await fsm(['migrate', 'transformers-library.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Loads here unchanged: nothing to port.');
  });

  it('an unreadable file or an invalid config exits 2', async () => {
    expect((await fsm(['migrate', join(tmp, 'missing.yaml')])).code).toBe(2);
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'name: x\nnetworks: [ { name: main, states: [ { name: a, is_start: true } ] }\n');
    expect((await fsm(['migrate', broken])).code).toBe(2);
    const invalid = join(tmp, 'invalid.yaml');
    writeFileSync(
      invalid,
      'name: x\nnetworks:\n  - name: main\n    states:\n      - { name: a, is_start: true, arcs: [{ target: nowhere }] }\n',
    );
    const r = await fsm(['migrate', invalid]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nowhere');
  });

  it('a device or an oversized file is refused at once (exit 2), not read', async () => {
    const zero = await fsm(['migrate', '/dev/zero']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('not a regular file');
  });

  it("includes resolve against the config's folder, wherever fsm migrate runs", async () => {
    const folder = join(tmp, 'with-include');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'states.yaml'),
      'states:\n  - { name: a, is_start: true, arcs: [{ target: b }] }\n  - { name: b, is_end: true }\n',
    );
    writeFileSync(join(folder, 'main.yaml'), '$include: states.yaml\nname: inc\n');
    const r = await fsm(['migrate', join(folder, 'main.yaml')], { cwd: tmpdir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a Python module outside the library becomes a registered stub; the library module a builtin', async () => {
    const file = join(tmp, 'custom.yaml');
    writeFileSync(
      file,
      [
        'name: custom',
        'networks:',
        '  - name: main',
        '    states:',
        '      - name: a',
        '        is_start: true',
        '        transforms:',
        '          - { type: custom, module: my_pkg.steps, name: clean }',
        '          - { type: custom, module: dataknobs_fsm.functions.library.transformers, name: FieldMapper, params: { field_map: { a: b } } }',
        '        arcs: [{ target: b }]',
        '      - { name: b, is_end: true }',
        '',
      ].join('\n'),
    );
    const out = join(tmp, 'custom.out.yaml');
    const r = await fsm(['migrate', file, '--write', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('python:  from my_pkg.steps import clean');
    expect(r.stdout).toContain(
      'clean: (data: Record<string, unknown>, context: FunctionContext): unknown =>',
    );
    const written = readFileSync(out, 'utf8');
    expect(written).toContain('- clean');
    expect(written).toContain('name: transformers.FieldMapper');
  });
});
