import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SimpleFSM } from '../api/simple-fsm.js';
import { ConfigError } from '../errors/index.js';
import { loadConfig, normalizeConfig, parseConfigText } from './index.js';
import { configErrorOf, issuesOf, tempDir } from './test-support/helpers.js';

const env = {};

const network = 'name: main\nstates:\n  - { name: s, is_start: true, is_end: true }\n';

/** A folder outside the config's folder holding one readable config part. */
function outsideFile(): string {
  const dir = tempDir({ 'secret.yaml': 'description: secret\n' });
  return join(dir, 'secret.yaml');
}

describe('$include and $import stay inside the config folder', () => {
  test('../ out of the folder is refused, naming the config path and the file', async () => {
    const secret = outsideFile();
    const dir = tempDir({});
    const main = join(dir, 'main.yaml');
    const rel = join('..', secret.split('/').at(-2) ?? '', 'secret.yaml');
    writeFileSync(main, `name: x\nmetadata:\n  $import: ${rel}\nnetworks: [{ $include: net.yaml }]\n`);
    writeFileSync(join(dir, 'net.yaml'), network);
    const error = await configErrorOf(loadConfig(main, { env }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe('metadata.$import');
    expect(error.issues[0]?.message).toContain(`refusing to read ${secret}`);
    expect(error.issues[0]?.message).toContain('--allow-read');
    expect(error.issues[0]?.file).toBe(main);
  });

  test('an absolute path, /proc/self/environ and /dev/zero are refused', () => {
    const secret = outsideFile();
    const dir = tempDir({});
    for (const file of [secret, '/proc/self/environ', '/etc/passwd', '/dev/zero']) {
      const issues = issuesOf(() =>
        normalizeConfig({ name: 'x', metadata: { $import: file } }, { env, baseDir: dir }),
      );
      expect(issues.map((i) => i.path)).toEqual(['metadata.$import']);
      expect(issues[0]?.message).toMatch(/^refusing to read \/.*outside the folders/);
      // A config object has no file of its own to name; the refused file is in the message.
      expect(issues[0]?.file).toBeUndefined();
    }
  });

  test('a link inside the folder to a file outside is refused; a link to a file inside is fine', () => {
    const secret = outsideFile();
    const dir = tempDir({ 'part.yaml': 'description: inside\n' });
    symlinkSync(secret, join(dir, 'evil.yaml'));
    symlinkSync(join(dir, 'part.yaml'), join(dir, 'alias.yaml'));
    const issues = issuesOf(() => normalizeConfig({ $include: 'evil.yaml' }, { env, baseDir: dir }));
    expect(issues[0]?.path).toBe('$include');
    expect(issues[0]?.message).toContain(`${join(dir, 'evil.yaml')} (${secret})`);
    const { config } = normalizeConfig(
      { $include: 'alias.yaml', name: 'x', states: [{ name: 's', is_start: true, is_end: true }] },
      { env, baseDir: dir },
    );
    expect(config.description).toBe('inside');
  });

  test('a linked folder inside the config folder does not widen it', () => {
    const secret = outsideFile();
    const dir = tempDir({});
    symlinkSync(join(secret, '..'), join(dir, 'shared'));
    const issues = issuesOf(() => normalizeConfig({ $include: 'shared/secret.yaml' }, { env, baseDir: dir }));
    expect(issues[0]?.message).toContain('refusing to read');
  });

  test('nested includes may reach anywhere inside the top folder, not outside it', async () => {
    const dir = tempDir({
      'main.yaml': 'name: x\n$include: parts/a.yaml\nnetworks: [{ $include: net.yaml }]\n',
      'common.yaml': 'description: common\n',
      'net.yaml': network,
    });
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'a.yaml'), '$include: ../common.yaml\n');
    const config = await loadConfig(join(dir, 'main.yaml'), { env });
    expect(config.description).toBe('common');
    writeFileSync(join(dir, 'parts', 'a.yaml'), '$include: ../../x.yaml\n');
    const error = await configErrorOf(loadConfig(join(dir, 'main.yaml'), { env }));
    expect(error.issues[0]?.message).toContain('refusing to read');
  });

  test('allowedRoots widens the folders, after resolving links', async () => {
    const secret = outsideFile();
    const shared = join(secret, '..');
    const dir = tempDir({ 'net.yaml': network });
    const main = join(dir, 'main.yaml');
    writeFileSync(main, `name: x\n$include: ${secret}\nnetworks: [{ $include: net.yaml }]\n`);
    const config = await loadConfig(main, { env, allowedRoots: [shared] });
    expect(config.description).toBe('secret');
    const link = join(mkdtempSync(join(tmpdir(), 'fsm-root-')), 'link');
    symlinkSync(shared, link);
    expect((await loadConfig(main, { env, allowedRoots: [link] })).description).toBe('secret');
    const missing = await configErrorOf(loadConfig(main, { env, allowedRoots: [join(dir, 'nope')] }));
    expect(missing.issues[0]?.message).toMatch(/^allowedRoots\[0\]: cannot resolve/);
  });

  test('SimpleFSM.create takes allowedRoots too', async () => {
    const secret = outsideFile();
    const dir = tempDir({ 'net.yaml': network });
    const main = join(dir, 'main.yaml');
    writeFileSync(main, `name: x\n$include: ${secret}\nnetworks: [{ $include: net.yaml }]\n`);
    await expect(SimpleFSM.create(main, { env })).rejects.toBeInstanceOf(ConfigError);
    const fsm = await SimpleFSM.create(main, { env, allowedRoots: [join(secret, '..')] });
    expect(fsm.config.description).toBe('secret');
    await fsm.close();
  });

  test('only regular files are read: /dev/zero, a FIFO and /proc pseudo-files are refused', () => {
    const dir = tempDir({});
    const fifo = join(dir, 'pipe.yaml');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status).toBe(0);
    const cases: Array<[string, string[], RegExp]> = [
      ['/dev/zero', ['/dev'], /not a regular file/],
      ['pipe.yaml', [], /not a regular file/],
      ['/proc/self/environ', ['/proc'], /holds more than its size says/],
    ];
    for (const [file, allowedRoots, reason] of cases) {
      const issues = issuesOf(() =>
        normalizeConfig({ name: 'x', metadata: { $import: file } }, { env, baseDir: dir, allowedRoots }),
      );
      expect(issues.map((i) => i.path)).toEqual(['metadata.$import']);
      expect(issues[0]?.message).toMatch(reason);
    }
  });

  test('files larger than maxConfigBytes are refused, the top config too', async () => {
    const dir = tempDir({
      'big.yaml': `description: ${'x'.repeat(200)}\n`,
      'top.yaml': 'name: x\n'.repeat(20),
    });
    const issues = issuesOf(() =>
      normalizeConfig({ $include: 'big.yaml' }, { env, baseDir: dir, maxConfigBytes: 100 }),
    );
    expect(issues[0]?.message).toMatch(/larger than the limit of 100 bytes/);
    const error = await configErrorOf(loadConfig(join(dir, 'top.yaml'), { env, maxConfigBytes: 100 }));
    expect(error.issues[0]?.message).toMatch(/larger than the limit of 100 bytes/);
    // The default limit ends an endless top config instead of reading until memory runs out.
    const zero = await configErrorOf(loadConfig('/dev/zero', { env }));
    expect(zero.issues[0]?.message).toMatch(/larger than the limit of 10485760 bytes/);
  });
});

describe('hostile YAML and include graphs', () => {
  test('a self-referencing alias is CONFIG_INVALID naming the file', async () => {
    const dir = tempDir({ 'self.yaml': 'name: x\na: &a [*a]\n' });
    const file = join(dir, 'self.yaml');
    const error = await configErrorOf(loadConfig(file, { env }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues[0]?.file).toBe(file);
    expect(error.issues[0]?.message).toBe(
      `${file} contains itself (a YAML alias used inside its own anchor?)`,
    );
    const nested = issuesOf(() => parseConfigText('m: &m { self: *m }\n', 'inline.yaml'));
    expect(nested[0]?.message).toContain('contains itself');
  });

  test('a billion-laughs file is CONFIG_INVALID naming the file', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, next] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const dir = tempDir({ 'lol.yaml': `${lines.join('\n')}\n` });
    const error = await configErrorOf(loadConfig(join(dir, 'lol.yaml'), { env }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues[0]?.file).toBe(join(dir, 'lol.yaml'));
    expect(error.issues[0]?.message).toMatch(/^YAML cannot be loaded: Excessive alias count/);
  });

  test('too deep nesting is CONFIG_INVALID, in JSON too', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(issuesOf(() => parseConfigText(deep, 'deep.json'))[0]?.message).toBe(
      'deep.json is nested deeper than 1000 levels',
    );
    let value: unknown = 1;
    for (let i = 0; i < 5000; i++) value = { value };
    expect(issuesOf(() => normalizeConfig(value, { env }))[0]?.message).toBe(
      'the config is nested deeper than 1000 levels',
    );
  });

  test('a diamond of includes (30 levels, each including the next twice) resolves each file once', async () => {
    const files: Record<string, string> = { 'net.yaml': network };
    for (let level = 0; level < 30; level++) {
      const next = level < 29 ? `$include: [l${level + 1}.yaml, l${level + 1}.yaml]\n` : '';
      files[`l${level}.yaml`] = `${next}metadata: { l${level}: ${level} }\n`;
    }
    files['main.yaml'] = 'name: x\n$include: [l0.yaml, l0.yaml]\nnetworks: [{ $include: net.yaml }]\n';
    const dir = tempDir(files);
    const config = await loadConfig(join(dir, 'main.yaml'), { env });
    expect(Object.keys(config.metadata ?? {})).toHaveLength(30);
    expect(config.metadata?.l29).toBe(29);
  });

  test('a diamond of imports that doubles the config at each level is refused, not expanded', async () => {
    const files: Record<string, string> = {};
    for (let level = 0; level < 30; level++) {
      files[`l${level}.yaml`] =
        level < 29 ? `a: { $import: l${level + 1}.yaml }\nb: { $import: l${level + 1}.yaml }\n` : 'leaf: 1\n';
    }
    files['main.yaml'] = 'name: x\nmetadata: { $import: l0.yaml }\n';
    const dir = tempDir(files);
    const error = await configErrorOf(loadConfig(join(dir, 'main.yaml'), { env }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues[0]?.message).toMatch(/expands to more than 1000000 values/);
  });

  test('an include cycle through a link is reported once, by real path', async () => {
    const dir = tempDir({ 'a.yaml': 'name: a\n$include: b.yaml\n' });
    symlinkSync(join(dir, 'a.yaml'), join(dir, 'b.yaml'));
    const error = await configErrorOf(loadConfig(join(dir, 'a.yaml'), { env }));
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      ['$include', 'include cycle: a.yaml → a.yaml'],
    ]);
  });

  test('a __proto__ key in a config or an included file stays an own key, nothing inherits from it', () => {
    const dir = tempDir({ 'part.yaml': '__proto__: { polluted: 1 }\n' });
    const raw = parseConfigText(
      'name: x\n$include: part.yaml\n__proto__: { polluted: 2 }\nstates: [{ name: s, is_start: true, is_end: true }]\n',
      join(dir, 'main.yaml'),
    );
    const { config, warnings } = normalizeConfig(raw, { env, baseDir: dir });
    expect(warnings.map((w) => w.path)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect((config as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
