import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStreamSink, describeStreamSource } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSink } from './http-sink.js';
import { HttpSource } from './http-source.js';
import { chunkedUpload, multipartUpload } from './upload.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-io-http-'));
const items = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));
const uploads = new Map<string, Map<number, Buffer>>();
const completed = new Map<string, Buffer>();
const received: unknown[][] = [];
const datasets = new Map<string, Record<string, unknown>[]>();
let chunkedBody: { bytes: number; chunked: boolean; sha: string } | undefined;
let dropPart: number | undefined;
let partAttempts = 0;
let sinkFailures = 0;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (url.pathname.startsWith('/collect/') && req.method === 'POST') {
        const id = url.pathname.slice('/collect/'.length);
        datasets.set(id, [
          ...(datasets.get(id) ?? []),
          ...(JSON.parse(body.toString()) as Record<string, unknown>[]),
        ]);
        return json(200, { ok: true });
      }
      if (url.pathname.startsWith('/dataset/')) {
        const rows = datasets.get(url.pathname.slice('/dataset/'.length)) ?? [];
        const start = Number(url.searchParams.get('after') ?? 0);
        return json(200, {
          data: rows.slice(start, start + 4),
          next: start + 4 < rows.length ? start + 4 : null,
        });
      }
      if (url.pathname === '/cursor') {
        const start = Number(url.searchParams.get('after') ?? 0);
        const page = items.slice(start, start + 10);
        return json(200, { data: page, next: start + 10 < items.length ? String(start + 10) : null });
      }
      if (url.pathname === '/offset') {
        const offset = Number(url.searchParams.get('offset'));
        return json(200, items.slice(offset, offset + Number(url.searchParams.get('limit'))));
      }
      if (url.pathname === '/link') {
        const page = Number(url.searchParams.get('page') ?? 1);
        const link = page < 3 ? { link: `<${base}/link?page=${page + 1}>; rel="next"` } : {};
        return json(200, items.slice((page - 1) * 10, page * 10), link);
      }
      if (url.pathname === '/ingest') {
        if (sinkFailures-- > 0) return json(503, { error: 'busy' }, { 'retry-after': '0' });
        received.push(JSON.parse(body.toString()) as unknown[]);
        return json(200, { ok: true });
      }
      if (url.pathname === '/stream') {
        chunkedBody = {
          bytes: body.length,
          chunked: req.headers['transfer-encoding'] === 'chunked',
          sha: createHash('sha256').update(body).digest('hex'),
        };
        return json(200, { ok: true });
      }
      if (url.pathname === '/uploads' && req.method === 'POST') {
        const id = `u${uploads.size + 1}`;
        uploads.set(id, new Map());
        return json(200, { uploadId: id });
      }
      const part = /^\/uploads\/(\w+)\/parts\/(\d+)$/.exec(url.pathname);
      if (part) {
        const n = Number(part[2]);
        if (n === dropPart && partAttempts++ === 0) {
          // The connection dies mid-part, once: the client must send this part again, and only it.
          req.socket.destroy();
          return;
        }
        uploads.get(part[1] as string)?.set(n, body);
        return json(200, { etag: createHash('md5').update(body).digest('hex') });
      }
      const complete = /^\/uploads\/(\w+)\/complete$/.exec(url.pathname);
      if (complete) {
        const stored = uploads.get(complete[1] as string) as Map<number, Buffer>;
        const list = (JSON.parse(body.toString()) as { parts: { partNumber: number }[] }).parts;
        completed.set(
          complete[1] as string,
          Buffer.concat(list.map((p) => stored.get(p.partNumber) as Buffer)),
        );
        return json(200, { ok: true });
      }
      json(404, { error: 'no route' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function all(source: AsyncIterable<Record<string, unknown>>) {
  const out: Record<string, unknown>[] = [];
  for await (const r of source) out.push(r);
  return out;
}

describeStreamSource('http (cursor pages)', async (rows, { signal }) => {
  const id = String(datasets.size + 1);
  datasets.set(id, rows);
  return new HttpSource({
    url: `${base}/dataset/${id}`,
    pagination: { type: 'cursor', cursorParam: 'after', nextCursorPath: 'next' },
    itemsPath: 'data',
    ...(signal ? { signal } : {}),
  });
});

describeStreamSink('http (JSON batches)', async () => {
  const id = `sink-${datasets.size + 1}`;
  datasets.set(id, []);
  return {
    sink: new HttpSink({ url: `${base}/collect/${id}` }),
    readBack: async () => datasets.get(id) ?? [],
  };
});

describe('HTTP paged reads', () => {
  it('cursor, offset and Link-header pagination read every record once, in order', async () => {
    expect(
      await all(
        new HttpSource({
          url: `${base}/cursor`,
          itemsPath: 'data',
          pagination: { type: 'cursor', cursorParam: 'after', nextCursorPath: 'next' },
        }),
      ),
    ).toEqual(items);
    expect(
      await all(new HttpSource({ url: `${base}/offset`, pagination: { type: 'offset', pageSize: 5 } })),
    ).toEqual(items);
    expect(await all(new HttpSource({ url: `${base}/link`, pagination: { type: 'link' } }))).toEqual(items);
  });
});

describe('HTTP writes', () => {
  it('a sink retries a 503 and delivers each batch once', async () => {
    sinkFailures = 2;
    const sink = new HttpSink({ url: `${base}/ingest`, retryDelayMs: 1 });
    await sink.write([{ a: 1 }, { a: 2 }]);
    await sink.write([{ a: 3 }]);
    expect(received).toEqual([[{ a: 1 }, { a: 2 }], [{ a: 3 }]]);
  });

  it('chunked transfer of a 3 MB file arrives whole', async () => {
    const file = join(dir, 'big.bin');
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    writeFileSync(file, data);
    await chunkedUpload(`${base}/stream`, file);
    expect(chunkedBody).toEqual({
      bytes: data.length,
      chunked: true,
      sha: createHash('sha256').update(data).digest('hex'),
    });
  });

  it('multipart upload resends only the part whose connection dropped, and reassembles the file', async () => {
    const file = join(dir, 'parts.bin');
    const data = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => i % 251));
    writeFileSync(file, data);
    dropPart = 3;
    partAttempts = 0;
    const stored: number[] = [];
    const result = await multipartUpload(file, {
      baseUrl: base,
      partSize: 256 * 1024,
      retryDelayMs: 1,
      onPart: ({ part }) => void stored.push(part.partNumber),
    });
    expect(result.parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
    expect(partAttempts).toBe(2);
    expect(stored).toEqual([1, 2, 3, 4]);
    expect(completed.get(result.uploadId)?.equals(data)).toBe(true);
  });

  it('an interrupted upload resumes from its stored parts', async () => {
    const data = Buffer.alloc(600_000, 3);
    dropPart = undefined;
    const first = await multipartUpload([data.subarray(0, 300_000)], { baseUrl: base, partSize: 200_000 });
    // Pretend the process died after part 1: resume sends parts 2 and 3 only.
    const resumed = await multipartUpload([data], {
      baseUrl: base,
      partSize: 200_000,
      resume: { uploadId: first.uploadId, parts: first.parts.slice(0, 1) },
    });
    expect(resumed.uploadId).toBe(first.uploadId);
    expect(completed.get(first.uploadId)?.equals(data)).toBe(true);
  });

  it('a 404 fails at once with an IoError naming the URL', async () => {
    const sink = new HttpSink({ url: `${base}/nope` });
    await expect(sink.write([{ a: 1 }])).rejects.toMatchObject({
      code: 'IO_FAILED',
      message: expect.stringContaining('/nope'),
    });
  });
});
