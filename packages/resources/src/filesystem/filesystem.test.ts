import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResourceProvider } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { filesystemProvider } from './filesystem-provider.js';
import type { Folder } from './folder.js';

const root = mkdtempSync(join(tmpdir(), 'fsm-fs-resource-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeResourceProvider('filesystem', () => filesystemProvider({ root }), {
  exercise: async (handle) => {
    const folder = handle as Folder;
    await folder.writeText('probe.txt', 'ok');
    expect(await folder.readText('probe.txt')).toBe('ok');
  },
});

describe('Folder', () => {
  it('writes atomically, appends, lists, removes', async () => {
    const folder = await filesystemProvider({ root }).create();
    await folder.writeJson('out/a.json', { a: 1 });
    await folder.appendText('out/log.txt', 'one\n');
    await folder.appendText('out/log.txt', 'two\n');
    expect(await folder.readJson('out/a.json')).toEqual({ a: 1 });
    expect(await folder.readText('out/log.txt')).toBe('one\ntwo\n');
    expect(await folder.list('out')).toEqual(['a.json', 'log.txt']);
    expect(readdirSync(join(root, 'out')).some((f) => f.includes('.tmp-'))).toBe(false);
    await folder.remove('out/a.json');
    expect(await folder.exists('out/a.json')).toBe(false);
  });

  it('refuses paths outside its folder', async () => {
    const folder = await filesystemProvider({ name: 'files', root }).create();
    await expect(folder.readText('../../etc/passwd')).rejects.toMatchObject({
      code: 'RESOURCE_UNAVAILABLE',
      resource: 'files',
    });
    expect(() => folder.resolve('/etc/passwd')).toThrow(/outside the folder/);
  });
});
