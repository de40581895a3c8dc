import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResourceProvider } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { filesystemProvider } from './filesystem-provider.js';
import { Folder, PathOutsideFolderError } from './folder.js';

const root = mkdtempSync(join(tmpdir(), 'fsm-fs-resource-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeResourceProvider('filesystem', () => filesystemProvider({ root }), {
  validHandle: (handle) => handle instanceof Folder,
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
      filePath: '../../etc/passwd',
    });
    await expect(folder.writeText('a/../../escape.txt', 'x')).rejects.toBeInstanceOf(PathOutsideFolderError);
    expect(() => folder.resolve('/etc/passwd')).toThrow(PathOutsideFolderError);
    expect(() => folder.resolve('..')).toThrow(/outside the folder/);
    // A name that merely starts with two dots stays inside.
    await folder.writeText('..notes.txt', 'inside');
    expect(await folder.readText('..notes.txt')).toBe('inside');
  });

  it('a failed write leaves the old content and no temp file; an aborted read rejects', async () => {
    const folder = await filesystemProvider({ root }).create();
    await folder.writeText('keep/a.txt', 'old');
    await expect(folder.writeJson('keep/a.txt', { big: 1n })).rejects.toThrow(/BigInt/);
    expect(await folder.readText('keep/a.txt')).toBe('old');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(folder.readText('keep/a.txt', { signal: controller.signal })).rejects.toThrow();
    await expect(folder.writeText('keep/a.txt', 'new', { signal: controller.signal })).rejects.toThrow();
    expect(await folder.readText('keep/a.txt')).toBe('old');
    expect(readdirSync(join(root, 'keep'))).toEqual(['a.txt']);
  });
});
