import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

describe('Folder confinement after resolving links', () => {
  /** A folder root holding `file-link` → a file outside and `dir-link` → a folder outside. */
  async function linked() {
    const base = mkdtempSync(join(tmpdir(), 'fsm-fs-links-'));
    const outside = join(base, 'outside');
    const inside = join(base, 'root');
    mkdirSync(outside);
    mkdirSync(inside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(join(outside, 'secret.txt'), join(inside, 'file-link'));
    symlinkSync(outside, join(inside, 'dir-link'));
    writeFileSync(join(inside, 'real.txt'), 'real');
    symlinkSync(join(inside, 'real.txt'), join(inside, 'inner-link'));
    const folder = await filesystemProvider({ name: 'files', root: inside }).create();
    return { base, outside, inside, folder };
  }

  it('refuses to read through a link to a file or folder outside', async () => {
    const { folder, outside } = await linked();
    for (const path of ['file-link', 'dir-link/secret.txt']) {
      await expect(folder.readText(path)).rejects.toMatchObject({
        code: 'RESOURCE_UNAVAILABLE',
        resource: 'files',
        filePath: path,
        resolvedPath: join(outside, 'secret.txt'),
      });
      await expect(folder.readJson(path)).rejects.toBeInstanceOf(PathOutsideFolderError);
      await expect(folder.exists(path)).rejects.toBeInstanceOf(PathOutsideFolderError);
    }
  });

  it('refuses to write or append through a link, even to a new file in a linked folder', async () => {
    const { folder, outside } = await linked();
    for (const path of ['file-link', 'dir-link/secret.txt', 'dir-link/new.txt', 'dir-link/sub/new.txt']) {
      await expect(folder.writeText(path, 'pwned')).rejects.toBeInstanceOf(PathOutsideFolderError);
      await expect(folder.writeJson(path, { pwned: true })).rejects.toBeInstanceOf(PathOutsideFolderError);
      await expect(folder.appendText(path, 'pwned')).rejects.toBeInstanceOf(PathOutsideFolderError);
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses to list a linked folder outside', async () => {
    const { folder } = await linked();
    await expect(folder.list('dir-link')).rejects.toBeInstanceOf(PathOutsideFolderError);
    expect(await folder.list('.')).toEqual(['dir-link', 'file-link', 'inner-link', 'real.txt']);
  });

  it('removes a link itself, never what it points to, and refuses entries inside a linked folder', async () => {
    const { folder, outside, inside } = await linked();
    await expect(folder.remove('dir-link/secret.txt')).rejects.toBeInstanceOf(PathOutsideFolderError);
    await folder.remove('file-link');
    await folder.remove('dir-link');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(readdirSync(inside).sort()).toEqual(['inner-link', 'real.txt']);
  });

  it('follows links that stay inside the folder', async () => {
    const { folder, inside } = await linked();
    expect(await folder.readText('inner-link')).toBe('real');
    await folder.writeText('inner-link', 'rewritten');
    expect(readFileSync(join(inside, 'real.txt'), 'utf8')).toBe('rewritten');
    expect(lstatSync(join(inside, 'inner-link')).isSymbolicLink()).toBe(true);
    await folder.appendText('inner-link', '+');
    expect(await folder.readText('real.txt')).toBe('rewritten+');
  });

  it('a root reached through a link is confined to where the link leads', async () => {
    const { base, inside } = await linked();
    symlinkSync(inside, join(base, 'root-link'));
    const folder = await filesystemProvider({ root: join(base, 'root-link') }).create();
    expect(await folder.readText('real.txt')).toBe('real');
    await expect(folder.readText('file-link')).rejects.toBeInstanceOf(PathOutsideFolderError);
  });
});
