// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are what these tests are about
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { loadConfig, loadConfigWithWarnings } from './index.js';
import { jsonErrorOffset } from './parse.js';
import { configErrorOf, minimal, tempDir } from './test-support/helpers.js';

describe('loading config files', () => {
  test('a YAML file loads, with its directory as baseDir and its absolute path as sourceFile', async () => {
    const dir = tempDir({
      'fsm.yml': 'name: y\nstates:\n  - { name: a, is_start: true, is_end: true }\n',
    });
    const loaded = await loadConfigWithWarnings(join(dir, 'fsm.yml'), { env: {} });
    expect(loaded.config.name).toBe('y');
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.sourceFile).toBe(join(dir, 'fsm.yml'));
  });

  test('a JSON file loads as JSON', async () => {
    const dir = tempDir({ 'fsm.json': JSON.stringify(minimal()) });
    const config = await loadConfig(join(dir, 'fsm.json'), { env: {} });
    expect(config.networks[0]?.states.map((s) => s.name)).toEqual(['start', 'done']);
  });

  test('a relative file path resolves against baseDir', async () => {
    const dir = tempDir({ 'fsm.json': JSON.stringify(minimal()) });
    const loaded = await loadConfigWithWarnings('fsm.json', { env: {}, baseDir: dir });
    expect(loaded.sourceFile).toBe(join(dir, 'fsm.json'));
  });

  test('a YAML syntax error names the file, line and column', async () => {
    const dir = tempDir({ 'bad.yaml': 'name: ok\nstates:\n  - name: a\n    is_start: [true\n' });
    const error = await configErrorOf(loadConfig(join(dir, 'bad.yaml')));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.file).toBe(join(dir, 'bad.yaml'));
    expect(error.issues[0]?.message).toMatch(/^YAML syntax error at line 5, column 1: /);
    expect(error.message).toContain(join(dir, 'bad.yaml'));
  });

  test('a JSON syntax error names the line and column', async () => {
    const dir = tempDir({ 'bad.json': '{\n  "name": "x",\n  "states": [}\n' });
    const error = await configErrorOf(loadConfig(join(dir, 'bad.json')));
    expect(error.issues[0]?.message).toMatch(/^JSON syntax error at line 3, column 14: /);
  });

  test('an unreadable file is a ConfigError naming the file', async () => {
    const dir = tempDir({});
    const file = join(dir, 'missing.yaml');
    const error = await configErrorOf(loadConfig(file));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues[0]?.message).toContain(`cannot read config file ${file}`);
  });

  test('an object is normalized like a file, with env substitution and includes against baseDir', async () => {
    const dir = tempDir({ 'net.json': JSON.stringify((minimal().networks as unknown[])[0]) });
    const loaded = await loadConfigWithWarnings(
      { name: '${NAME}', networks: [{ $include: 'net.json' }] },
      { env: { NAME: 'obj' }, baseDir: dir },
    );
    expect(loaded.config.name).toBe('obj');
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.sourceFile).toBeUndefined();
  });

  test('errors in a loaded file are reported with the file as source', async () => {
    const dir = tempDir({
      'fsm.yaml': 'name: x\nstates:\n  - { name: a, is_start: true, arcs: [{ target: b }] }\n',
    });
    const error = await configErrorOf(loadConfig(join(dir, 'fsm.yaml')));
    expect(error.issues).toEqual([
      { path: 'states[0].arcs[0].target', message: "unknown state 'b' in network 'main'" },
    ]);
    expect(error.message.startsWith(`Invalid FSM config in ${join(dir, 'fsm.yaml')} (1 issue)`)).toBe(true);
  });
});

describe('JSON error location', () => {
  test.each([
    ['{"a": 1,}', 8],
    ['{"a": 1', 7],
    ['[1, 2', 5],
    ['{"a": tru}', 6],
    ['{"a": "x"} extra', 11],
    ['{"a": [1, {"b": null}], "c": -1.5e3}', -1],
  ])('jsonErrorOffset(%j) is %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});
