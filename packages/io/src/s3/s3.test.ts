import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { describeStreamSource } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Source, s3MultipartUpload } from './s3-io.js';

const directory = mkdtempSync(join(tmpdir(), 'fsm-io-s3-'));
let server: S3rver;
let client: S3Client;

beforeAll(async () => {
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'data' }],
  });
  const { port } = await server.run();
  client = new S3Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});
afterAll(async () => {
  client.destroy();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

async function all(source: AsyncIterable<Record<string, unknown>>) {
  const out: Record<string, unknown>[] = [];
  for await (const r of source) out.push(r);
  return out;
}

let objects = 0;
describeStreamSource('s3 object (jsonl)', async (rows, { signal }) => {
  const key = `conformance/${++objects}.jsonl`;
  await client.send(
    new PutObjectCommand({
      Bucket: 'data',
      Key: key,
      Body: rows.map((row) => `${JSON.stringify(row)}\n`).join(''),
    }),
  );
  return new S3Source({ client, bucket: 'data', key, ...(signal ? { signal } : {}) });
});

describe('S3', () => {
  it('streams CSV and gzipped JSONL objects as records', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: 'data', Key: 'in/orders.csv', Body: 'id,amount\n1,10\n2,20\n' }),
    );
    expect(await all(new S3Source({ client, bucket: 'data', key: 'in/orders.csv', cast: true }))).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
    ]);
    await client.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'in/events.jsonl.gz',
        Body: gzipSync('{"e":1}\n{"e":2}\n'),
      }),
    );
    expect(await all(new S3Source({ client, bucket: 'data', key: 'in/events.jsonl.gz' }))).toEqual([
      { e: 1 },
      { e: 2 },
    ]);
  });

  it('a missing object is an IoError naming it', async () => {
    await expect(all(new S3Source({ client, bucket: 'data', key: 'nope.csv' }))).rejects.toMatchObject({
      code: 'IO_FAILED',
      message: expect.stringContaining('s3://data/nope.csv'),
    });
  });

  it('multipart upload of 11 MiB in 5 MiB parts reassembles the object', async () => {
    const data = Buffer.from(Array.from({ length: 11 * 1024 * 1024 }, (_, i) => i % 256));
    const chunks = Array.from({ length: 11 }, (_, i) =>
      data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024),
    );
    const result = await s3MultipartUpload(chunks, { client, bucket: 'data', key: 'out/big.bin' });
    expect(result).toEqual({ parts: 3, bytes: data.length });
    const object = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'out/big.bin' }));
    const back = Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(back.equals(data)).toBe(true);
  });

  it('an upload to a missing bucket fails with an IoError naming it', async () => {
    await expect(
      s3MultipartUpload([Buffer.from('x')], { client, bucket: 'missing', key: 'k' }),
    ).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining('s3://missing/k') });
  });
});
