import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHistoryStore, sampleHistory } from '@fsm/core/testing';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from './s3-store.js';

const directory = mkdtempSync(join(tmpdir(), 'fsm-s3rver-'));
let server: S3rver;
let endpoint = '';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let n = 0;

beforeAll(async () => {
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'fsm' }],
  });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

describeHistoryStore('s3', () =>
  S3Store.open({ bucket: 'fsm', prefix: `suite-${++n}`, endpoint, credentials }),
);

describe('s3 store', () => {
  it('a missing bucket is a StorageError naming it', async () => {
    await expect(S3Store.open({ bucket: 'nope', endpoint, credentials })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('s3://nope/'),
    });
  });

  it('two stores with different prefixes do not see each other', async () => {
    const a = await S3Store.open({ bucket: 'fsm', prefix: 'tenant-a/', endpoint, credentials });
    const b = await S3Store.open({ bucket: 'fsm', prefix: 'tenant-b/', endpoint, credentials });
    await a.save(sampleHistory({ executionId: 'only-a' }));
    expect(await b.load('only-a')).toBeUndefined();
    expect((await a.load('only-a'))?.executionId).toBe('only-a');
    await Promise.all([a.close(), b.close()]);
  });
});
