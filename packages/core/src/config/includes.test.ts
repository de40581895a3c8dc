// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are what these tests are about
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, loadConfigWithWarnings, normalizeConfig } from './index.js';
import { configErrorOf, issuesOf, tempDir } from './test-support/helpers.js';

const env = {};

const network = `
name: main
states:
  - { name: start, is_start: true, arcs: [{ target: done }] }
  - { name: done, is_end: true }
`;

describe('$include and $import', () => {
  test('$include merges the file under the current keys: current keys win, objects merge deeply', async () => {
    const dir = tempDir({
      'base.yaml': `
name: from-base
max_transitions: 5
metadata: { team: data, owner: base }
networks:
  - $include: net.yaml
`,
      'net.yaml': network,
      'main.yaml': `
$include: base.yaml
name: from-main
metadata: { owner: main }
`,
    });
    const config = await loadConfig(join(dir, 'main.yaml'), { env });
    expect(config.name).toBe('from-main');
    expect(config.max_transitions).toBe(5);
    expect(config.metadata).toEqual({ team: 'data', owner: 'main' });
    expect(config.networks[0]?.states.map((s) => s.name)).toEqual(['start', 'done']);
  });

  test('a list of includes merges in order, later files winning over earlier ones', () => {
    const dir = tempDir({
      'one.yaml': 'name: one\nmax_transitions: 1\ndescription: from one\n',
      'two.yaml': 'name: two\nmax_transitions: 2\n',
      'net.yaml': network,
    });
    const { config } = normalizeConfig(
      { $include: ['one.yaml', 'two.yaml'], networks: [{ $include: 'net.yaml' }] },
      { env, baseDir: dir },
    );
    expect(config).toMatchObject({ name: 'two', max_transitions: 2, description: 'from one' });
  });

  test('nested includes resolve relative to the including file', async () => {
    const dir = tempDir({
      'main.yaml': 'name: nested\nnetworks:\n  - $include: parts/net.yaml\n',
    });
    mkdirSync(join(dir, 'parts', 'states'), { recursive: true });
    writeFileSync(
      join(dir, 'parts', 'net.yaml'),
      'name: main\nstates:\n  - $include: states/start.yaml\n  - { name: done, is_end: true }\n',
    );
    writeFileSync(
      join(dir, 'parts', 'states', 'start.yaml'),
      'name: start\nis_start: true\narcs: [{ target: done }]\n',
    );
    const config = await loadConfig(join(dir, 'main.yaml'), { env });
    expect(config.networks[0]?.states[0]).toMatchObject({
      name: 'start',
      is_start: true,
      arcs: [{ target: 'done' }],
    });
  });

  test('an include cycle is rejected with the chain of files', async () => {
    const dir = tempDir({
      'a.yaml': 'name: a\n$include: b.yaml\n',
      'b.yaml': 'description: b\n$include: a.yaml\n',
    });
    const error = await configErrorOf(loadConfig(join(dir, 'a.yaml'), { env }));
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      ['$include', 'include cycle: a.yaml → b.yaml → a.yaml'],
    ]);
  });

  test('a missing include file is reported at the $include key', () => {
    const dir = tempDir({});
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', networks: [{ $include: 'nope.yaml' }] }, { env, baseDir: dir }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('networks[0].$include');
    expect(issues[0]?.message).toContain(`cannot read config file ${join(dir, 'nope.yaml')}`);
  });

  test('$import with a path replaces the value with that part of the file', () => {
    const dir = tempDir({
      'shared.json': JSON.stringify({
        nets: { main: { name: 'main', states: [{ name: 's', is_start: true, is_end: true }] } },
      }),
    });
    const { config } = normalizeConfig(
      { name: 'x', networks: [{ $import: { file: 'shared.json', path: 'nets.main' } }] },
      { env, baseDir: dir },
    );
    expect(config.networks[0]?.name).toBe('main');
    expect(config.networks[0]?.states[0]?.name).toBe('s');
  });

  test('$import of a whole file by name, and a missing import path is reported', () => {
    const dir = tempDir({ 'res.yaml': '- { name: db, type: database }\n' });
    const { config } = normalizeConfig(
      {
        name: 'x',
        resources: { $import: 'res.yaml' },
        states: [{ name: 's', is_start: true, is_end: true }],
      },
      { env, baseDir: dir },
    );
    expect(config.resources.map((r) => r.name)).toEqual(['db']);
    const issues = issuesOf(() =>
      normalizeConfig(
        { name: 'x', resources: { $import: { file: 'res.yaml', path: '0.missing' } } },
        { env, baseDir: dir },
      ),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['resources.$import.path', "'0.missing' not found in res.yaml"],
    ]);
  });

  test('env variables are substituted in include file names and included content', async () => {
    const dir = tempDir({
      'prod.yaml': 'description: ${STAGE}\n',
      'main.yaml': `$include: \${STAGE}.yaml\nname: x\nnetworks: [{ $include: net.yaml }]\n`,
      'net.yaml': network,
    });
    const { config } = await loadConfigWithWarnings(join(dir, 'main.yaml'), { env: { STAGE: 'prod' } });
    expect(config.description).toBe('prod');
  });

  test('an included file with a syntax error is reported at the $include key with its line', () => {
    const dir = tempDir({ 'bad.yaml': 'name: [unclosed\n' });
    const issues = issuesOf(() => normalizeConfig({ $include: 'bad.yaml' }, { env, baseDir: dir }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('$include');
    expect(issues[0]?.file).toBe(join(dir, 'bad.yaml'));
    expect(issues[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+/);
  });
});
