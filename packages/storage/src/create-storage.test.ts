import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleHistory } from '@fsm/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage, parseStorageUrl } from './create-storage.js';
import { MemoryStore } from './memory/memory-store.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-create-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseStorageUrl', () => {
  it.each([
    ['memory:', { backend: 'memory' }],
    ['sqlite:./fsm.db', { backend: 'sqlite', path: './fsm.db' }],
    ['sqlite:///var/fsm.db', { backend: 'sqlite', path: '/var/fsm.db' }],
    ['file:./history', { backend: 'file', path: './history' }],
    [
      'postgres://postgres@127.0.0.1:5432/test?schema=fsm',
      { backend: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test', schema: 'fsm' },
    ],
    [
      's3://bucket/runs/prod?endpoint=http://127.0.0.1:9000&region=eu-west-1',
      {
        backend: 's3',
        bucket: 'bucket',
        prefix: 'runs/prod',
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-1',
      },
    ],
  ])('%s', (url, expected) => {
    expect(parseStorageUrl(url)).toEqual(expected);
  });

  it('an unknown scheme is a StorageError naming the URL', () => {
    expect(() => parseStorageUrl('mongodb://x')).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }));
    expect(() => parseStorageUrl('mongodb://x')).toThrow(/mongodb:\/\/x/);
  });
});

describe('createStorage', () => {
  it('opens each local backend from a URL and from options, and they work', async () => {
    const stores = await Promise.all([
      createStorage('memory:'),
      createStorage(`sqlite:${join(dir, 'a.db')}`),
      createStorage({ backend: 'sqlite', path: join(dir, 'b.db') }),
      createStorage(`file:${join(dir, 'files')}`),
      createStorage('postgres://postgres@127.0.0.1:5432/test'),
    ]);
    for (const store of stores) {
      const id = `factory-${Math.random()}`;
      await store.save(sampleHistory({ executionId: id }));
      expect((await store.load(id))?.executionId).toBe(id);
      expect(await store.delete(id)).toBe(true);
      await store.close();
    }
  });

  it('passes a ready store through unchanged (third-party backends plug in with one line)', async () => {
    const mine = new MemoryStore();
    expect(await createStorage(mine)).toBe(mine);
  });

  it('an unknown backend is a StorageError naming it', async () => {
    await expect(createStorage({ backend: 'mongo' } as never)).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('"mongo"'),
    });
  });

  it('a folder that cannot be made fails fast with STORAGE_FAILED naming it (no hang under /proc)', async () => {
    for (const url of ['sqlite:/proc/nope/x.db', 'file:/proc/nope/history', 'sqlite:/proc/a/b/c/x.db']) {
      await expect(createStorage(url)).rejects.toMatchObject({
        code: 'STORAGE_FAILED',
        message: expect.stringMatching(/cannot create folder \/proc\/(nope|a):/),
      });
    }
    writeFileSync(join(dir, 'plain-file'), 'x');
    await expect(createStorage(`file:${join(dir, 'plain-file', 'history')}`)).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining(join(dir, 'plain-file')),
    });
    const store = await createStorage(`sqlite:${join(dir, 'new', 'deeper', 'fsm.db')}`);
    await store.close();
  });
});
